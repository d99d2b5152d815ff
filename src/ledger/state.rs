//! The in-memory part of the chain state, rebuilt from the store on open: the configuration,
//! the tip, the registry tree with each leaf's issuer, and the window of recent block roots.

use std::collections::VecDeque;

use consentry_circuits::registry::RegistryTree;
use consentry_circuits::{field, Fr};

use super::block::BlockHeader;
use super::execute::RegistryOp;
use super::transaction::Genesis;
use super::types::Hash32;

/// Configuration, tip, registry and root window.
pub struct ChainState {
    genesis: Genesis,
    tip: BlockHeader,
    tip_hash: Hash32,
    registry: RegistryTree,
    leaf_issuers: Vec<u32>,
    roots: VecDeque<Hash32>,
}

impl ChainState {
    /// The state right after the genesis block.
    pub fn new(genesis: Genesis, genesis_header: BlockHeader, registry: RegistryTree) -> Self {
        let mut s = ChainState {
            tip_hash: genesis_header.hash(),
            tip: genesis_header,
            genesis,
            registry,
            leaf_issuers: Vec::new(),
            roots: VecDeque::new(),
        };
        s.push_root();
        s
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

    /// The registry tree.
    pub fn registry(&self) -> &RegistryTree {
        &self.registry
    }

    /// The issuer that appended leaf `index` (which must exist).
    pub fn leaf_issuer(&self, index: u64) -> u32 {
        self.leaf_issuers[index as usize]
    }

    /// Records the issuer of the next appended leaf (used when rebuilding from the store).
    pub fn push_leaf_issuer(&mut self, issuer: u32) {
        self.leaf_issuers.push(issuer);
    }

    /// Registry roots a token may be proven against: the roots after the last `root_window`
    /// blocks, newest last.
    pub fn recent_roots(&self) -> Vec<Hash32> {
        self.roots.iter().copied().collect()
    }

    fn push_root(&mut self) {
        self.roots
            .push_back(Hash32(field::to_bytes(&self.registry.root())));
        while self.roots.len() > self.genesis.root_window.max(1) as usize {
            self.roots.pop_front();
        }
    }

    /// Applies a block's registry changes and returns the new root, without moving the tip.
    pub fn apply_registry(&mut self, ops: &[RegistryOp]) -> Result<Fr, String> {
        for op in ops {
            match op {
                RegistryOp::Append(leaf, issuer) => {
                    self.registry.append(*leaf).map_err(|e| e.to_string())?;
                    self.leaf_issuers.push(*issuer);
                }
                RegistryOp::Revoke(i) => self.registry.revoke(*i).map_err(|e| e.to_string())?,
            }
        }
        Ok(self.registry.root())
    }

    /// Moves the tip to a committed block and slides the root window.
    pub fn advance(&mut self, header: BlockHeader) {
        self.tip_hash = header.hash();
        self.tip = header;
        self.push_root();
    }

    /// Rebuilds the window from the registry roots of the last blocks, oldest first.
    pub fn set_recent_roots(&mut self, roots: Vec<Hash32>) {
        self.roots = roots.into();
        while self.roots.len() > self.genesis.root_window.max(1) as usize {
            self.roots.pop_front();
        }
    }
}
