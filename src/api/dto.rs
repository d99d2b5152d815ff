//! Request and response bodies of the API (what the OpenAPI document describes).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `GET /v1/status`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StatusResponse {
    /// Chain id from the genesis.
    pub chain_id: String,
    /// Committed height.
    pub height: u64,
    /// Hash of the latest header (hex).
    pub tip_hash: String,
    /// What the tip's header commits to: the digest of every issuer's registry root (hex).
    pub registry_digest: String,
    /// Appended leaves, over every issuer's registry.
    pub registry_size: u64,
    /// This validator's Ed25519 key (hex).
    pub validator: String,
    /// Node version.
    pub version: String,
    /// Transactions waiting for a block.
    pub pending: usize,
    /// Parameter files and their SHA-256.
    pub params: Vec<ParamDigest>,
    /// For a consortium validator: the leader, the term, each validator's height and lag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<crate::node::ClusterStatus>,
}

/// A parameter file digest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ParamDigest {
    /// File name.
    pub file: String,
    /// SHA-256 (hex).
    pub sha256: String,
}

/// `GET /v1/registry`: one tree per issuer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegistryResponse {
    /// Tree depth (every issuer's tree).
    pub depth: u8,
    /// How long a replaced root stays acceptable, in seconds of block time.
    pub root_window_secs: u32,
    /// The digest of every issuer's root, as the tip's header holds it (hex).
    pub digest: String,
    /// Each issuer's tree.
    pub issuers: Vec<IssuerRegistry>,
}

/// One issuer's registry tree.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssuerRegistry {
    /// The issuer.
    pub issuer_id: u32,
    /// Its name in the genesis.
    pub name: String,
    /// Appended leaves (revoked ones included).
    pub size: u64,
    /// Current root (0x-hex field element).
    pub root: String,
    /// Roots a token disclosing this issuer may be proven against now, newest first (the
    /// current root first).
    pub recent_roots: Vec<String>,
}

/// Paging of `GET /v1/registry/leaves` and histories (query parameters).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// First index.
    #[serde(default)]
    pub from: u64,
    /// Most entries (at most 10,000; default 1,000).
    pub limit: Option<usize>,
}

impl Page {
    /// The effective limit.
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(1000).min(10_000)
    }
}

/// `GET /v1/registry/{issuer}/leaves`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LeavesResponse {
    /// The issuer whose tree these leaves are.
    pub issuer_id: u32,
    /// Index of the first leaf returned.
    pub from: u64,
    /// Total leaves.
    pub total: u64,
    /// Leaves (0x-hex; zero for revoked).
    pub leaves: Vec<String>,
}

/// `POST /v1/credentials` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IssuedResponse {
    /// Transaction id.
    pub id: String,
    /// The issuer whose tree the leaf was appended to.
    pub issuer_id: u32,
    /// The index of the leaf this transaction appended, in that issuer's tree.
    pub leaf_index: u64,
    /// Block height.
    pub height: u64,
}

/// A transaction's status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TxStatus {
    /// Admitted, waiting for a block.
    Pending,
    /// In a committed block.
    Committed,
    /// Rejected when its block was built.
    Rejected,
}

/// `POST /v1/transactions` and `GET /v1/transactions/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TxResponse {
    /// Transaction id (hex).
    pub id: String,
    /// Status.
    pub status: TxStatus,
    /// Block height, when committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Rejection code, when rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The transaction, when committed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<super::schemas::TransactionDoc>)]
    pub transaction: Option<serde_json::Value>,
}

/// `?wait=true`: answer only once the transaction is committed or rejected.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Wait for the block (up to 10 s).
    #[serde(default)]
    pub wait: bool,
}

/// What a token discloses.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Disclosed {
    /// Role.
    pub role: String,
    /// Issuer.
    pub issuer_id: u32,
    /// Proven minimum level.
    pub min_level: u16,
    /// Day proven valid on.
    pub today: u32,
    /// Registry root.
    pub root: String,
    /// Scope.
    pub scope: String,
    /// Pseudonym.
    pub pseudonym: String,
    /// Bound message.
    pub message: String,
}

