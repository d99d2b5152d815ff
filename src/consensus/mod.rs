//! Ordering transactions into blocks, behind the [`Sequencer`] trait.
//!
//! Both engines admit transactions into a [`Mempool`] after checking them against the
//! committed state. [`SoloSequencer`] is the single-validator one: it seals the pending
//! transactions into a block itself. [`raft`] is the consortium one: openraft orders block
//! proposals among the genesis validators, every validator executes each proposal itself and
//! signs the block it built. There is no home-made consensus here.

mod admission;
mod mempool;
pub mod raft;
mod solo;
mod sources;

pub use admission::{AdmissionVerifier, MAX_BATCH};
pub use mempool::{Mempool, PendingBatch, Rejections, REMEMBERED_REJECTIONS};
pub use solo::SoloSequencer;
pub use sources::{SourceLimiter, TRUSTED_AFTER};

use crate::ledger::{LedgerError, Rejection, Sealed, Transaction, TxId};

/// Most transactions waiting for a block; past it, submissions are refused with
/// [`Rejection::Busy`] (HTTP 429 with `Retry-After`).
pub const MAX_PENDING: usize = 10_000;
/// Most transactions in one block: a seal takes the oldest this many and leaves the rest for
/// the next, so one block's batch verification (and, with bad proofs, its bisection) stays
/// bounded however full the mempool is.
pub const MAX_BLOCK_TXS: usize = 2_000;
/// With deferred proof checks, proofs are verified at admission anyway once this many
/// transactions are pending: a flood of garbage proofs made of valid points cannot fill the
/// mempool for blocks to bisect.
pub const VERIFY_ABOVE_PENDING: usize = 1_000;
/// ... and for this long after a block found a bad proof.
pub const VERIFY_AFTER_BAD_PROOF_MS: u64 = 10_000;
/// A network source that sent this many invalid proofs within [`SOURCE_WINDOW_MS`] ...
pub const BAD_PROOFS_PER_SOURCE: usize = 5;
/// ... (this window) ...
pub const SOURCE_WINDOW_MS: u64 = 60_000;
/// ... is refused for this long ([`SourceLimiter`]).
pub const SOURCE_BAN_MS: u64 = 60_000;

/// What a consensus engine offers the node.
pub trait Sequencer {
    /// Admits a transaction for ordering, or says why it is refused.
    fn submit(&self, tx: Transaction, now_ms: u64) -> Result<TxId, Rejection>;
    /// Orders the pending transactions into the next committed block, if there are any
    /// (`None` when nothing is pending; no block when every transaction is rejected).
    fn seal(&self, now_ms: u64) -> Result<Option<Sealed>, LedgerError>;
}

/// How much a validator checks before admitting a transaction into its mempool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Every check, the Groth16 pairing included: a bad proof is refused at once. Concurrent
    /// submissions are verified together ([`AdmissionVerifier`]: about 0.9 ms of CPU for a
    /// lone token, 0.12–0.3 ms each in a batch), and the block does not verify them again.
    VerifyProofs,
    /// Every check but the pairing (token decoding, point validation, root window, day,
    /// policy, replay...); the proof is verified once, in the block's batch verification
    /// (about 0.25 ms per token), and a bad one is rejected when the block is built. This is
    /// what lets one validator commit over a thousand tokens a second. Under pressure it
    /// falls back to [`Admission::VerifyProofs`]: while more than [`VERIFY_ABOVE_PENDING`]
    /// transactions are pending, and for [`VERIFY_AFTER_BAD_PROOF_MS`] after a block found a
    /// bad proof.
    DeferProofs,
}

/// The mempool's bounds (see the constants of the same names for the defaults and why).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// [`MAX_PENDING`].
    pub max_pending: usize,
    /// [`MAX_BLOCK_TXS`].
    pub max_block_txs: usize,
    /// [`VERIFY_ABOVE_PENDING`].
    pub verify_above_pending: usize,
    /// [`VERIFY_AFTER_BAD_PROOF_MS`].
    pub verify_after_bad_proof_ms: u64,
    /// [`BAD_PROOFS_PER_SOURCE`].
    pub bad_proofs_per_source: usize,
    /// [`SOURCE_BAN_MS`].
    pub source_ban_ms: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pending: MAX_PENDING,
            max_block_txs: MAX_BLOCK_TXS,
            verify_above_pending: VERIFY_ABOVE_PENDING,
            verify_after_bad_proof_ms: VERIFY_AFTER_BAD_PROOF_MS,
            bad_proofs_per_source: BAD_PROOFS_PER_SOURCE,
            source_ban_ms: SOURCE_BAN_MS,
        }
    }
}
