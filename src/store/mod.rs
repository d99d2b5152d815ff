//! Storage behind a narrow trait: named column families, point reads, ordered prefix scans,
//! and atomic, durable batches. The ledger writes each block as exactly one [`Batch`].
//!
//! [`RocksStore`] is the implementation (RocksDB, WAL synced on every commit).

mod rocks;

pub use rocks::RocksStore;

/// The column families (DESIGN.md, "Blocks and storage").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Column {
    /// Height (u64 big-endian) → encoded block (header, signatures, transaction ids).
    Blocks,
    /// Transaction id → encoded transaction record (height, position, bytes).
    Transactions,
    /// Per-stream state and history.
    Streams,
    /// Scope ‖ pseudonym → first transaction seen with it.
    Pseudonyms,
    /// Registry leaves by index.
    Registry,
    /// Chain metadata (height, genesis, study index).
    Meta,
    /// The ordering engine's log (cluster validators): index (u64 big-endian) → entry.
    RaftLog,
    /// The ordering engine's own state: vote, purge point, applied point, snapshot.
    RaftState,
    /// A data node's stream records, encrypted at rest (`datanode::RecordStore`); empty in a
    /// validator's store.
    Records,
}

impl Column {
    /// Every column, in a fixed order.
    pub const ALL: [Column; 9] = [
        Column::Blocks,
        Column::Transactions,
        Column::Streams,
        Column::Pseudonyms,
        Column::Registry,
        Column::Meta,
        Column::RaftLog,
        Column::RaftState,
        Column::Records,
    ];
    /// The columns that make up the ledger's state (what a snapshot carries); the ordering
    /// engine's own columns are not part of it.
    pub const LEDGER: [Column; 6] = [
        Column::Blocks,
        Column::Transactions,
        Column::Streams,
        Column::Pseudonyms,
        Column::Registry,
        Column::Meta,
    ];

    /// The RocksDB column-family name.
    pub fn name(self) -> &'static str {
        match self {
            Column::Blocks => "blocks",
            Column::Transactions => "transactions",
            Column::Streams => "streams",
            Column::Pseudonyms => "pseudonyms",
            Column::Registry => "registry",
            Column::Meta => "meta",
            Column::RaftLog => "raft_log",
            Column::RaftState => "raft_state",
            Column::Records => "records",
        }
    }
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("storage: {0}")]
    Db(String),
    /// Another process holds the database (RocksDB's `LOCK` file): stop it first.
    #[error("storage: {} is in use by another process (a running node? stop it first)", .0.display())]
    Locked(std::path::PathBuf),
    /// Stored bytes do not decode (corruption or a foreign database).
    #[error("corrupt record in {column}: {reason}")]
    Corrupt {
        /// Column name.
        column: &'static str,
        /// What failed.
        reason: String,
    },
}

/// A key and its value.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// Writes applied together or not at all.
#[derive(Debug, Default)]
pub struct Batch {
    /// `(column, key, Some(value))` puts, `(column, key, None)` deletes, in order.
    pub ops: Vec<(Column, Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    /// Adds a put.
    pub fn put(&mut self, col: Column, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push((col, key.into(), Some(value.into())));
    }

    /// Adds a delete.
    pub fn delete(&mut self, col: Column, key: impl Into<Vec<u8>>) {
        self.ops.push((col, key.into(), None));
    }
}

/// The storage interface the ledger needs.
pub trait Store: Send + Sync {
    /// Reads one value.
    fn get(&self, col: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Entries whose key starts with `prefix`, in key order, starting at `from` (inclusive,
    /// defaults to `prefix`), at most `limit`.
    fn scan(
        &self,
        col: Column,
        prefix: &[u8],
        from: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError>;
    /// Applies a batch atomically and durably (synced write-ahead log).
    fn commit(&self, batch: Batch) -> Result<(), StoreError>;
}

/// A shared store is a store: the ledger and the ordering engine's log write to one database
/// (so a block and the engine's applied point are committed in one batch).
impl<T: Store + ?Sized> Store for std::sync::Arc<T> {
    fn get(&self, col: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).get(col, key)
    }

    fn scan(
        &self,
        col: Column,
        prefix: &[u8],
        from: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        (**self).scan(col, prefix, from, limit)
    }

    fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        (**self).commit(batch)
    }
}
