//! Validator-to-validator traffic, on its own listener (`--peer-listen`): the Raft RPCs,
//! transactions forwarded to the leader, and the exchange of block signatures. Every request
//! and response is authenticated with the genesis validator keys ([`auth`]); the public API
//! never serves these routes.

pub mod auth;
pub mod client;
pub mod network;

use serde::{Deserialize, Serialize};

pub use client::{Faults, Peer, PeerClient, PeerError};

use crate::ledger::{BlockSignature, Hash32, Transaction};

/// Path of a transaction forwarded to the leader.
pub const FORWARD_PATH: &str = "/peer/v1/transactions";
/// Path of the block-signature exchange.
pub const SIGNATURES_PATH: &str = "/peer/v1/signatures";

/// A transaction a validator received from a client and forwards to the leader.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Forward {
    /// The transaction.
    pub tx: Transaction,
    /// The client's address as the forwarding validator saw it (for the leader's per-source
    /// limits).
    pub source: Option<std::net::IpAddr>,
}

/// The leader's answer to a forwarded transaction it admitted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Forwarded {
    /// The transaction id (hex).
    pub id: String,
}

/// Ask for the signatures a validator holds on blocks `from..=to` (at most
/// [`MAX_SIGNATURE_RANGE`] heights).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignaturesRequest {
    /// First height.
    pub from: u64,
    /// Last height.
    pub to: u64,
}

/// Most heights asked in one [`SignaturesRequest`].
pub const MAX_SIGNATURE_RANGE: u64 = 256;

/// One block's header hash and the signatures a validator holds for it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignedHeader {
    /// Height.
    pub height: u64,
    /// The header hash at that validator.
    pub header_hash: Hash32,
    /// The signatures it holds (its own among them).
    pub signatures: Vec<BlockSignature>,
}

/// A validator's answer to a [`SignaturesRequest`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Signatures {
    /// Its tip height.
    pub height: u64,
    /// The blocks it has in the range asked.
    pub blocks: Vec<SignedHeader>,
}
