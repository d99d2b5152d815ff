//! Groth16 over BLS12-381 for the access circuit: key generation, the key files and their
//! manifest, proving, and single and batch verification.

mod batch;
mod blst_bridge;

pub use blst_bridge::{decompress_g1, decompress_g2};
mod fixed_msm;
mod keys;
mod manifest;
mod proof_cache;
mod prover;
mod verifier;

pub use fixed_msm::Preparation;
pub use keys::{
    decode_proving_key, decode_verifying_key, load_circuit_proving_key, load_circuit_verifying_key,
    load_proving_key, load_proving_key_checked, load_verifying_key, pk_file_name, pk_raw_file_name,
    setup, setup_from_seed, vk_file_name, write_circuit_keys, write_keys, Circuit, DEV_ESCROW_SEED,
    DEV_SEED,
};
pub use manifest::{sha256_file, Manifest, ParamsError, MANIFEST_FILE};
pub use proof_cache::ProofCache;
pub use prover::{ProveError, Prover};
pub use verifier::{BatchError, KeyShapeError, Verifier, VerifyError};

/// The pairing-friendly curve of every token.
pub type Curve = ark_bls12_381::Bls12_381;
/// A Groth16 proof (A, B, C).
pub type Proof = ark_groth16::Proof<Curve>;
/// A Groth16 proving key for the access circuit.
pub type ProvingKey = ark_groth16::ProvingKey<Curve>;
/// A Groth16 verifying key for the access circuit.
pub type VerifyingKey = ark_groth16::VerifyingKey<Curve>;
