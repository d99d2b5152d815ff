//! Consentry: a privacy-preserving consent ledger for medical data sharing.
//!
//! This crate is the node and its command-line tools; the zero-knowledge core (Poseidon, the
//! credential registry, the access circuit, Groth16 tokens) lives in [`consentry_circuits`].
//!
//! - [`cli`]: the `consentry` command (setup, identities, proving, verifying).
//! - [`files`]: the on-disk formats the commands read and write (identity, leaf list, token).
//! - [`params`]: locating and loading the Groth16 parameter directory.
//! - [`ledger`]: transactions, validation, blocks and chain state.
//! - [`store`]: the storage trait and its RocksDB implementation.
//! - [`node`]: a validator node (ledger, sequencer, block loop, metrics).
//! - [`api`]: the HTTP API over a node.
//! - [`client`]: the HTTP client and local transaction builders.
//! - [`demo`]: the one-command story on an embedded node.
//! - [`consensus`]: the sequencer interface between the ledger and an ordering engine.
//! - [`bench`](mod@bench): the measurements behind `consentry bench`.

#![deny(missing_docs)]

pub mod api;
pub mod bench;
pub mod cli;
pub mod client;
pub mod cohort;
pub mod consensus;
pub mod datanode;
pub mod delivery;
pub mod demo;
pub mod files;
pub mod ledger;
pub mod node;
pub mod params;
pub mod peer;
pub mod store;

pub use consentry_circuits as circuits;
