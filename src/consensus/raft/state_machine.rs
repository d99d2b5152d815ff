//! The Raft state machine: the ledger itself. Each committed proposal is executed here, on
//! every validator, with every check and every proof verified locally; the applied point is
//! written in the same batch as the block. A snapshot is the ledger's columns at an applied
//! point, so a validator that was down long installs it and goes on from the log.

// openraft's traits return its `StorageError` (224 bytes); the helpers return what they do.
#![allow(clippy::result_large_err)]

use std::io::Cursor;
use std::sync::{Arc, Mutex};

use borsh::{BorshDeserialize, BorshSerialize};
use ed25519_dalek::SigningKey;
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    Entry, EntryPayload, ErrorSubject, ErrorVerb, LogId, OptionalSend, RaftSnapshotBuilder,
    SnapshotMeta, StorageError, StorageIOError, StoredMembership,
};
use serde::{Deserialize, Serialize};

use super::{NodeId, Outcome, TypeConfig};
use crate::consensus::Rejections;
use crate::ledger::execute::VerifiedTokens;
use crate::ledger::{Ledger, LoadedKeys, Verifiers};
use crate::store::{Batch, Column, Store};

const APPLIED: &[u8] = b"sm/applied";
const MEMBERSHIP: &[u8] = b"sm/membership";
const SNAPSHOT: &[u8] = b"sm/snapshot";
const SNAPSHOT_SEQ: &[u8] = b"sm/snapshot-seq";

/// The latest block this validator applied (watched by the signature exchange and by
/// clients waiting for a transaction).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Height of the ledger's tip.
    pub height: u64,
}

/// The ledger as openraft's state machine (cheap to clone: everything is shared).
#[derive(Clone)]
pub struct LedgerStateMachine<S: Store + Clone + 'static> {
    ledger: Arc<Mutex<Ledger<S>>>,
    store: S,
    key: Arc<SigningKey>,
    keys: LoadedKeys,
    rejections: Arc<Rejections>,
    applied: Arc<tokio::sync::watch::Sender<Applied>>,
    // Fixed by the genesis (a snapshot install reopens the same chain): read once, not per
    // entry.
    chain_id: Arc<str>,
    validators: Arc<[[u8; 32]]>,
    verifiers: Arc<Verifiers>,
}

fn sm_err(verb: ErrorVerb, e: impl ToString) -> StorageError<NodeId> {
    StorageIOError::new(
        ErrorSubject::StateMachine,
        verb,
        openraft::AnyError::error(e.to_string()),
    )
    .into()
}

/// A snapshot as stored and sent: its meta and every key of the ledger's columns.
#[derive(Serialize, Deserialize)]
struct StoredSnapshot {
    meta: SnapshotMeta<NodeId, openraft::BasicNode>,
    #[serde(with = "hex::serde")]
    data: Vec<u8>,
}

/// The ledger's columns at one applied point: `(column position in [`Column::LEDGER`], key,
/// value)` in key order.
#[derive(BorshSerialize, BorshDeserialize)]
struct LedgerDump {
    entries: Vec<(u8, Vec<u8>, Vec<u8>)>,
}

