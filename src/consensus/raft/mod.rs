//! The consortium engine: [openraft](https://docs.rs/openraft/0.9) orders block proposals
//! among the genesis validators; every validator executes each committed proposal itself.
//!
//! - The Raft log carries [`Proposal`]s: the leader takes admitted transactions from its
//!   mempool, fixes their order and the block time, signs that with its validator key and
//!   appends one entry.
//! - The state machine ([`LedgerStateMachine`]) applies each committed proposal to the ledger
//!   deterministically: every token batch-verified here, every rule of the ledger checked
//!   here, so every validator builds the same block (or none, when every transaction is
//!   rejected). Nothing the leader says is taken on trust but the order and the time.
//! - Each validator signs the header of every block it built; the signatures are exchanged
//!   afterwards and a block is final once a quorum of genesis validators signed it.
//! - The log, the vote and the snapshots live in the validator's RocksDB, in their own column
//!   families ([`LogStore`]); a block and the applied point are one atomic write.
//!
//! Failure model: crash faults of a minority are tolerated (Raft needs a majority up). A
//! Byzantine leader can delay, reorder or drop transactions and choose the block time, but
//! cannot make an honest validator accept an invalid transaction or sign a block it did not
//! build itself. Tolerating Byzantine validators fully needs a BFT ordering engine (e.g.
//! HotStuff, Tendermint) in place of Raft: Raft trusts a leader's log and votes.

mod log_store;
mod state_machine;

use std::io::Cursor;

use consentry_circuits::field::sha256_tagged;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

pub use log_store::LogStore;
pub use state_machine::{Applied, LedgerStateMachine};

use crate::ledger::types::hex_bytes;
use crate::ledger::{Transaction, TxId};

/// A validator's Raft node id: its 1-based position in the genesis `validators` list.
pub type NodeId = u64;

openraft::declare_raft_types!(
    /// The engine's types: proposals in, outcomes out, validators addressed by their
    /// position in the genesis.
    pub TypeConfig:
        D = Proposal,
        R = Outcome,
        NodeId = NodeId,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = openraft::TokioRuntime,
);

/// The Raft handle of a validator.
pub type Raft = openraft::Raft<TypeConfig>;

/// One transaction in its canonical bytes (hex in JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxBytes(#[serde(with = "hex::serde")] pub Vec<u8>);

/// A block proposal: the order and time a leader fixed for some admitted transactions,
/// signed with its validator key so that the block's `proposer` is the validator that
/// really proposed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// The proposing validator ([`NodeId`]).
    pub proposer: NodeId,
    /// The block time the leader chose, milliseconds since the epoch (a block's time is
    /// never before its predecessor's: the ledger takes the later of the two).
    pub time_ms: u64,
    /// The transactions, in order.
    pub txs: Vec<TxBytes>,
    /// The proposer's Ed25519 signature over [`Proposal::digest`].
    #[serde(with = "hex_bytes")]
    pub signature: [u8; 64],
}

impl Proposal {
    /// What the proposer signs: the chain, itself, the time and the transaction ids.
    pub fn digest(chain_id: &str, proposer: NodeId, time_ms: u64, ids: &[TxId]) -> [u8; 32] {
        let mut data = chain_id.as_bytes().to_vec();
        data.push(0);
        data.extend_from_slice(&proposer.to_be_bytes());
        data.extend_from_slice(&time_ms.to_be_bytes());
        for id in ids {
            data.extend_from_slice(&id.0);
        }
        sha256_tagged(b"consentry/v1/block-proposal", &data)
    }

    /// A signed proposal of `txs`.
    pub fn new(
        chain_id: &str,
        proposer: NodeId,
        key: &SigningKey,
        time_ms: u64,
        txs: &[Transaction],
    ) -> Proposal {
        let ids: Vec<TxId> = txs.iter().map(Transaction::id).collect();
        let digest = Self::digest(chain_id, proposer, time_ms, &ids);
        Proposal {
            proposer,
            time_ms,
            txs: txs.iter().map(|t| TxBytes(t.to_bytes())).collect(),
            signature: key.sign(&digest).to_bytes(),
        }
    }

    /// The transactions and the proposer's key, if the proposal is well formed and signed by
    /// the genesis validator it names; `None` otherwise (every validator then skips it).
    pub fn open(
        &self,
        chain_id: &str,
        validators: &[[u8; 32]],
    ) -> Option<(Vec<Transaction>, [u8; 32])> {
        let index = usize::try_from(self.proposer).ok()?.checked_sub(1)?;
        let key = *validators.get(index)?;
        let txs: Vec<Transaction> = self
            .txs
            .iter()
            .map(|b| Transaction::from_bytes(&b.0))
            .collect::<Result<_, _>>()
            .ok()?;
        let ids: Vec<TxId> = txs.iter().map(Transaction::id).collect();
        let digest = Self::digest(chain_id, self.proposer, self.time_ms, &ids);
        VerifyingKey::from_bytes(&key)
            .ok()?
            .verify_strict(&digest, &Signature::from_bytes(&self.signature))
            .ok()?;
        Some((txs, key))
    }
}

/// What applying one log entry did on this validator.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// The height of the block it made, if any.
    pub height: Option<u64>,
    /// Transactions committed.
    pub accepted: usize,
    /// Transactions rejected (their reasons are in the validator's rejection log).
    pub rejected: usize,
    /// The proposal was not signed by the validator it names (or did not decode): skipped.
    pub refused: bool,
}

/// The Raft timing and compaction settings of a validator.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Leader heartbeat, ms.
    pub heartbeat_ms: u64,
    /// Election timeout range, ms: a follower that hears no leader for this long stands.
    pub election_ms: (u64, u64),
    /// A snapshot is built after this many applied entries, and the log before it purged ...
    pub snapshot_every: u64,
    /// ... but for this many entries, which a follower that fell a little behind can still
    /// fetch instead of a whole snapshot.
    pub snapshot_keep: u64,
}

impl Default for Timing {
    /// Heartbeats every 100 ms and elections after 600–1,200 ms of silence: a crashed leader
    /// is replaced well within 3 s on a LAN. A snapshot every 1,000 entries bounds the log.
    fn default() -> Self {
        Timing {
            heartbeat_ms: 100,
            election_ms: (600, 1_200),
            snapshot_every: 1_000,
            snapshot_keep: 64,
        }
    }
}

/// The openraft configuration for `timing`.
pub fn config(chain_id: &str, timing: Timing) -> Result<openraft::Config, String> {
    let config = openraft::Config {
        cluster_name: chain_id.to_string(),
        heartbeat_interval: timing.heartbeat_ms,
        election_timeout_min: timing.election_ms.0,
        election_timeout_max: timing.election_ms.1,
        // A block proposal can be a few MiB: send a few at a time.
        max_payload_entries: 16,
        snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(timing.snapshot_every),
        max_in_snapshot_log_to_keep: timing.snapshot_keep,
        install_snapshot_timeout: 10_000,
        snapshot_max_chunk_size: 4 * 1024 * 1024,
        ..Default::default()
    };
    config.validate().map_err(|e| e.to_string())
}
