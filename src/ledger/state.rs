//! The in-memory part of the chain state, rebuilt from the store on open: the configuration,
//! the tip, and the registry forest with its root window.

use super::block::BlockHeader;
use super::forest::{Forest, RegistryOp};
use super::transaction::Genesis;
use super::types::Hash32;

/// Configuration, tip and registry forest.
pub struct ChainState {
    genesis: Genesis,
    tip: BlockHeader,
    tip_hash: Hash32,
    forest: Forest,
}

impl ChainState {
    /// The state at `tip` with `forest` (whose window the caller has restored).
    pub fn new(genesis: Genesis, tip: BlockHeader, forest: Forest) -> Self {
        ChainState {
            tip_hash: tip.hash(),
            tip,
            genesis,
            forest,
        }
    }

    /// The chain configuration.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The latest block header.
    pub fn tip(&self) -> &BlockHeader {
        &self.tip
    }

    /// Hash of the latest block header.
    pub fn tip_hash(&self) -> Hash32 {
        self.tip_hash
    }

    /// The registry forest.
    pub fn forest(&self) -> &Forest {
        &self.forest
    }

    /// Applies a block's registry changes at its time and returns the roots they replaced,
    /// without moving the tip.
    pub fn apply_registry(
        &mut self,
        ops: &[RegistryOp],
        time_ms: u64,
    ) -> Result<Vec<(u32, Hash32)>, String> {
        self.forest.apply(ops, time_ms)
    }

    /// Moves the tip to a committed block.
    pub fn advance(&mut self, header: BlockHeader) {
        self.tip_hash = header.hash();
        self.tip = header;
    }
}
