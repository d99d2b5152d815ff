//! The ledger: transactions and their canonical encoding, validation, blocks, and the chain
//! state over a [`crate::store::Store`]. It knows nothing of HTTP or of the consensus engine.
//!
//! Revocation delay: a token is accepted against its issuer's current registry root, or a root
//! that root replaced no more than `root_window_secs` of block time before ([`RootWindow`]).
//! A credential revoked in a block at time `t` is refused (`RootNotInWindow`) in every block
//! after `t + root_window_secs`, however few blocks were made in between.

pub mod block;
mod chain;
mod checks;
pub mod execute;
pub mod fixture;
mod forest;
pub mod keys;
pub mod records;
mod rejection;
mod state;
pub mod transaction;
pub mod types;
mod verify_chain;

pub use block::{Block, BlockHeader, BlockSignature};
pub use chain::{
    check_quorum, genesis_key_ids, read_block, read_genesis, read_height, read_tx,
    AdmissionContext, Countersign, KeyId, Ledger, LedgerError, LoadedKey, LoadedKeys, Proposal,
    Sealed, Verifiers,
};
pub use checks::{check_stream_id, check_stream_name, patient_key, PROOF_BYTES, SIGNATURE_BYTES};
pub use forest::{Forest, RegistryOp, RootWindow};
pub use rejection::Rejection;
pub use transaction::{
    stream_id_for, Access, Auth, Body, CohortCommitment, CohortRange, Consent, Genesis,
    InspectorEntry, IssueCredential, IssuerEntry, Opening, Policy, RevokeConsent, RevokeCredential,
    StudyRequest, TokenClaim, Transaction, VerifyingKeyEntry, MAX_TX_BYTES,
    PATIENT_SIGNING_CONTEXT,
};
pub use types::{EscrowBytes, Hash32, TxId};
pub use verify_chain::{verify_chain, ChainFault, ChainSummary};
