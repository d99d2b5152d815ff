//! The ledger: transactions and their canonical encoding, validation, blocks, and the chain
//! state over a [`crate::store::Store`]. It knows nothing of HTTP or of the consensus engine.
//!
//! Revocation delay: tokens are accepted against the registry roots after the last
//! `root_window` blocks. A credential revoked in block `k+1` can still be used, through a
//! token proven against a root from block `k` or earlier, in blocks `k+2 ..= k+root_window`,
//! that is for `root_window - 1` blocks after the revoking block; from block
//! `k+root_window+1` on it is refused (`RootNotInWindow`), and no token can be proven against a
//! root that does not contain the leaf.

pub mod block;
mod chain;
mod checks;
pub mod execute;
pub mod fixture;
pub mod keys;
pub mod records;
mod rejection;
mod state;
pub mod transaction;
pub mod types;
mod verify_chain;

pub use block::{Block, BlockHeader, BlockSignature};
pub use chain::{
    read_block, read_genesis, read_height, read_tx, AdmissionContext, Ledger, LedgerError,
    LoadedKey, Proposal, Sealed,
};
pub use checks::check_stream_id;
pub use rejection::Rejection;
pub use transaction::{
    Access, Auth, Body, CohortRange, Consent, ConsentAction, Genesis, IssueCredential, IssuerEntry,
    Policy, RevokeCredential, StudyRequest, TokenClaim, Transaction, VerifyingKeyEntry,
    PATIENT_SIGNING_CONTEXT,
};
pub use types::{Hash32, TxId};
pub use verify_chain::{verify_chain, ChainFault, ChainSummary};