impl<S: Store + Clone + 'static> LedgerStateMachine<S> {
    /// The state machine over `ledger` (whose store is `store`), signing blocks with `key`;
    /// `keys` are the verifying keys to reopen the ledger with after a snapshot install.
    pub fn new(
        ledger: Arc<Mutex<Ledger<S>>>,
        store: S,
        key: SigningKey,
        keys: LoadedKeys,
        rejections: Arc<Rejections>,
    ) -> Self {
        let (height, chain_id, validators, verifiers) = {
            let l = ledger.lock().expect("ledger lock");
            (
                l.tip().height,
                l.genesis().chain_id.as_str().into(),
                l.genesis().validators.as_slice().into(),
                Arc::new(l.verifiers().clone()),
            )
        };
        let (applied, _) = tokio::sync::watch::channel(Applied { height });
        LedgerStateMachine {
            ledger,
            store,
            key: Arc::new(key),
            keys,
            rejections,
            applied: Arc::new(applied),
            chain_id,
            validators,
            verifiers,
        }
    }

    /// Notified whenever the ledger's tip moves.
    pub fn watch(&self) -> tokio::sync::watch::Receiver<Applied> {
        self.applied.subscribe()
    }

    fn read<T: serde::de::DeserializeOwned>(
        &self,
        k: &[u8],
    ) -> Result<Option<T>, StorageError<NodeId>> {
        match self
            .store
            .get(Column::RaftState, k)
            .map_err(|e| sm_err(ErrorVerb::Read, e))?
        {
            Some(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| sm_err(ErrorVerb::Read, e)),
            None => Ok(None),
        }
    }

    fn put<T: Serialize>(batch: &mut Batch, k: &[u8], v: &T) {
        batch.put(
            Column::RaftState,
            k.to_vec(),
            serde_json::to_vec(v).expect("state machine records encode"),
        );
    }

    /// Applies one entry (blocking: proofs are verified here).
    fn apply_one(&self, entry: Entry<TypeConfig>) -> Result<Outcome, StorageError<NodeId>> {
        let mut extra = Batch::default();
        Self::put(&mut extra, APPLIED, &entry.log_id);
        let proposal = match entry.payload {
            EntryPayload::Blank => None,
            EntryPayload::Membership(m) => {
                Self::put(
                    &mut extra,
                    MEMBERSHIP,
                    &StoredMembership::new(Some(entry.log_id), m),
                );
                None
            }
            EntryPayload::Normal(p) => Some(p),
        };
        let write = |e: crate::ledger::LedgerError| sm_err(ErrorVerb::Write, e);
        let is_proposal = proposal.is_some();
        let opened = proposal.as_ref().and_then(|p| {
            let opened = p.open(&self.chain_id, &self.validators);
            if opened.is_none() {
                tracing::warn!(
                    index = entry.log_id.index,
                    proposer = p.proposer,
                    "skipped a proposal not signed by the validator it names"
                );
            }
            opened
        });
        let (Some(proposal), Some((txs, proposer))) = (proposal, opened) else {
            // A blank or membership entry, or a refused proposal: only the applied point moves.
            self.ledger
                .lock()
                .expect("ledger lock")
                .commit_extra(extra)
                .map_err(write)?;
            return Ok(Outcome {
                refused: is_proposal,
                ..Outcome::default()
            });
        };
        // The stateless checks and the batch pairing run without the ledger's lock (only this
        // task changes the ledger, so the context cannot move meanwhile); queries go on.
        let context = self
            .ledger
            .lock()
            .expect("ledger lock")
            .admission_context(proposal.time_ms);
        let checked: Vec<_> = txs.iter().map(|tx| context.token_of(tx)).collect();
        let verified = VerifiedTokens::verify_checked(&self.verifiers, checked);
        let sealed = self
            .ledger
            .lock()
            .expect("ledger lock")
            .apply_proposal(txs, verified, proposal.time_ms, proposer, &self.key, extra)
            .map_err(write)?;
        self.rejections.record(&sealed.rejected);
        let height = sealed.block.as_ref().map(|b| b.header.height);
        if let Some(block) = &sealed.block {
            tracing::info!(
                height = block.header.height,
                txs = block.tx_ids.len(),
                rejected = sealed.rejected.len(),
                "block applied"
            );
            self.applied.send_replace(Applied {
                height: block.header.height,
            });
        }
        Ok(Outcome {
            height,
            accepted: sealed.block.as_ref().map_or(0, |b| b.tx_ids.len()),
            rejected: sealed.rejected.len(),
            refused: false,
        })
    }

    fn build(&self) -> Result<Snapshot<TypeConfig>, StorageError<NodeId>> {
        // Under the ledger's lock nothing moves: the dump and the applied point agree.
        let ledger = self.ledger.lock().expect("ledger lock");
        let last_log_id: Option<LogId<NodeId>> = self.read(APPLIED)?;
        let last_membership: StoredMembership<NodeId, openraft::BasicNode> =
            self.read(MEMBERSHIP)?.unwrap_or_default();
        let mut dump = LedgerDump {
            entries: Vec::new(),
        };
        for (i, col) in Column::LEDGER.iter().enumerate() {
            for (k, v) in ledger
                .store()
                .scan(*col, &[], None, usize::MAX)
                .map_err(|e| sm_err(ErrorVerb::Read, e))?
            {
                dump.entries.push((i as u8, k, v));
            }
        }
        let seq: u64 = self.read(SNAPSHOT_SEQ)?.unwrap_or(0) + 1;
        let snapshot_id = match last_log_id {
            Some(l) => format!("{}-{}-{seq}", l.leader_id, l.index),
            None => format!("--{seq}"),
        };
        let meta = SnapshotMeta {
            last_log_id,
            last_membership,
            snapshot_id,
        };
        let data = borsh::to_vec(&dump).expect("encoding to a Vec cannot fail");
        let mut batch = Batch::default();
        Self::put(&mut batch, SNAPSHOT_SEQ, &seq);
        Self::put(
            &mut batch,
            SNAPSHOT,
            &StoredSnapshot {
                meta: meta.clone(),
                data: data.clone(),
            },
        );
        self.store
            .commit(batch)
            .map_err(|e| sm_err(ErrorVerb::Write, e))?;
        tracing::info!(index = ?meta.last_log_id.map(|l| l.index), bytes = data.len(), "snapshot built");
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(data)),
        })
    }

    fn install(
        &self,
        meta: &SnapshotMeta<NodeId, openraft::BasicNode>,
        data: Vec<u8>,
    ) -> Result<(), StorageError<NodeId>> {
        let dump = LedgerDump::try_from_slice(&data).map_err(|e| {
            StorageError::from(StorageIOError::new(
                ErrorSubject::Snapshot(Some(meta.signature())),
                ErrorVerb::Read,
                openraft::AnyError::error(e.to_string()),
            ))
        })?;
        let mut ledger = self.ledger.lock().expect("ledger lock");
        // Replace the ledger's columns and move the applied point in one batch, then rebuild
        // the in-memory state from what was written.
        let mut batch = Batch::default();
        for col in Column::LEDGER {
            for (k, _) in self
                .store
                .scan(col, &[], None, usize::MAX)
                .map_err(|e| sm_err(ErrorVerb::Read, e))?
            {
                batch.delete(col, k);
            }
        }
        for (i, k, v) in dump.entries {
            let col = *Column::LEDGER
                .get(i as usize)
                .ok_or_else(|| sm_err(ErrorVerb::Read, "snapshot names an unknown column"))?;
            batch.put(col, k, v);
        }
        Self::put(&mut batch, APPLIED, &meta.last_log_id);
        Self::put(&mut batch, MEMBERSHIP, &meta.last_membership);
        Self::put(
            &mut batch,
            SNAPSHOT,
            &StoredSnapshot {
                meta: meta.clone(),
                data,
            },
        );
        self.store
            .commit(batch)
            .map_err(|e| sm_err(ErrorVerb::Write, e))?;
        *ledger = Ledger::open(self.store.clone(), self.keys.clone())
            .map_err(|e| sm_err(ErrorVerb::Read, e))?;
        let height = ledger.tip().height;
        tracing::info!(height, "snapshot installed");
        self.applied.send_replace(Applied { height });
        Ok(())
    }
}

