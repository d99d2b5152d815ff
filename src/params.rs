//! Where the Groth16 parameters live and how the node and the CLI load them.
//!
//! The directory is `--params DIR` when given, else `$CONSENTRY_PARAMS`, else `./params` when
//! it exists, else the `params/` directory of the source tree this binary was built from (so
//! `cargo run` works from any directory). Every key is checked against `SHA256SUMS` before it
//! is deserialized, and every point is validated while deserializing.

use std::path::{Path, PathBuf};

use std::collections::HashMap;

use consentry_circuits::groth::{self, ParamsError, Prover, Verifier};

use crate::ledger::{Genesis, Hash32, LoadedKey};

/// The parameter directory to use, following the precedence above.
pub fn resolve_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(dir) = explicit {
        return dir.to_path_buf();
    }
    if let Some(dir) = std::env::var_os("CONSENTRY_PARAMS") {
        return PathBuf::from(dir);
    }
    let local = PathBuf::from("params");
    if local.join(groth::MANIFEST_FILE).exists() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("params")
}

/// Loads the proving key for `depth` from `dir`.
pub fn load_prover(dir: &Path, depth: usize) -> Result<Prover, ParamsError> {
    let pk = groth::load_proving_key(dir, depth)?;
    Prover::new(depth, pk).map_err(|e| ParamsError::Setup(e.to_string()))
}

/// Loads and prepares the verifying key for `depth` from `dir`; also returns its digest.
pub fn load_verifier(dir: &Path, depth: usize) -> Result<(Verifier, [u8; 32]), ParamsError> {
    let (vk, digest) = groth::load_verifying_key(dir, depth)?;
    Ok((Verifier::new(depth, &vk), digest))
}

/// Loads the verifying key of every depth the genesis accepts (digests are compared with the
/// genesis by the ledger).
pub fn load_genesis_keys(
    dir: &Path,
    genesis: &Genesis,
) -> Result<HashMap<u8, LoadedKey>, ParamsError> {
    let mut keys = HashMap::new();
    for entry in &genesis.verifying_keys {
        let (verifier, digest) = load_verifier(dir, entry.depth as usize)?;
        keys.insert(
            entry.depth,
            LoadedKey {
                verifier,
                digest: Hash32(digest),
            },
        );
    }
    Ok(keys)
}
