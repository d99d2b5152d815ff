//! Why a transaction is refused. Names are stable: the API shows them as problem types.

use super::types::TxId;

/// A transaction rejected by validation, with the precise reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The bytes are not a valid transaction encoding.
    #[error("malformed transaction: {0}")]
    Malformed(String),
    /// A field is out of its allowed range or format.
    #[error("invalid field {field}: {reason}")]
    InvalidField {
        /// Field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The transaction id is already on the chain or earlier in the block.
    #[error("transaction {0} was already submitted (replay)")]
    Replay(TxId),
    /// A genesis transaction outside block 0, or a chain without one.
    #[error("genesis transactions are only valid in block 0")]
    UnexpectedGenesis,
    /// The issuer id is not registered in the genesis.
    #[error("issuer {0} is not registered")]
    UnknownIssuer(u32),
    /// The issuer's Ed25519 signature does not verify.
    #[error("the issuer signature does not verify")]
    BadIssuerSignature,
    /// The registry is full or the leaf is invalid.
    #[error("registry: {0}")]
    Registry(String),
    /// The token's registry root is neither its issuer's current root nor one replaced within
    /// the window.
    #[error(
        "the token's registry root is not a root of issuer {issuer}'s registry from the last {window_secs} s"
    )]
    RootNotInWindow {
        /// The issuer the token discloses (whose tree the root must belong to).
        issuer: u32,
        /// The configured window, in seconds.
        window_secs: u64,
    },
    /// The token's `today` is before the block's day, or more than one day after it.
    #[error("the token is for day {token}, the block is on day {block} (a token's day must be the block's day or the next)")]
    StaleDay {
        /// The token's day.
        token: u32,
        /// The block's day.
        block: u32,
    },
    /// The token's scope is not the one the transaction kind requires.
    #[error("the token's scope is not {0}")]
    WrongScope(&'static str),
    /// No verifying key with the genesis digest for the token's depth.
    #[error("no accepted verifying key for registry depth {0}")]
    UnknownDepth(u8),
    /// The Groth16 proof does not verify.
    #[error("the presentation token's proof is invalid")]
    ProofInvalid,
    /// The token's disclosed role is not one the policy allows.
    #[error("role {0} is not allowed by the policy")]
    RoleNotAllowed(String),
    /// The token proves a lower level than the policy requires.
    #[error("the token proves level >= {proven}, the policy requires {required}")]
    LevelTooLow {
        /// What the token proves.
        proven: u16,
        /// What the policy requires.
        required: u16,
    },
    /// The stream has no consent.
    #[error("stream {0:?} has no consent")]
    UnknownStream(String),
    /// The stream's latest consent is a revocation.
    #[error("the consent for stream {0:?} was revoked")]
    ConsentRevoked(String),
    /// The consent's validity window does not cover the day.
    #[error("the consent for stream {stream:?} is not valid on day {day}")]
    ConsentExpired {
        /// Stream id.
        stream: String,
        /// The day.
        day: u32,
    },
    /// The access purpose is not the consent's purpose.
    #[error("purpose {0:?} is not the consented purpose")]
    PurposeMismatch(String),
    /// The patient's Schnorr signature does not verify.
    #[error("the patient signature does not verify")]
    BadPatientSignature,
    /// A later consent for a stream is signed with another key than the first share.
    #[error("the stream is bound to another patient key")]
    PatientKeyMismatch,
    /// A consent prepared against another latest consent of its stream than the current one.
    #[error("the consent replaces {stated:?}, but the stream's latest consent is {latest:?}")]
    StaleConsent {
        /// What the consent names.
        stated: Option<TxId>,
        /// The stream's latest consent.
        latest: Option<TxId>,
    },
    /// A share whose stream id is not derived from its patient key and stream name: someone
    /// trying to share a stream id that is not theirs.
    #[error("stream id {0} is not derived from this patient key and stream name")]
    StreamNotOwned(String),
    /// The encoded transaction is over the size limit.
    #[error("the transaction is {size} bytes encoded, over the {limit}-byte limit")]
    TooLarge {
        /// Its encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The node cannot take more transactions now.
    #[error("{reason}; retry in {retry_after_secs} s")]
    Busy {
        /// Why.
        reason: String,
        /// When to retry.
        retry_after_secs: u32,
    },
    /// Revoking a stream that is not shared.
    #[error("stream {0:?} is not currently shared")]
    NotShared(String),
    /// A consent answering an unknown study request.
    #[error("no study request {0}")]
    UnknownStudy(TxId),
    /// A cohort range proof is missing, malformed, or does not verify for its commitment, its
    /// criterion, the study, this consent and this chain.
    #[error("cohort proof: {0}")]
    CohortProofInvalid(String),
    /// A consent's criteria are not exactly its study's (one missing, another order, other
    /// bounds), or it carries criteria without answering a study.
    #[error("cohort criteria: {0}")]
    CriteriaMismatch(String),
    /// An access to a stream whose policy requires escrow carries a plain token.
    #[error("stream {0:?} requires an escrowed token (its policy lets the inspector open reads)")]
    EscrowRequired(String),
    /// An escrow, an escrow policy or an opening on a chain whose genesis names no inspector.
    #[error("this chain has no inspector: {0}")]
    NoInspector(&'static str),
    /// An escrowed token for a depth without an escrow verifying key.
    #[error("no accepted escrow verifying key for registry depth {0}")]
    UnknownEscrowDepth(u8),
    /// An opening not signed by the genesis inspector's key.
    #[error("the inspector signature does not verify")]
    BadInspectorSignature,
    /// An opening of something that is not a committed access carrying an escrow.
    #[error("{0} cannot be opened: {1}")]
    NotOpenable(TxId, &'static str),
    /// A consent answering a study does not let the study's readers read (purpose, role,
    /// level): answering it would grant nothing.
    #[error("the share does not admit the study's readers: {0}")]
    StudyPolicyMismatch(String),
}

impl Rejection {
    /// The stable machine name of the reason (`RootNotInWindow`, `Replay`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Malformed(_) => "Malformed",
            Rejection::InvalidField { .. } => "InvalidField",
            Rejection::Replay(_) => "Replay",
            Rejection::UnexpectedGenesis => "UnexpectedGenesis",
            Rejection::UnknownIssuer(_) => "UnknownIssuer",
            Rejection::BadIssuerSignature => "BadIssuerSignature",
            Rejection::Registry(_) => "Registry",
            Rejection::RootNotInWindow { .. } => "RootNotInWindow",
            Rejection::StaleDay { .. } => "StaleDay",
            Rejection::WrongScope(_) => "WrongScope",
            Rejection::UnknownDepth(_) => "UnknownDepth",
            Rejection::ProofInvalid => "ProofInvalid",
            Rejection::RoleNotAllowed(_) => "RoleNotAllowed",
            Rejection::LevelTooLow { .. } => "LevelTooLow",
            Rejection::UnknownStream(_) => "UnknownStream",
            Rejection::ConsentRevoked(_) => "ConsentRevoked",
            Rejection::ConsentExpired { .. } => "ConsentExpired",
            Rejection::PurposeMismatch(_) => "PurposeMismatch",
            Rejection::BadPatientSignature => "BadPatientSignature",
            Rejection::PatientKeyMismatch => "PatientKeyMismatch",
            Rejection::StreamNotOwned(_) => "StreamNotOwned",
            Rejection::StaleConsent { .. } => "StaleConsent",
            Rejection::TooLarge { .. } => "TooLarge",
            Rejection::Busy { .. } => "Busy",
            Rejection::NotShared(_) => "NotShared",
            Rejection::UnknownStudy(_) => "UnknownStudy",
            Rejection::CohortProofInvalid(_) => "CohortProofInvalid",
            Rejection::CriteriaMismatch(_) => "CriteriaMismatch",
            Rejection::StudyPolicyMismatch(_) => "StudyPolicyMismatch",
            Rejection::EscrowRequired(_) => "EscrowRequired",
            Rejection::NoInspector(_) => "NoInspector",
            Rejection::UnknownEscrowDepth(_) => "UnknownEscrowDepth",
            Rejection::BadInspectorSignature => "BadInspectorSignature",
            Rejection::NotOpenable(..) => "NotOpenable",
        }
    }
}
