//! The Raft log and vote in the validator's store: column `raft_log` (index, big-endian →
//! entry) and keys `log/*` of column `raft_state`. Every append is one synced batch that also
//! moves the last-log pointer, so a crash leaves either the whole append or none of it.

// openraft's traits return its `StorageError` (224 bytes); the helpers return what they do.
#![allow(clippy::result_large_err)]

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{
    Entry, ErrorSubject, ErrorVerb, LogId, OptionalSend, RaftLogReader, StorageError,
    StorageIOError, Vote,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{NodeId, TypeConfig};
use crate::store::{Batch, Column, Store};

const VOTE: &[u8] = b"log/vote";
const COMMITTED: &[u8] = b"log/committed";
const PURGED: &[u8] = b"log/purged";
const LAST: &[u8] = b"log/last";

/// The Raft log storage over a [`Store`] (cheap to clone: the store is shared).
#[derive(Clone)]
pub struct LogStore<S> {
    store: S,
}

fn io_err(
    subject: ErrorSubject<NodeId>,
    verb: ErrorVerb,
    e: impl ToString,
) -> StorageError<NodeId> {
    StorageIOError::new(subject, verb, openraft::AnyError::error(e.to_string())).into()
}

fn key(index: u64) -> Vec<u8> {
    index.to_be_bytes().to_vec()
}

impl<S: Store + Clone + 'static> LogStore<S> {
    /// The log in `store`.
    pub fn new(store: S) -> Self {
        LogStore { store }
    }

    fn get<T: DeserializeOwned>(
        &self,
        k: &[u8],
        subject: ErrorSubject<NodeId>,
    ) -> Result<Option<T>, StorageError<NodeId>> {
        match self
            .store
            .get(Column::RaftState, k)
            .map_err(|e| io_err(subject.clone(), ErrorVerb::Read, e))?
        {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io_err(subject, ErrorVerb::Read, e)),
            None => Ok(None),
        }
    }

    fn put<T: Serialize>(batch: &mut Batch, k: &[u8], v: &T) {
        batch.put(
            Column::RaftState,
            k.to_vec(),
            serde_json::to_vec(v).expect("log records encode"),
        );
    }

    fn commit(
        &self,
        batch: Batch,
        subject: ErrorSubject<NodeId>,
    ) -> Result<(), StorageError<NodeId>> {
        self.store
            .commit(batch)
            .map_err(|e| io_err(subject, ErrorVerb::Write, e))
    }

    fn entry(&self, index: u64) -> Result<Option<Entry<TypeConfig>>, StorageError<NodeId>> {
        match self
            .store
            .get(Column::RaftLog, &key(index))
            .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e))?
        {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e)),
            None => Ok(None),
        }
    }

    /// The index of the first entry still in the log.
    fn first_index(&self) -> Result<u64, StorageError<NodeId>> {
        Ok(self
            .get::<LogId<NodeId>>(PURGED, ErrorSubject::Store)?
            .map_or(0, |p| p.index + 1))
    }
}

impl<S: Store + Clone + 'static> RaftLogReader<TypeConfig> for LogStore<S> {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        let start = match range.start_bound() {
            Bound::Included(x) => *x,
            Bound::Excluded(x) => x + 1,
            Bound::Unbounded => 0,
        };
        let mut out = Vec::new();
        // Entries are read a page at a time: a range can span many MiB of proposals.
        let mut from = start;
        loop {
            let page = self
                .store
                .scan(Column::RaftLog, &[], Some(&key(from)), 64)
                .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e))?;
            let n = page.len();
            for (k, v) in page {
                let index = u64::from_be_bytes(k.as_slice().try_into().map_err(|_| {
                    io_err(
                        ErrorSubject::Logs,
                        ErrorVerb::Read,
                        "a log key is not 8 bytes",
                    )
                })?);
                if !range.contains(&index) {
                    return Ok(out);
                }
                let entry: Entry<TypeConfig> = serde_json::from_slice(&v)
                    .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Read, e))?;
                from = index + 1;
                out.push(entry);
            }
            if n < 64 {
                return Ok(out);
            }
        }
    }
}

impl<S: Store + Clone + 'static> RaftLogStorage<TypeConfig> for LogStore<S> {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<NodeId>> {
        let last_purged_log_id = self.get::<LogId<NodeId>>(PURGED, ErrorSubject::Store)?;
        let last = self.get::<LogId<NodeId>>(LAST, ErrorSubject::Logs)?;
        // After a purge of everything the last log id is the purge point.
        let last_log_id = match (last, last_purged_log_id) {
            (Some(l), Some(p)) => Some(l.max(p)),
            (l, p) => l.or(p),
        };
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError<NodeId>> {
        let mut batch = Batch::default();
        Self::put(&mut batch, VOTE, vote);
        self.commit(batch, ErrorSubject::Vote)
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError<NodeId>> {
        self.get(VOTE, ErrorSubject::Vote)
    }

    async fn save_committed(
        &mut self,
        committed: Option<LogId<NodeId>>,
    ) -> Result<(), StorageError<NodeId>> {
        let mut batch = Batch::default();
        Self::put(&mut batch, COMMITTED, &committed);
        self.commit(batch, ErrorSubject::Store)
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        Ok(self
            .get::<Option<LogId<NodeId>>>(COMMITTED, ErrorSubject::Store)?
            .flatten())
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut batch = Batch::default();
        let mut last = None;
        for entry in entries {
            batch.put(
                Column::RaftLog,
                key(entry.log_id.index),
                serde_json::to_vec(&entry)
                    .map_err(|e| io_err(ErrorSubject::Logs, ErrorVerb::Write, e))?,
            );
            last = Some(entry.log_id);
        }
        if let Some(last) = last {
            Self::put(&mut batch, LAST, &last);
        }
        // One synced batch: the entries and the pointer to the last are durable together
        // before openraft is told they are.
        let result = self.commit(batch, ErrorSubject::Logs);
        callback.log_io_completed(
            result
                .as_ref()
                .map(|_| ())
                .map_err(|e| std::io::Error::other(e.to_string())),
        );
        result
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        let last = self.get::<LogId<NodeId>>(LAST, ErrorSubject::Logs)?;
        let mut batch = Batch::default();
        if let Some(last) = last {
            for index in log_id.index..=last.index {
                batch.delete(Column::RaftLog, key(index));
            }
        }
        // The new last entry is the one before the cut, or the purge point.
        let before = match log_id.index.checked_sub(1) {
            Some(i) => self.entry(i)?.map(|e| e.log_id),
            None => None,
        };
        match before.or(self.get::<LogId<NodeId>>(PURGED, ErrorSubject::Store)?) {
            Some(l) => Self::put(&mut batch, LAST, &l),
            None => batch.delete(Column::RaftState, LAST.to_vec()),
        }
        self.commit(batch, ErrorSubject::Logs)
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        let first = self.first_index()?;
        let mut batch = Batch::default();
        for index in first..=log_id.index {
            batch.delete(Column::RaftLog, key(index));
        }
        Self::put(&mut batch, PURGED, &log_id);
        self.commit(batch, ErrorSubject::Logs)
    }
}
