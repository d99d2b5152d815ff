//! The mempool: admission of transactions (checked against the committed state, proofs
//! verified or deferred), bounded pending set, per-source bans, and the log of transactions
//! rejected when their block was built. The solo sequencer and a cluster leader both order
//! from it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use consentry_circuits::token::Token;

use super::admission::AdmissionVerifier;
use super::sources::SourceLimiter;
use super::{Admission, Limits, SOURCE_WINDOW_MS};
use crate::ledger::{Ledger, Rejection, Transaction, TxId, Verifiers};
use crate::store::Store;

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

/// An admitted transaction, its token decoded at admission, its network source, and whether
/// its proof was verified at admission.
type Pending = (TxId, Transaction, Option<Token>, Option<IpAddr>, bool);

#[derive(Default)]
struct Pool {
    /// Admitted transactions with the token decoded at admission and where they came from.
    txs: Vec<Pending>,
    ids: HashSet<TxId>,
    /// Streams with a pending consent change.
    consent_streams: HashSet<String>,
    /// Transactions in a proposal not yet applied ([`Mempool::take_batch`]): still pending,
    /// never proposed twice.
    in_flight: HashSet<TxId>,
}

#[derive(Default)]
struct RejectionLog {
    by_id: HashMap<TxId, Rejection>,
    order: VecDeque<TxId>,
}

/// Transactions rejected when their block was built, by id (the most recent
/// [`REMEMBERED_REJECTIONS`]), so that a status query can say why.
#[derive(Default)]
pub struct Rejections {
    log: Mutex<RejectionLog>,
}

impl Rejections {
    /// Why `id` was rejected, if remembered.
    pub fn get(&self, id: &TxId) -> Option<Rejection> {
        self.log
            .lock()
            .expect("rejection log")
            .by_id
            .get(id)
            .cloned()
    }

