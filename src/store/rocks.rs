//! The RocksDB store.

use std::path::Path;

use rocksdb::{
    ColumnFamilyDescriptor, Direction, IteratorMode, Options, WriteBatch, WriteOptions, DB,
};

use super::{Batch, Column, KeyValue, Store, StoreError};

/// A RocksDB database with one column family per [`Column`].
pub struct RocksStore {
    db: DB,
}

fn db_err(e: rocksdb::Error) -> StoreError {
    StoreError::Db(e.to_string())
}

impl RocksStore {
    /// Opens (creating if needed) the database in `dir`.
    pub fn open(dir: &Path) -> Result<RocksStore, StoreError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        // Crash safety: the WAL is synced by every commit (see `commit`); keep paranoid
        // checks on so corruption is reported instead of read.
        opts.set_paranoid_checks(true);
        let cfs = Column::ALL
            .iter()
            .map(|c| ColumnFamilyDescriptor::new(c.name(), Options::default()));
        let db = DB::open_cf_descriptors(&opts, dir, cfs).map_err(|e| {
            // RocksDB's own message ("IO error: lock .../LOCK: Resource temporarily
            // unavailable") does not say who holds the lock: another process on this
            // directory, almost always a running node.
            if e.kind() == rocksdb::ErrorKind::IOError && e.to_string().contains("LOCK") {
                StoreError::Locked(dir.to_path_buf())
            } else {
                db_err(e)
            }
        })?;
        Ok(RocksStore { db })
    }

    fn cf(&self, col: Column) -> &rocksdb::ColumnFamily {
        self.db
            .cf_handle(col.name())
            .expect("every column family is opened")
    }
}

impl Store for RocksStore {
    fn get(&self, col: Column, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.db.get_cf(self.cf(col), key).map_err(db_err)
    }

    fn scan(
        &self,
        col: Column,
        prefix: &[u8],
        from: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        let start = from.unwrap_or(prefix);
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_cf(self.cf(col), IteratorMode::From(start, Direction::Forward))
        {
            let (k, v) = item.map_err(db_err)?;
            if !k.starts_with(prefix) || out.len() >= limit {
                break;
            }
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    fn commit(&self, batch: Batch) -> Result<(), StoreError> {
        let mut wb = WriteBatch::default();
        for (col, key, value) in batch.ops {
            match value {
                Some(v) => wb.put_cf(self.cf(col), key, v),
                None => wb.delete_cf(self.cf(col), key),
            }
        }
        let mut wo = WriteOptions::default();
        wo.set_sync(true);
        self.db.write_opt(wb, &wo).map_err(db_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_atomic_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = RocksStore::open(dir.path()).unwrap();
            let mut b = Batch::default();
            b.put(Column::Meta, b"a".to_vec(), b"1".to_vec());
            b.put(
                Column::Blocks,
                7u64.to_be_bytes().to_vec(),
                b"block".to_vec(),
            );
            s.commit(b).unwrap();
        }
        let s = RocksStore::open(dir.path()).unwrap();
        assert_eq!(s.get(Column::Meta, b"a").unwrap().unwrap(), b"1");
        assert_eq!(
            s.get(Column::Blocks, &7u64.to_be_bytes()).unwrap().unwrap(),
            b"block"
        );
        assert_eq!(s.get(Column::Meta, b"b").unwrap(), None);
    }

    #[test]
    fn a_database_in_use_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let _held = RocksStore::open(dir.path()).unwrap();
        let e = RocksStore::open(dir.path())
            .err()
            .expect("the lock is held");
        assert!(
            matches!(&e, StoreError::Locked(d) if d == dir.path()),
            "{e}"
        );
        assert!(e.to_string().contains("a running node?"), "{e}");
    }

    #[test]
    fn scan_respects_prefix_start_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let s = RocksStore::open(dir.path()).unwrap();
        let mut b = Batch::default();
        for i in 0u8..10 {
            b.put(Column::Streams, vec![b'H', i], vec![i]);
        }
        b.put(Column::Streams, b"I".to_vec(), b"x".to_vec());
        s.commit(b).unwrap();
        let all = s.scan(Column::Streams, b"H", None, 100).unwrap();
        assert_eq!(all.len(), 10);
        let page = s.scan(Column::Streams, b"H", Some(&[b'H', 4]), 3).unwrap();
        assert_eq!(
            page.iter().map(|(_, v)| v[0]).collect::<Vec<_>>(),
            vec![4, 5, 6]
        );
    }
}