impl<S: Store + Clone + 'static> RaftSnapshotBuilder<TypeConfig> for LedgerStateMachine<S> {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError<NodeId>> {
        let sm = self.clone();
        tokio::task::spawn_blocking(move || sm.build())
            .await
            .map_err(|e| sm_err(ErrorVerb::Read, e))?
    }
}

impl<S: Store + Clone + 'static> RaftStateMachine<TypeConfig> for LedgerStateMachine<S> {
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> Result<
        (
            Option<LogId<NodeId>>,
            StoredMembership<NodeId, openraft::BasicNode>,
        ),
        StorageError<NodeId>,
    > {
        Ok((
            self.read::<Option<LogId<NodeId>>>(APPLIED)?.flatten(),
            self.read(MEMBERSHIP)?.unwrap_or_default(),
        ))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Outcome>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<_> = entries.into_iter().collect();
        let sm = self.clone();
        tokio::task::spawn_blocking(move || {
            entries
                .into_iter()
                .map(|e| sm.apply_one(e))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| sm_err(ErrorVerb::Write, e))?
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(
        &mut self,
    ) -> Result<Box<Cursor<Vec<u8>>>, StorageError<NodeId>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, openraft::BasicNode>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError<NodeId>> {
        let sm = self.clone();
        let meta = meta.clone();
        let data = snapshot.into_inner();
        tokio::task::spawn_blocking(move || sm.install(&meta, data))
            .await
            .map_err(|e| sm_err(ErrorVerb::Write, e))?
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<Snapshot<TypeConfig>>, StorageError<NodeId>> {
        Ok(self.read::<StoredSnapshot>(SNAPSHOT)?.map(|s| Snapshot {
            meta: s.meta,
            snapshot: Box::new(Cursor::new(s.data)),
        }))
    }
}
