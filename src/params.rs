//! Where the Groth16 parameters live and how the node and the CLI load them.
//!
//! The directory is `--params DIR` when given, else `$CONSENTRY_PARAMS`, else `./params` when
//! it exists, else the `params/` directory of the source tree this binary was built from (so
//! `cargo run` works from any directory). Every key is checked against `SHA256SUMS` before it
//! is deserialized; [`groth::load_proving_key`] says when the points are validated again.

use std::path::{Path, PathBuf};

use std::collections::HashMap;

use consentry_circuits::groth::{self, ParamsError, Prover, Verifier};

use crate::ledger::{Genesis, Hash32, LoadedKey};

/// SHA-256 of the shipped depth-20 verifying key, made from the **public** dev seed
/// (`params/INSECURE-DEV-KEYS.md`): anyone can forge tokens under it. A node refuses a chain
/// whose genesis accepts it unless started with `--dev`; a test pins this constant to the
/// shipped file.
pub const DEV_VK_DIGESTS: [[u8; 32]; 1] = [hex_literal(
    b"5e66817979237d2d1e22c097364e23408715a77db441a24b8be38e2708773343",
)];

const fn hex_literal(s: &[u8; 64]) -> [u8; 32] {
    const fn nibble(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("not a lowercase hex digit"),
        }
    }
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(s[2 * i]) << 4 | nibble(s[2 * i + 1]);
        i += 1;
    }
    out
}

/// Whether `genesis` accepts a verifying key made from the public dev seed.
pub fn accepts_dev_keys(genesis: &Genesis) -> bool {
    genesis
        .verifying_keys
        .iter()
        .any(|k| DEV_VK_DIGESTS.contains(&k.digest.0))
}

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

/// The prover for `depth` with the proving key from `dir`, bases used directly (one proof per
/// process); the key loads while the matrices are derived ([`Prover::load_with`]).
pub fn load_prover(dir: &Path, depth: usize) -> Result<Prover, ParamsError> {
    Prover::load_with(depth, groth::Preparation::Direct, || {
        groth::load_proving_key(dir, depth)
    })
}

/// Loads and prepares the verifying key for `depth` from `dir`; also returns its digest.
pub fn load_verifier(dir: &Path, depth: usize) -> Result<(Verifier, [u8; 32]), ParamsError> {
    let (vk, digest) = groth::load_verifying_key(dir, depth)?;
    let verifier = Verifier::new(depth, &vk).map_err(|e| ParamsError::Setup(e.to_string()))?;
    Ok((verifier, digest))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The pinned dev digest is the shipped key's: if the dev keys are regenerated, this
    /// fails until the constant follows.
    #[test]
    fn the_pinned_dev_digest_is_the_shipped_keys() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("params");
        let (_, digest) = load_verifier(&dir, 20).expect("shipped key");
        assert!(DEV_VK_DIGESTS.contains(&digest));
    }
}
