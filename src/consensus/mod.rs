//! Ordering transactions into blocks, behind the [`Sequencer`] trait.
//!
//! [`SoloSequencer`] is the single-validator implementation (a validator with one key is a
//! quorum of one): it admits transactions into a mempool after checking them against the
//! committed state, and seals the pending ones into a block when asked. The multi-validator
//! engine comes behind the same trait; there is no home-made consensus here.

use std::collections::HashMap;
use std::sync::Mutex;

use consentry_circuits::groth::Verifier;

use ed25519_dalek::SigningKey;

use crate::ledger::{Ledger, LedgerError, Proposal, Rejection, Transaction, TxId};
use crate::store::Store;

/// Most transactions waiting for a block.
pub const MAX_PENDING: usize = 10_000;

/// What a consensus engine offers the node.
pub trait Sequencer {
    /// Admits a transaction for ordering, or says why it is refused.
    fn submit(&self, tx: Transaction, now_ms: u64) -> Result<TxId, Rejection>;
    /// Orders the pending transactions into the next committed block, if there are any.
    fn seal(&self, now_ms: u64) -> Result<Option<Proposal>, LedgerError>;
}

/// One validator ordering and committing blocks itself.
pub struct SoloSequencer<S: Store> {
    ledger: Mutex<Ledger<S>>,
    pending: Mutex<Vec<Transaction>>,
    key: SigningKey,
    verifiers: HashMap<u8, Verifier>,
}

impl<S: Store> SoloSequencer<S> {
    /// A sequencer over `ledger`, signing with the validator key `key`.
    pub fn new(ledger: Ledger<S>, key: SigningKey) -> Self {
        let verifiers = ledger.verifiers().clone();
        SoloSequencer {
            ledger: Mutex::new(ledger),
            pending: Mutex::new(Vec::new()),
            key,
            verifiers,
        }
    }

    /// Whether a transaction is waiting for a block.
    pub fn is_pending(&self, id: &TxId) -> bool {
        self.pending
            .lock()
            .expect("pending lock")
            .iter()
            .any(|t| t.id() == *id)
    }

    /// Number of transactions waiting for a block.
    pub fn pending_len(&self) -> usize {
        self.pending.lock().expect("pending lock").len()
    }

    /// Runs `f` with the ledger locked (queries).
    pub fn with_ledger<T>(&self, f: impl FnOnce(&Ledger<S>) -> T) -> T {
        f(&self.ledger.lock().expect("ledger lock"))
    }
}

impl<S: Store> Sequencer for SoloSequencer<S> {
    fn submit(&self, tx: Transaction, now_ms: u64) -> Result<TxId, Rejection> {
        let id = tx.id();
        // The proof is verified without holding the ledger lock, so submissions verify in
        // parallel; the block verifies it again in its batch.
        let token = self
            .ledger
            .lock()
            .expect("ledger lock")
            .token_of(&tx, now_ms)?;
        if let Some(token) = token {
            let verifier = self
                .verifiers
                .get(&token.depth)
                .ok_or(Rejection::UnknownDepth(token.depth))?;
            verifier
                .verify(&token)
                .map_err(|_| Rejection::ProofInvalid)?;
        }
        self.ledger
            .lock()
            .expect("ledger lock")
            .check_state(&tx, now_ms)?;
        let mut pending = self.pending.lock().expect("pending lock");
        if pending.iter().any(|p| p.id() == id) {
            return Err(Rejection::Replay(id));
        }
        if pending.len() >= MAX_PENDING {
            return Err(Rejection::Malformed(
                "the mempool is full; retry later".into(),
            ));
        }
        pending.push(tx);
        Ok(id)
    }

    fn seal(&self, now_ms: u64) -> Result<Option<Proposal>, LedgerError> {
        let txs = std::mem::take(&mut *self.pending.lock().expect("pending lock"));
        if txs.is_empty() {
            return Ok(None);
        }
        let mut ledger = self.ledger.lock().expect("ledger lock");
        ledger.propose(txs, now_ms, &self.key).map(Some)
    }
}