    /// Remembers these rejections, forgetting the oldest past the bound.
    pub fn record(&self, rejected: &[(TxId, Rejection)]) {
        let mut log = self.log.lock().expect("rejection log");
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
}

/// The oldest pending transactions, taken for a block ([`Mempool::batch`]).
pub struct PendingBatch {
    /// Their ids, in admission order.
    pub ids: Vec<TxId>,
    /// The transactions.
    pub txs: Vec<Transaction>,
    /// Their tokens as decoded at admission.
    pub tokens: Vec<Option<Token>>,
    /// Whether each token's proof was verified at admission (by this node, with the same
    /// keys): a block need not verify it again.
    pub verified: Vec<bool>,
}

/// Admitted transactions waiting for a block, and the rules that admit them.
///
/// A transaction stays in the mempool until its block is committed (or it is rejected and
/// the rejection recorded), so a status query that looks at the mempool first, then the
/// ledger, then the rejection log never misses it.
pub struct Mempool<S: Store> {
    ledger: Arc<Mutex<Ledger<S>>>,
    pending: Mutex<Pool>,
    rejected: Arc<Rejections>,
    verifiers: Arc<Verifiers>,
    /// Proof checks at admission, batched across concurrent submissions.
    checker: AdmissionVerifier,
    admission: Admission,
    limits: Limits,
    sources: Mutex<SourceLimiter>,
    /// When a block last found a bad proof (ms since the epoch; 0: never).
    last_bad_proof_ms: AtomicU64,
}

impl<S: Store> Mempool<S> {
    /// A mempool admitting against `ledger`, recording block-time rejections in `rejected`.
    pub fn new(
        ledger: Arc<Mutex<Ledger<S>>>,
        rejected: Arc<Rejections>,
        admission: Admission,
        limits: Limits,
    ) -> Self {
        let verifiers = Arc::new(ledger.lock().expect("ledger lock").verifiers().clone());
        let checker = AdmissionVerifier::start(verifiers.clone())
            .expect("starting the admission verifier thread");
        Mempool {
            ledger,
            pending: Mutex::default(),
            rejected,
            verifiers,
            checker,
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

    /// The ledger this mempool admits against.
    pub fn ledger(&self) -> &Arc<Mutex<Ledger<S>>> {
        &self.ledger
    }

    /// The verifying keys, by depth.
    pub fn verifiers(&self) -> &Verifiers {
        &self.verifiers
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
        self.rejected.get(id)
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

    /// Admits a transaction that came from network address `source` (`None`: from this
    /// process): a source that sent too many bad proofs lately is refused
    /// ([`SourceLimiter`]).
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
        // ledger lock, so submissions check in parallel; a proof not verified here is
        // verified in the block's batch.
        let context = self
            .ledger
            .lock()
            .expect("ledger lock")
            .admission_context(now_ms);
        let token = match context.token_of(&tx) {
            Err(
                r @ (Rejection::InvalidField {
                    field: "auth.proof",
                    ..
                }
                | Rejection::CohortProofInvalid(_)),
            ) => {
                // Proof bytes that are not even valid points count as a bad proof, and so
                // does a cohort range proof that fails: each cost the validator a
                // verification.
                self.bad_proof(source, now_ms);
                return Err(r);
            }
            other => other?,
        };
        let untrusted = source.is_some_and(|s| !self.sources.lock().expect("sources").trusted(s));
        let mut verified = false;
        if let (Some(token), true) = (&token, untrusted || self.verify_at_admission(now_ms)) {
            match self.checker.verify(token) {
                Ok(()) => verified = true,
                Err(Rejection::ProofInvalid) => {
                    self.bad_proof(source, now_ms);
                    return Err(Rejection::ProofInvalid);
                }
                Err(other) => return Err(other),
            }
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
            pending.txs.push((id, tx, token, source, verified));
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

    /// The oldest pending transactions, at most [`Limits::max_block_txs`]; they stay pending
    /// until [`Mempool::settle`].
    pub fn batch(&self) -> PendingBatch {
        self.collect(false)
    }

    /// [`Mempool::batch`] for a leader with several proposals in flight: the oldest pending
    /// transactions not in a proposal yet, marked as in one until [`Mempool::settle`] (or
    /// [`Mempool::release`] if the proposal failed).
    pub fn take_batch(&self) -> PendingBatch {
        self.collect(true)
    }

    fn collect(&self, mark: bool) -> PendingBatch {
        let mut pending = self.pending.lock().expect("pending lock");
        let mut batch = PendingBatch {
            ids: Vec::new(),
            txs: Vec::new(),
            tokens: Vec::new(),
            verified: Vec::new(),
        };
        let Pool { txs, in_flight, .. } = &mut *pending;
        for (id, tx, token, _, verified) in txs
            .iter()
            .filter(|(id, ..)| !in_flight.contains(id))
            .take(self.limits.max_block_txs)
        {
            batch.ids.push(*id);
            batch.txs.push(tx.clone());
            batch.tokens.push(token.clone());
            batch.verified.push(*verified);
        }
        if mark {
            in_flight.extend(batch.ids.iter().copied());
        }
        batch
    }

    /// Makes a batch taken by [`Mempool::take_batch`] whose proposal failed available to
    /// the next one.
    pub fn release(&self, ids: &[TxId]) {
        let mut pending = self.pending.lock().expect("pending lock");
        for id in ids {
            pending.in_flight.remove(id);
        }
    }

    /// Number of pending transactions not in a proposal yet ([`Mempool::take_batch`]).
    pub fn unproposed_len(&self) -> usize {
        let pending = self.pending.lock().expect("pending lock");
        pending.txs.len().saturating_sub(pending.in_flight.len())
    }

    /// The most transactions a block takes ([`Limits::max_block_txs`]).
    pub fn max_block_txs(&self) -> usize {
        self.limits.max_block_txs
    }

    /// Removes a batch whose block was built (committed or rejected: the rejections are in
    /// the log by now), counting each proof rejected in it against the source that sent it.
    pub fn settle(&self, ids: &[TxId], now_ms: u64) {
        let sealed: HashSet<TxId> = ids.iter().copied().collect();
        let mut bad_sources = Vec::new();
        {
            let mut pending = self.pending.lock().expect("pending lock");
            for (id, _, _, source, _) in pending.txs.iter().filter(|(id, ..)| sealed.contains(id)) {
                if self.rejected.get(id) == Some(Rejection::ProofInvalid) {
                    bad_sources.push(*source);
                }
            }
            pending.txs.retain(|(id, ..)| !sealed.contains(id));
            let still: HashSet<String> = pending
                .txs
                .iter()
                .filter_map(|(_, tx, ..)| consent_stream(tx))
                .collect();
            pending.consent_streams = still;
            pending.ids.retain(|id| !sealed.contains(id));
            pending.in_flight.retain(|id| !sealed.contains(id));
        }
        for source in bad_sources {
            self.last_bad_proof_ms.store(now_ms, Ordering::Relaxed);
            self.bad_proof(source, now_ms);
        }
    }

    /// Records the rejections of a block built from this mempool's batch.
    pub fn record_rejections(&self, rejected: &[(TxId, Rejection)]) {
        self.rejected.record(rejected);
    }

    /// Forgets every pending transaction (a validator that stops leading: the new leader
    /// orders from its own mempool; clients resubmit what was never committed).
    pub fn clear(&self) {
        *self.pending.lock().expect("pending lock") = Pool::default();
    }
}
