//! Consentry's zero-knowledge core: the presentation-token circuit and its native twins.
//!
//! - [`poseidon`]: the domain-separated Poseidon hash (native and gadget).
//! - [`credential`]: institution secrets, identities, attributes and registry leaves.
//! - [`registry`]: the append-only credential Merkle tree (native and gadget).
//! - [`access`]: the access circuit, its public inputs and witness.
//! - [`groth`]: Groth16 keys, manifest, prover, verifier and batch verifier.
//! - [`token`]: the token and its binary and JSON encodings.
//! - [`field`]: field-element encodings and byte-to-field maps.

#![deny(missing_docs)]

pub mod access;
pub mod cohort;
pub mod credential;
pub mod escrow;
pub mod field;
pub mod groth;
pub mod poseidon;
pub mod registry;
pub mod serde_fr;
pub mod token;

pub use ark_bls12_381::Fr;
