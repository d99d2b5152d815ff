//! Where each depth's Groth16 keys come from.
//!
//! A depth whose proving and verifying keys are listed in the parameter directory's manifest
//! uses them as they are (the shipped development keys for depth 20). Any other depth gets
//! keys from the seeded development setup, exactly what `consentry setup --dev --depth N`
//! makes, written with their manifest into a scratch directory; `key_load` then loads them
//! from those files the same way, digest check and point validation included. The setup's
//! time is reported on its own and is not part of any figure.
//!
//! Keys listed in the manifest that fail to load (digest mismatch, invalid points) are an
//! error naming the file: the bench never silently replaces keys it was pointed at.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use consentry_circuits::groth::{self, Manifest, DEV_SEED};

use super::BenchError;

/// Where a depth's keys came from.
#[derive(Debug, Clone, PartialEq)]
pub enum KeySource {
    /// Listed in the parameter directory's manifest.
    Params(PathBuf),
    /// Made by the seeded development setup (INSECURE keys, fine for timing), taking `setup`.
    Generated {
        /// How long the setup took (excluded from every figure).
        setup: Duration,
    },
}

/// The directory holding a depth's keys and manifest, and where they came from.
#[derive(Debug, Clone)]
pub struct DepthKeys {
    /// Directory with `access-d{depth}.pk`, `.vk` and `SHA256SUMS`.
    pub dir: PathBuf,
    /// Their origin.
    pub source: KeySource,
}

/// Finds the keys for `depth` in `params`, or generates them into `scratch`.
pub fn obtain(params: &Path, depth: usize, scratch: &Path) -> Result<DepthKeys, BenchError> {
    let err = |cause| BenchError::Params { depth, cause };
    let manifest = Manifest::read(params).map_err(err)?;
    let listed = [groth::pk_file_name(depth), groth::vk_file_name(depth)]
        .iter()
        .all(|name| manifest.entries.contains_key(name));
    if listed {
        return Ok(DepthKeys {
            dir: params.to_path_buf(),
            source: KeySource::Params(params.to_path_buf()),
        });
    }
    let started = Instant::now();
    let (pk, vk) = groth::setup_from_seed(depth, DEV_SEED).map_err(err)?;
    let setup = started.elapsed();
    groth::write_keys(scratch, depth, &pk, &vk).map_err(err)?;
    Ok(DepthKeys {
        dir: scratch.to_path_buf(),
        source: KeySource::Generated { setup },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_keys_are_used_and_missing_ones_generated() {
        let shipped = crate::params::resolve_dir(None);
        let scratch = tempfile::tempdir().unwrap();
        let k = obtain(&shipped, 20, scratch.path()).unwrap();
        assert_eq!(k.source, KeySource::Params(shipped.clone()));

        let k = obtain(&shipped, 4, scratch.path()).unwrap();
        assert!(matches!(k.source, KeySource::Generated { .. }));
        assert_eq!(k.dir, scratch.path());
        groth::load_proving_key(&k.dir, 4).unwrap();
        groth::load_verifying_key(&k.dir, 4).unwrap();
    }

    #[test]
    fn broken_listed_keys_are_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (pk, vk) = groth::setup_from_seed(2, [1; 32]).unwrap();
        groth::write_keys(dir.path(), 2, &pk, &vk).unwrap();
        // The key loaded is the uncompressed one, the compressed one with the checked load.
        std::fs::write(dir.path().join(groth::pk_raw_file_name(2)), b"tampered").unwrap();
        std::fs::write(dir.path().join(groth::pk_file_name(2)), b"tampered").unwrap();
        let k = obtain(dir.path(), 2, dir.path()).unwrap();
        let err = groth::load_proving_key(&k.dir, 2).unwrap_err();
        assert!(err.to_string().contains("access-d2.pk.raw"), "{err}");
        let err = groth::load_proving_key_checked(&k.dir, 2).unwrap_err();
        assert!(err.to_string().contains("access-d2.pk"), "{err}");
    }
}
