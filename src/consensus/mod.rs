//! Ordering transactions into blocks, behind the [`Sequencer`] trait.
//!
//! [`SoloSequencer`] is the single-validator implementation (a validator with one key is a
//! quorum of one): it admits transactions into a mempool after checking them against the
//! committed state, and seals the pending ones into a block when asked. The multi-validator
//! engine comes behind the same trait; there is no home-made consensus here.

mod sources;

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

pub use sources::{SourceLimiter, TRUSTED_AFTER};

use consentry_circuits::groth::Verifier;
use consentry_circuits::token::Token;

use ed25519_dalek::SigningKey;

use crate::ledger::execute::VerifiedTokens;
use crate::ledger::{Ledger, LedgerError, Rejection, Sealed, Transaction, TxId};
use crate::store::Store;

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
    /// Every check, the Groth16 pairing included (about 1.2 ms of CPU per token): a bad proof
    /// is refused at once, and verified again in the block's batch.
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

/// Most block-time rejections remembered for status queries.
pub const REMEMBERED_REJECTIONS: usize = 10_000;

/// The stream a consent change (share or withdrawal) acts on.
fn consent_stream(tx: &Transaction) -> Option<String> {
    match &tx.body {
        crate::ledger::Body::Consent(c) => Some(c.stream_id.clone()),
        crate::ledger::Body::RevokeConsent(r) => Some(r.stream_id.clone()),
        _ => None,
    }
}

/// An admitted transaction, its token decoded at admission, and its network source.
type Pending = (TxId, Transaction, Option<Token>, Option<IpAddr>);

#[derive(Default)]
struct Mempool {
    /// Admitted transactions with the token decoded at admission and where they came from.
    txs: Vec<Pending>,
    ids: HashSet<TxId>,
    /// Streams with a pending consent change.
    consent_streams: HashSet<String>,
}

#[derive(Default)]
struct RejectionLog {
    by_id: HashMap<TxId, Rejection>,
    order: VecDeque<TxId>,
}

/// One validator ordering and committing blocks itself.
///
/// A transaction stays in the mempool until its block is committed (or it is rejected and
/// the rejection recorded), so a status query that looks at the mempool first, then the
/// ledger, then the rejection log never misses it.
pub struct SoloSequencer<S: Store> {
    ledger: Mutex<Ledger<S>>,
    pending: Mutex<Mempool>,
    rejected: Mutex<RejectionLog>,
    key: SigningKey,
    verifiers: HashMap<u8, Verifier>,
    admission: Admission,
    limits: Limits,
    sources: Mutex<SourceLimiter>,
    /// When a block last found a bad proof (ms since the epoch; 0: never).
    last_bad_proof_ms: AtomicU64,
}

impl<S: Store> SoloSequencer<S> {
    /// A sequencer over `ledger`, signing with the validator key `key`, with the default
    /// [`Limits`].
    pub fn new(ledger: Ledger<S>, key: SigningKey, admission: Admission) -> Self {
        Self::with_limits(ledger, key, admission, Limits::default())
    }

    /// [`SoloSequencer::new`] with other mempool bounds.
    pub fn with_limits(
        ledger: Ledger<S>,
        key: SigningKey,
        admission: Admission,
        limits: Limits,
    ) -> Self {
        let verifiers = ledger.verifiers().clone();
        SoloSequencer {
            ledger: Mutex::new(ledger),
            pending: Mutex::default(),
            rejected: Mutex::default(),
            key,
            verifiers,
            admission,
            limits,
            sources: Mutex::new(SourceLimiter::new(
                limits.bad_proofs_per_source,
                SOURCE_WINDOW_MS,
                limits.source_ban_ms,
            )),
            last_bad_proof_ms: AtomicU64::new(0),
        }
    }

    fn busy(&self) -> Rejection {
        Rejection::Busy {
            reason: format!(
                "the mempool holds {} transactions, its limit",
                self.limits.max_pending
            ),
            retry_after_secs: 1,
        }
    }

