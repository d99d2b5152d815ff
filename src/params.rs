//! Where the Groth16 parameters live and how the node and the CLI load them.
//!
//! The directory is `--params DIR` when given, else `$CONSENTRY_PARAMS`, else `./params` when
//! it exists, else the `params/` directory of the source tree this binary was built from (so
//! `cargo run` works from any directory). Every key is checked against `SHA256SUMS` before it
//! is deserialized; [`groth::load_proving_key`] says when the points are validated again.

use std::path::{Path, PathBuf};

use std::collections::HashMap;

use consentry_circuits::escrow::groth::EscrowProver;
use consentry_circuits::escrow::InspectorKey;
use consentry_circuits::groth::{self, Circuit, ParamsError, Prover, Verifier};

use crate::ledger::{genesis_key_ids, Genesis, Hash32, LoadedKey, LoadedKeys};

/// SHA-256 of the shipped depth-20 verifying keys (the access circuit's, then the dev
/// inspector's escrow circuit's), made from **public** dev seeds
/// (`params/INSECURE-DEV-KEYS.md`): anyone can forge tokens under them. A node refuses a
/// chain whose genesis accepts one unless started with `--dev`; a test pins these constants
/// to the shipped files.
pub const DEV_VK_DIGESTS: [[u8; 32]; 2] = [
    hex_literal(b"5e66817979237d2d1e22c097364e23408715a77db441a24b8be38e2708773343"),
    hex_literal(b"01a456f578aa1c528098475ba038c538efcc1aa9ac46c79d1af83f31ad8c94af"),
];

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

/// Whether `genesis` accepts a verifying key made from a public dev seed (the access
/// circuit's or the dev inspector's escrow circuit's), or names the dev inspector, whose
/// secret is public.
pub fn accepts_dev_keys(genesis: &Genesis) -> bool {
    let dev_inspector = consentry_circuits::escrow::InspectorSecret::dev()
        .public()
        .to_bytes();
    genesis_key_ids(genesis)
        .iter()
        .any(|(_, digest)| DEV_VK_DIGESTS.contains(&digest.0))
        || genesis
            .inspector
            .as_ref()
            .is_some_and(|i| i.escrow_key == dev_inspector)
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

/// Loads and prepares the escrow circuit's verifying key for `depth` from `dir`; also
/// returns its digest.
pub fn load_escrow_verifier(dir: &Path, depth: usize) -> Result<(Verifier, [u8; 32]), ParamsError> {
    let (vk, digest) = groth::load_circuit_verifying_key(dir, Circuit::Escrow, depth)?;
    let verifier = Verifier::escrow(depth, &vk).map_err(|e| ParamsError::Setup(e.to_string()))?;
    Ok((verifier, digest))
}

/// The escrow circuit's prover for `depth` and `inspector`, with the proving key from `dir`
/// (made for that inspector: a key of another makes proofs the chain refuses).
pub fn load_escrow_prover(
    dir: &Path,
    depth: usize,
    inspector: InspectorKey,
) -> Result<EscrowProver, ParamsError> {
    EscrowProver::load_with(depth, inspector, groth::Preparation::Direct, || {
        groth::load_circuit_proving_key(dir, Circuit::Escrow, depth)
    })
}

/// Loads every verifying key the genesis accepts: the access circuit's of each depth and the
/// inspector's escrow circuit's (digests are compared with the genesis by the ledger).
pub fn load_genesis_keys(dir: &Path, genesis: &Genesis) -> Result<LoadedKeys, ParamsError> {
    let mut keys = HashMap::new();
    for (id, _) in genesis_key_ids(genesis) {
        let load = if id.escrow {
            load_escrow_verifier
        } else {
            load_verifier
        };
        let (verifier, digest) = load(dir, id.depth as usize)?;
        keys.insert(
            id,
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
        assert_eq!(DEV_VK_DIGESTS[0], digest);
        let (verifier, digest) = load_escrow_verifier(&dir, 20).expect("shipped escrow key");
        assert_eq!(DEV_VK_DIGESTS[1], digest);
        assert!(verifier.escrowed());
    }
}
