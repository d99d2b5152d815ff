//! A data node's stream records in its own RocksDB, encrypted at rest.
//!
//! Every record is sealed with ChaCha20Poly1305 under the node's records key (32 random bytes
//! in `records.key`, mode 0600, beside the database), a fresh random 96-bit nonce, and the
//! stream id and the record's position as associated data: a record moved to another stream
//! or position no longer opens. Someone with the database but not the key file learns how many
//! records each stream has and their sizes, nothing of their content. The store remembers a
//! digest of its key and refuses to open with another key file.
//!
//! An ingest is one atomic, synced RocksDB batch: its records and the stream's next sequence
//! number together, so a crash leaves either all of it or none, and an acknowledged ingest is
//! on disk.

use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use zeroize::Zeroizing;

use super::ingest::{Ingest, IngestError};
use crate::store::{Batch, Column, RocksStore, Store, StoreError};

/// Key kind of the records key file.
pub const RECORDS_KEY_KIND: &str = "datanode-records";
const KEY_CHECK: &[u8] = b"meta/records-key-check";

/// Why the record store failed.
#[derive(Debug, thiserror::Error)]
pub enum RecordStoreError {
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The key file (missing, malformed, or another store's).
    #[error("records key: {0}")]
    Key(String),
    /// The ingest was refused.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// A stored record does not open under this key (tampered with, or moved).
    #[error("record {index} of stream {stream} does not decrypt: the store was tampered with")]
    Corrupt {
        /// Stream id.
        stream: String,
        /// Record index.
        index: u64,
    },
}

/// The encrypted record store of a data node.
pub struct RecordStore {
    store: RocksStore,
    cipher: ChaCha20Poly1305,
    chain_id: String,
    name: String,
    /// One ingest at a time: the sequence check and the append are one step.
    writer: std::sync::Mutex<()>,
}

fn key_check(key: &[u8; 32]) -> [u8; 32] {
    consentry_circuits::field::sha256_tagged(b"consentry/v1/records-key-check", key)
}

fn next_key(stream: &str) -> Vec<u8> {
    [b"next/".as_slice(), stream.as_bytes()].concat()
}

fn count_key(stream: &str) -> Vec<u8> {
    [b"count/".as_slice(), stream.as_bytes()].concat()
}

fn record_key(stream: &str, index: u64) -> Vec<u8> {
    let mut k = stream.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&index.to_be_bytes());
    k
}

fn read_u64(store: &RocksStore, key: &[u8]) -> Result<u64, RecordStoreError> {
    Ok(match store.get(Column::Meta, key)? {
        Some(b) => {
            u64::from_be_bytes(b.as_slice().try_into().map_err(|_| StoreError::Corrupt {
                column: "meta",
                reason: "a counter is not 8 bytes".into(),
            })?)
        }
        None => 0,
    })
}