    /// Whether a submission at `now_ms` has its proof verified before it is admitted.
    fn verify_at_admission(&self, now_ms: u64) -> bool {
        match self.admission {
            Admission::VerifyProofs => true,
            Admission::DeferProofs => {
                self.pending_len() >= self.limits.verify_above_pending
                    || now_ms
                        < self
                            .last_bad_proof_ms
                            .load(Ordering::Relaxed)
                            .saturating_add(self.limits.verify_after_bad_proof_ms)
            }
        }
    }

    /// Whether a transaction is waiting for a block.
    pub fn is_pending(&self, id: &TxId) -> bool {
        self.pending.lock().expect("pending lock").ids.contains(id)
    }

    /// Number of transactions waiting for a block.
    pub fn pending_len(&self) -> usize {
        self.pending.lock().expect("pending lock").txs.len()
    }

    /// Why a transaction was left out of its block, if remembered.
    pub fn rejection(&self, id: &TxId) -> Option<Rejection> {
        self.rejected
            .lock()
            .expect("rejection log")
            .by_id
            .get(id)
            .cloned()
    }

    /// `Busy` while `source` is refused for having sent too many invalid proofs; the API
    /// asks this before it reads a request's body, so a refused flood costs no decoding.
    pub fn check_source(&self, source: IpAddr, now_ms: u64) -> Result<(), Rejection> {
        self.sources
            .lock()
            .expect("sources lock")
            .check(source, now_ms)
            .map_err(|retry_after_secs| Rejection::Busy {
                reason: "this address sent too many invalid proofs".into(),
                retry_after_secs,
            })
    }

    fn bad_proof(&self, source: Option<IpAddr>, now_ms: u64) {
        if let Some(source) = source {
            self.sources
                .lock()
                .expect("sources lock")
                .bad_proof(source, now_ms);
        }
    }

    /// [`Sequencer::submit`] for a transaction that came from network address `source`: a
    /// source that sent too many bad proofs lately is refused ([`SourceLimiter`]).
    pub fn submit_from(
        &self,
        tx: Transaction,
        source: Option<IpAddr>,
        now_ms: u64,
    ) -> Result<TxId, Rejection> {
        if let Some(source) = source {
            self.check_source(source, now_ms)?;
        }
        let id = tx.id();
        if self.is_pending(&id) {
            return Err(Rejection::Replay(id));
        }
        if self.pending_len() >= self.limits.max_pending {
            return Err(self.busy());
        }
        // Signatures, token decoding (point validation) and the proof run without holding the
        // ledger lock, so submissions check in parallel; the block verifies the proof again in
        // its batch.
        let context = self
            .ledger
            .lock()
            .expect("ledger lock")
            .admission_context(now_ms);
        let token = match context.token_of(&tx) {
            Err(
                r @ Rejection::InvalidField {
                    field: "auth.proof",
                    ..
                },
            ) => {
                // Proof bytes that are not even valid points count as a bad proof.
                self.bad_proof(source, now_ms);
                return Err(r);
            }
            other => other?,
        };
        let untrusted = source.is_some_and(|s| !self.sources.lock().expect("sources").trusted(s));
        let mut verified = false;
        if let (Some(token), true) = (&token, untrusted || self.verify_at_admission(now_ms)) {
            let verifier = self
                .verifiers
                .get(&token.depth)
                .ok_or(Rejection::UnknownDepth(token.depth))?;
            if verifier.verify(token).is_err() {
                self.bad_proof(source, now_ms);
                return Err(Rejection::ProofInvalid);
            }
            verified = true;
        }
        self.ledger
            .lock()
            .expect("ledger lock")
            .check_state(&tx, now_ms)?;
        let stream = consent_stream(&tx);
        {
            let mut pending = self.pending.lock().expect("pending lock");
            if pending.txs.len() >= self.limits.max_pending {
                return Err(self.busy());
            }
            if let Some(stream) = &stream {
                // One consent change per stream and block: checked against committed state,
                // any number of free withdrawals (no proof, no ban) would pass and fill the
                // mempool, of which one could commit.
                if pending.consent_streams.contains(stream) {
                    return Err(Rejection::Busy {
                        reason: "a consent change for this stream is already pending".into(),
                        retry_after_secs: 1,
                    });
                }
            }
            if !pending.ids.insert(id) {
                return Err(Rejection::Replay(id));
            }
            if let Some(stream) = stream {
                pending.consent_streams.insert(stream);
            }
            pending.txs.push((id, tx, token, source));
        }
        // Trust is earned by proofs that were verified and whose transaction was admitted: a
        // replayed public transaction verifies but earns nothing.
        if let (true, Some(source)) = (verified, source) {
            self.sources
                .lock()
                .expect("sources lock")
                .good_proof(source, now_ms);
        }
        Ok(id)
    }

