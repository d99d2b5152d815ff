//! What the ledger stores besides blocks: transaction records, per-stream state and history,
//! registry leaves, and the key layout of each column family.

use borsh::{BorshDeserialize, BorshSerialize};
use serde::{Deserialize, Serialize};

use super::transaction::Policy;
use super::types::{hex_bytes, Hash32, TxId};
use crate::store::{Column, StoreError};

/// A committed transaction: where it is and its canonical bytes.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct TxRecord {
    /// Block height.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
    /// [`super::Transaction::to_bytes`].
    pub bytes: Vec<u8>,
}

/// The current state of a stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct StreamState {
    /// The per-stream patient key fixed by the first share.
    #[serde(with = "hex_bytes")]
    pub patient_key: [u8; 32],
    /// Whether the latest consent is a share.
    pub shared: bool,
    /// The latest consent's policy.
    pub policy: Policy,
    /// The latest consent transaction.
    pub latest_consent: TxId,
    /// The latest access transaction, if any.
    pub latest_access: Option<TxId>,
    /// Number of history entries.
    pub history_len: u64,
    /// Number of distinct accessor pseudonyms in the stream's access scope.
    pub distinct_accessors: u64,
}

/// What a history entry records.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum HistoryKind {
    /// A share consent.
    Share,
    /// A revoke consent.
    Revoke,
    /// An access.
    Access,
    /// The inspector opened an access's escrow ([`crate::ledger::Opening`]).
    Opening,
}

/// One entry of a stream's audit history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, BorshSerialize, BorshDeserialize)]
pub struct HistoryEntry {
    /// The transaction.
    pub tx: TxId,
    /// Its kind.
    pub kind: HistoryKind,
    /// Block height.
    pub height: u64,
    /// The acting institution's pseudonym: the platform's for a share, the reader's for an
    /// access; none for a withdrawal, which the patient signs alone.
    pub pseudonym: Option<Hash32>,
}

/// A registry leaf (its issuer and index are its key, [`leaf_key`]).
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct LeafRecord {
    /// The leaf (zero when revoked).
    pub leaf: Hash32,
}

/// Where an `IssueCredential` put its leaf, so that the issuer learns the index of the leaf
/// its own transaction appended (not that of an equal leaf appended earlier).
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct IssuedLeaf {
    /// The issuer's tree.
    pub issuer_id: u32,
    /// Index in that tree.
    pub index: u64,
}

/// The registry roots a block replaced, with the block's time: what a reopened node needs to
/// rebuild the time-bounded root window.
#[derive(Clone, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize)]
pub struct ReplacedRoots {
    /// The block's time.
    pub time_ms: u64,
    /// `(issuer, root before the block)` for every issuer whose tree the block changed.
    pub roots: Vec<(u32, Hash32)>,
}

/// Key of a stream's state in [`Column::Streams`].
pub fn stream_key(stream: &str) -> Vec<u8> {
    [b"S".as_slice(), stream.as_bytes()].concat()
}

/// Prefix of a stream's history in [`Column::Streams`] (stream ids never contain NUL).
pub fn history_prefix(stream: &str) -> Vec<u8> {
    [b"H".as_slice(), stream.as_bytes(), b"\0"].concat()
}

/// Key of history entry `seq` of a stream.
pub fn history_key(stream: &str, seq: u64) -> Vec<u8> {
    [history_prefix(stream), seq.to_be_bytes().to_vec()].concat()
}

/// Key of a (scope, pseudonym) pair in [`Column::Pseudonyms`].
pub fn pseudonym_key(scope: &Hash32, pseudonym: &Hash32) -> Vec<u8> {
    [scope.0, pseudonym.0].concat()
}

/// Key of leaf `index` of `issuer`'s tree in [`Column::Registry`]: big-endian, so a scan
/// returns each tree's leaves in order, tree after tree.
pub fn leaf_key(issuer: u32, index: u64) -> Vec<u8> {
    [issuer.to_be_bytes().as_slice(), &index.to_be_bytes()].concat()
}

/// Key of the [`IssuedLeaf`] of an `IssueCredential` transaction in [`Column::Meta`].
pub fn issued_key(id: &TxId) -> Vec<u8> {
    [b"issued/".as_slice(), &id.0].concat()
}

/// Key of the [`ReplacedRoots`] of block `height` in [`Column::Meta`].
pub fn replaced_key(height: u64) -> Vec<u8> {
    [b"replaced/".as_slice(), &height.to_be_bytes()].concat()
}

/// Key of a study request in [`Column::Meta`].
pub fn study_key(id: &TxId) -> Vec<u8> {
    [b"study/".as_slice(), &id.0].concat()
}

/// Key of the consent of `stream` answering the study `study` in [`Column::Meta`] (value: the
/// consent's id). A prefix of its own, so that listing studies does not meet it.
pub fn study_consent_key(study: &TxId, stream: &str) -> Vec<u8> {
    [study_consents_prefix(study).as_slice(), stream.as_bytes()].concat()
}

/// Prefix of the consents answering `study` in [`Column::Meta`].
pub fn study_consents_prefix(study: &TxId) -> Vec<u8> {
    [b"study-consent/".as_slice(), &study.0].concat()
}

/// Key of the committed height in [`Column::Meta`].
pub const HEIGHT_KEY: &[u8] = b"height";

/// Encodes a record.
pub fn encode<T: BorshSerialize>(value: &T) -> Vec<u8> {
    borsh::to_vec(value).expect("encoding to a Vec cannot fail")
}

/// Decodes a stored record, naming the column on failure.
pub fn decode<T: BorshDeserialize>(column: Column, bytes: &[u8]) -> Result<T, StoreError> {
    borsh::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        column: column.name(),
        reason: e.to_string(),
    })
}
