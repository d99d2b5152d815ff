//! `verify-chain`: re-checks a stored chain from genesis by replaying every block into a
//! scratch RocksDB: header hash links, transaction Merkle roots, quorum signatures, every
//! issuer and patient signature, every token, and the registry root after each block.

use std::path::Path;

use super::chain::{read_block, read_height, LedgerError, LoadedKeys};
use super::records::{self, TxRecord};
use super::transaction::Transaction;
use super::Ledger;
use crate::store::{Column, RocksStore, Store};

/// What a successful check saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainSummary {
    /// Blocks checked (genesis included).
    pub blocks: u64,
    /// Transactions checked.
    pub transactions: u64,
    /// Presentation tokens verified.
    pub tokens: u64,
    /// Registry digest (every issuer's root) after the last block (hex).
    pub registry_digest: String,
}

/// The first height that fails, and why.
#[derive(Debug, thiserror::Error)]
#[error("block {height}: {reason}")]
pub struct ChainFault {
    /// The first bad height.
    pub height: u64,
    /// What is wrong.
    pub reason: String,
}

fn fault(height: u64, reason: impl ToString) -> ChainFault {
    ChainFault {
        height,
        reason: reason.to_string(),
    }
}

fn load_txs<S: Store>(
    store: &S,
    height: u64,
    ids: &[super::TxId],
) -> Result<Vec<Transaction>, ChainFault> {
    ids.iter()
        .map(|id| {
            let bytes = store
                .get(Column::Transactions, &id.0)
                .map_err(|e| fault(height, e))?
                .ok_or_else(|| fault(height, format!("transaction {id} is missing")))?;
            let rec: TxRecord =
                records::decode(Column::Transactions, &bytes).map_err(|e| fault(height, e))?;
            if rec.height != height {
                return Err(fault(
                    height,
                    format!("transaction {id} is recorded at height {}", rec.height),
                ));
            }
            let tx = Transaction::from_bytes(&rec.bytes)
                .map_err(|e| fault(height, format!("transaction {id}: {e}")))?;
            if tx.id() != *id {
                return Err(fault(
                    height,
                    format!("transaction {id} does not hash to its id"),
                ));
            }
            Ok(tx)
        })
        .collect()
}

/// Replays `source` into a scratch store under `scratch` and returns a summary, or the first
/// bad height.
pub fn verify_chain<S: Store>(
    source: &S,
    scratch: &Path,
    keys: &LoadedKeys,
) -> Result<ChainSummary, ChainFault> {
    let height = read_height(source)
        .map_err(|e| fault(0, e))?
        .ok_or_else(|| fault(0, "no chain in this store"))?;
    let block0 = read_block(source, 0)
        .map_err(|e| fault(0, e))?
        .ok_or_else(|| fault(0, "missing"))?;
    let mut txs0 = load_txs(source, 0, &block0.tx_ids)?;
    if txs0.len() != 1 {
        return Err(fault(
            0,
            "block 0 must hold exactly the genesis transaction",
        ));
    }
    let scratch_store = RocksStore::open(scratch).map_err(|e| fault(0, e))?;
    let mut ledger = Ledger::create_from_block(scratch_store, txs0.remove(0), block0, keys.clone())
        .map_err(|e| fault(0, e))?;
    let mut summary = ChainSummary {
        blocks: 1,
        transactions: 1,
        tokens: 0,
        registry_digest: String::new(),
    };
    for h in 1..=height {
        let block = read_block(source, h)
            .map_err(|e| fault(h, e))?
            .ok_or_else(|| fault(h, "missing"))?;
        let txs = load_txs(source, h, &block.tx_ids)?;
        summary.transactions += txs.len() as u64;
        summary.tokens += txs.iter().filter(|t| t.body.claim().is_some()).count() as u64;
        ledger.apply(&block, txs).map_err(|e| match e {
            LedgerError::InvalidBlock { height, reason } => fault(height, reason),
            other => fault(h, other),
        })?;
        summary.blocks += 1;
    }
    summary.registry_digest = ledger.registry_digest().to_hex();
    Ok(summary)
}
