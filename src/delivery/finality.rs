//! Is this transaction committed and final? Checked from the genesis alone, never on one
//! node's word: what a data platform asks before it releases a stream's records.
//!
//! A node answers a block and a transaction; this checks that the transaction hashes to the
//! id the block lists, that the block's Merkle root covers its list of ids, and that a quorum
//! of the genesis validators signed the block's header. A node can still *withhold* (answer
//! nothing, or an older block), which is why the data node asks several validators and why
//! a revocation any of them shows final wins.

use crate::ledger::{block::tx_root, check_quorum, Block, Genesis, LedgerError, Transaction};

/// Why a transaction is not shown committed and final.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FinalityError {
    /// The block does not list the transaction.
    #[error("transaction {0} is not in block {1}")]
    NotInBlock(String, u64),
    /// The block's list of ids does not hash to its header's Merkle root.
    #[error("block {0}: its transaction ids do not match the header's Merkle root")]
    TxRoot(u64),
    /// The header does not carry a quorum of valid genesis validator signatures.
    #[error("block {height} is not final: {reason}")]
    NotFinal {
        /// The block's height.
        height: u64,
        /// What the quorum check found.
        reason: String,
    },
}

/// Checks that `tx` is in `block` and that `block` is final under `genesis`.
pub fn check_final(
    genesis: &Genesis,
    block: &Block,
    tx: &Transaction,
) -> Result<(), FinalityError> {
    let height = block.header.height;
    let id = tx.id();
    if !block.tx_ids.contains(&id) {
        return Err(FinalityError::NotInBlock(id.to_hex(), height));
    }
    if tx_root(&block.tx_ids) != block.header.tx_root {
        return Err(FinalityError::TxRoot(height));
    }
    check_quorum(genesis, &block.header, &block.signatures).map_err(|e| match e {
        LedgerError::InvalidBlock { reason, .. } => FinalityError::NotFinal { height, reason },
        other => FinalityError::NotFinal {
            height,
            reason: other.to_string(),
        },
    })
}