impl RecordStore {
    /// Opens (or creates) the store in `dir` (`dir/db`, `dir/records.key`) of the data node
    /// `name` on chain `chain_id`.
    pub fn open(dir: &Path, chain_id: &str, name: &str) -> Result<RecordStore, RecordStoreError> {
        std::fs::create_dir_all(dir).map_err(|e| RecordStoreError::Key(e.to_string()))?;
        let key_path = dir.join("records.key");
        let store = RocksStore::open(&dir.join("db"))?;
        let check = store.get(Column::Meta, KEY_CHECK)?;
        let key: Zeroizing<[u8; 32]> = if key_path.exists() {
            crate::ledger::keys::read_symmetric(&key_path, RECORDS_KEY_KIND)
                .map_err(|e| RecordStoreError::Key(e.to_string()))?
        } else if check.is_some() {
            return Err(RecordStoreError::Key(format!(
                "{} is missing and the store holds records sealed under it",
                key_path.display()
            )));
        } else {
            let mut k = Zeroizing::new([0u8; 32]);
            rand::rngs::OsRng.fill_bytes(&mut k[..]);
            crate::ledger::keys::write_symmetric(&key_path, RECORDS_KEY_KIND, &k, &key_check(&k))
                .map_err(|e| RecordStoreError::Key(e.to_string()))?;
            k
        };
        match check {
            Some(c) if c != key_check(&key) => {
                return Err(RecordStoreError::Key(format!(
                    "{} is not the key this store was sealed with",
                    key_path.display()
                )))
            }
            Some(_) => {}
            None => {
                let mut b = Batch::default();
                b.put(Column::Meta, KEY_CHECK.to_vec(), key_check(&key).to_vec());
                store.commit(b)?;
            }
        }
        Ok(RecordStore {
            store,
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key[..])),
            chain_id: chain_id.into(),
            name: name.into(),
            writer: std::sync::Mutex::new(()),
        })
    }

    /// The sequence number the next ingest of `stream` must carry.
    pub fn next_sequence(&self, stream: &str) -> Result<u64, RecordStoreError> {
        read_u64(&self.store, &next_key(stream))
    }

    /// Number of records of `stream`.
    pub fn count(&self, stream: &str) -> Result<u64, RecordStoreError> {
        read_u64(&self.store, &count_key(stream))
    }

    fn aad(stream: &str, index: u64) -> Vec<u8> {
        let mut aad = b"consentry/v1/record\0".to_vec();
        aad.extend_from_slice(&record_key(stream, index));
        aad
    }

    /// Verifies `ingest` and appends its records in one synced batch; returns the stream's
    /// record count after it. Nothing is written when it is refused.
    pub fn append(&self, ingest: &Ingest) -> Result<u64, RecordStoreError> {
        ingest.verify(&self.chain_id, &self.name)?;
        let _one_writer = self.writer.lock().expect("writer lock");
        let stream = &ingest.stream_id;
        let expected = self.next_sequence(stream)?;
        if ingest.sequence != expected {
            return Err(IngestError::Sequence {
                got: ingest.sequence,
                expected,
            }
            .into());
        }
        let first = self.count(stream)?;
        let mut batch = Batch::default();
        for (i, record) in ingest.records.iter().enumerate() {
            let index = first + i as u64;
            let plain = Zeroizing::new(serde_json::to_vec(record).expect("JSON values serialise"));
            let mut nonce = [0u8; 12];
            rand::rngs::OsRng.fill_bytes(&mut nonce);
            let sealed = self
                .cipher
                .encrypt(
                    Nonce::from_slice(&nonce),
                    Payload {
                        msg: &plain,
                        aad: &Self::aad(stream, index),
                    },
                )
                .expect("ChaCha20Poly1305 seals any message under 256 GiB");
            batch.put(
                Column::Records,
                record_key(stream, index),
                [nonce.as_slice(), &sealed].concat(),
            );
        }
        let count = first + ingest.records.len() as u64;
        batch.put(
            Column::Meta,
            next_key(stream),
            (expected + 1).to_be_bytes().to_vec(),
        );
        batch.put(
            Column::Meta,
            count_key(stream),
            count.to_be_bytes().to_vec(),
        );
        self.store.commit(batch)?;
        Ok(count)
    }

    /// Every record of `stream`, decrypted, in order, as one JSON array.
    pub fn records(&self, stream: &str) -> Result<Zeroizing<Vec<u8>>, RecordStoreError> {
        let mut out = Zeroizing::new(vec![b'[']);
        self.each_record(stream, |i, plain| {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(plain);
            true
        })?;
        out.push(b']');
        Ok(out)
    }

    /// The first records of `stream` whose JSON array has the records digest `digest`
    /// ([`records_digest`](crate::delivery::records_digest)): the snapshot a share names in
    /// its `data_digest`. `None` when no prefix of the stream has that digest. One pass: the
    /// digest of each prefix `[r0,…,ri]` is the running hash of `tag‖0‖[r0,…,ri` finished with
    /// `]`.
    pub fn snapshot(
        &self,
        stream: &str,
        digest: &[u8; 32],
    ) -> Result<Option<Zeroizing<Vec<u8>>>, RecordStoreError> {
        use sha2::{Digest, Sha256};
        let mut out = Zeroizing::new(vec![b'[']);
        let mut running = Sha256::new();
        running.update(crate::delivery::RECORDS_DIGEST_TAG);
        running.update([0u8, b'[']);
        let mut found = false;
        self.each_record(stream, |i, plain| {
            if i > 0 {
                out.push(b',');
                running.update(b",");
            }
            out.extend_from_slice(plain);
            running.update(plain);
            let mut prefix = running.clone();
            prefix.update(b"]");
            found = prefix.finalize().as_slice() == digest;
            !found
        })?;
        out.push(b']');
        Ok(found.then_some(out))
    }

    /// Decrypts the records of `stream` in order, giving each to `visit` with its index until
    /// `visit` answers `false`. A missing, moved or modified record is [`Corrupt`].
    ///
    /// [`Corrupt`]: RecordStoreError::Corrupt
    fn each_record(
        &self,
        stream: &str,
        mut visit: impl FnMut(u64, &[u8]) -> bool,
    ) -> Result<(), RecordStoreError> {
        let count = self.count(stream)?;
        let mut prefix = stream.as_bytes().to_vec();
        prefix.push(0);
        let rows = self
            .store
            .scan(Column::Records, &prefix, None, usize::MAX)?;
        if rows.len() as u64 != count {
            return Err(RecordStoreError::Corrupt {
                stream: stream.into(),
                index: rows.len() as u64,
            });
        }
        for (i, (key, value)) in rows.iter().enumerate() {
            let index = i as u64;
            let corrupt = || RecordStoreError::Corrupt {
                stream: stream.into(),
                index,
            };
            if *key != record_key(stream, index) || value.len() < 12 {
                return Err(corrupt());
            }
            let plain = Zeroizing::new(
                self.cipher
                    .decrypt(
                        Nonce::from_slice(&value[..12]),
                        Payload {
                            msg: &value[12..],
                            aad: &Self::aad(stream, index),
                        },
                    )
                    .map_err(|_| corrupt())?,
            );
            if !visit(index, &plain) {
                break;
            }
        }
        Ok(())
    }

    /// The underlying store (tests that tamper with it).
    pub fn store(&self) -> &RocksStore {
        &self.store
    }
}
