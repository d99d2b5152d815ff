//! One validator ordering and committing blocks itself (a validator with one key is a quorum
//! of one): the default for a first run and the demo.

use std::sync::{Arc, Mutex};

use ed25519_dalek::SigningKey;

use super::mempool::{Mempool, Rejections};
use super::{Admission, Limits, Sequencer};
use crate::ledger::execute::VerifiedTokens;
use crate::ledger::{Ledger, LedgerError, Rejection, Sealed, Transaction, TxId};
use crate::store::Store;

/// The single-validator sequencer: a [`Mempool`] and the key that signs its blocks.
pub struct SoloSequencer<S: Store> {
    pool: Mempool<S>,
    key: SigningKey,
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
        let ledger = Arc::new(Mutex::new(ledger));
        SoloSequencer {
            pool: Mempool::new(ledger, Arc::new(Rejections::default()), admission, limits),
            key,
        }
    }
}

/// Everything but sealing is the mempool's.
impl<S: Store> std::ops::Deref for SoloSequencer<S> {
    type Target = Mempool<S>;

    fn deref(&self) -> &Mempool<S> {
        &self.pool
    }
}

impl<S: Store> Sequencer for SoloSequencer<S> {
    fn submit(&self, tx: Transaction, now_ms: u64) -> Result<TxId, Rejection> {
        self.pool.submit_from(tx, None, now_ms)
    }

    fn seal(&self, now_ms: u64) -> Result<Option<Sealed>, LedgerError> {
        let batch = self.pool.batch();
        if batch.txs.is_empty() {
            return Ok(None);
        }
        // Pairing is the bulk of sealing and needs nothing but the verifying keys: done before
        // the ledger is locked, admission goes on meanwhile. Proofs this node verified at
        // admission are not verified twice.
        let verified = VerifiedTokens::verify_unless_admitted(
            self.pool.verifiers(),
            batch.tokens,
            &batch.verified,
        );
        let proposal = self
            .pool
            .ledger()
            .lock()
            .expect("ledger lock")
            .propose_admitted(batch.txs, verified, now_ms, &self.key);
        if let Ok(Sealed { rejected, .. }) = &proposal {
            self.pool.record_rejections(rejected);
        }
        // Committed or rejected: either way they leave the mempool (after the log is written).
        self.pool.settle(&batch.ids, now_ms);
        proposal.map(Some)
    }
}