/// `POST /v1/tokens/verify`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerifyResponse {
    /// Whether the proof verifies.
    pub valid: bool,
    /// Why not, when invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether its root is among the roots the ledger accepts now.
    pub root_in_window: bool,
    /// The disclosed attributes.
    pub disclosed: Disclosed,
}

/// `GET /v1/streams/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StreamResponse {
    /// Stream id.
    pub stream_id: String,
    /// Whether it is shared now.
    pub shared: bool,
    /// The latest consent (tx id).
    pub latest_consent: String,
    /// The latest access (tx id).
    pub latest_access: Option<String>,
    /// The policy.
    #[schema(value_type = super::schemas::PolicyDoc)]
    pub policy: serde_json::Value,
    /// Distinct accessor pseudonyms.
    pub distinct_accessors: u64,
    /// History entries.
    pub history_len: u64,
}

/// One audit entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HistoryItem {
    /// Sequence number.
    pub seq: u64,
    /// Transaction id.
    pub tx: String,
    /// `share`, `revoke`, `access` or `opening`.
    pub kind: String,
    /// Block height.
    pub height: u64,
    /// The acting institution's pseudonym in this scope (none for a withdrawal, which the
    /// patient signs alone).
    pub pseudonym: Option<String>,
    /// What it is for: the access's purpose, or the shared policy's (none for a withdrawal).
    pub purpose: Option<String>,
    /// The time of its block (milliseconds since the Unix epoch, the proposer's clock).
    #[serde(default)]
    pub time_ms: u64,
    /// An escrowed access: its escrow (128 hex digits), the reader's id encrypted to the
    /// chain's inspector. Opaque to everyone else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escrow: Option<String>,
    /// An opening: the access whose escrow the inspector opened (tx id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens: Option<String>,
    /// An opening: the case reference it was recorded under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// An opening: who opened it (the genesis inspector's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspector: Option<String>,
}

/// `GET /v1/streams/{id}/history`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HistoryResponse {
    /// Stream id.
    pub stream_id: String,
    /// Distinct accessor pseudonyms.
    pub distinct_accessors: u64,
    /// Entries in order.
    pub entries: Vec<HistoryItem>,
}

/// A study's criterion, as `GET /v1/studies/{id}` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CriterionView {
    /// Attribute name.
    pub attribute: String,
    /// Lower bound (inclusive).
    pub lo: u64,
    /// Upper bound (exclusive).
    pub hi: u64,
    /// Bit width of its range proofs (8, 16, 32 or 64).
    pub bits: u32,
}

/// A stream whose consent answered a study with valid cohort proofs.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StudyStream {
    /// Stream id (the study's institution reads it with ordinary, anonymous accesses).
    pub stream_id: String,
    /// The consent that answered the study (hex).
    pub consent: String,
    /// Whether that consent is still the stream's latest (not withdrawn or replaced).
    pub current: bool,
}

/// `GET /v1/studies/{id}`: the request, its criteria, and the eligible consents received. No
/// value is ever shown: the ledger holds only commitments and range proofs.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StudyResponse {
    /// Study request transaction id.
    pub id: String,
    /// Block height of the request.
    pub height: u64,
    /// What the data is for.
    pub purpose: String,
    /// Role of the readers.
    pub required_role: String,
    /// Minimum level of the readers.
    pub min_level: u16,
    /// The criteria, in order.
    pub criteria: Vec<CriterionView>,
    /// Number of consents (streams) that answered with valid proofs.
    pub eligible_consents: u64,
    /// The streams, in stream id order.
    pub streams: Vec<StudyStream>,
}

/// `GET /v1/studies`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StudiesResponse {
    /// Study request transaction ids.
    pub studies: Vec<String>,
}