    /// Records an invalid proof from `source` seen outside a submission (e.g. `POST
    /// /v1/tokens/verify`), so that verifying garbage there counts toward its ban too.
    pub fn record_bad_proof(&self, source: Option<IpAddr>, now_ms: u64) {
        self.bad_proof(source, now_ms);
    }

    /// Runs `f` with the ledger locked (queries).
    pub fn with_ledger<T>(&self, f: impl FnOnce(&Ledger<S>) -> T) -> T {
        f(&self.ledger.lock().expect("ledger lock"))
    }
}

impl<S: Store> Sequencer for SoloSequencer<S> {
    fn submit(&self, tx: Transaction, now_ms: u64) -> Result<TxId, Rejection> {
        self.submit_from(tx, None, now_ms)
    }

    fn seal(&self, now_ms: u64) -> Result<Option<Sealed>, LedgerError> {
        let mut ids = Vec::new();
        let mut txs = Vec::new();
        let mut tokens = Vec::new();
        let mut from = HashMap::new();
        for (id, tx, token, source) in self
            .pending
            .lock()
            .expect("pending lock")
            .txs
            .iter()
            .take(self.limits.max_block_txs)
        {
            ids.push(*id);
            txs.push(tx.clone());
            tokens.push(token.clone());
            if let Some(source) = source {
                from.insert(*id, *source);
            }
        }
        if txs.is_empty() {
            return Ok(None);
        }
        // Pairing is the bulk of sealing and needs nothing but the verifying keys: done before
        // the ledger is locked, admission goes on meanwhile.
        let verified = VerifiedTokens::verify(&self.verifiers, tokens);
        let proposal = self
            .ledger
            .lock()
            .expect("ledger lock")
            .propose_admitted(txs, verified, now_ms, &self.key);
        if let Ok(Sealed { rejected, .. }) = &proposal {
            for (id, _) in rejected
                .iter()
                .filter(|(_, r)| *r == Rejection::ProofInvalid)
            {
                self.last_bad_proof_ms.store(now_ms, Ordering::Relaxed);
                self.bad_proof(from.get(id).copied(), now_ms);
            }
            let mut log = self.rejected.lock().expect("rejection log");
            for (id, reason) in rejected {
                log.by_id.insert(*id, reason.clone());
                log.order.push_back(*id);
                if log.order.len() > REMEMBERED_REJECTIONS {
                    if let Some(old) = log.order.pop_front() {
                        log.by_id.remove(&old);
                    }
                }
            }
        }
        // Committed or rejected: either way they leave the mempool (after the log is written).
        let sealed: HashSet<TxId> = ids.into_iter().collect();
        let mut pending = self.pending.lock().expect("pending lock");
        pending.txs.retain(|(id, ..)| !sealed.contains(id));
        let still: HashSet<String> = pending
            .txs
            .iter()
            .filter_map(|(_, tx, ..)| consent_stream(tx))
            .collect();
        pending.consent_streams = still;
        pending.ids.retain(|id| !sealed.contains(id));
        proposal.map(Some)
    }
}
