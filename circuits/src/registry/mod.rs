//! The credential registry: one append-only sparse 4-ary Merkle tree of credential leaves.
//!
//! Unused and revoked positions hold [`EMPTY_LEAF`] (zero). Nobody can open a path to the empty
//! value as a credential, because that would need a preimage of zero under `H_leaf`.
//!
//! Privacy rule (DESIGN.md): an institution never asks a node for its own path by index; it
//! syncs the public leaf list and builds the tree locally ([`RegistryTree::from_leaves`]).

mod gadget;
mod tree;

pub use gadget::root_from_path_var;
pub use tree::{
    hash_node, levels, MerklePath, RegistryBatch, RegistryError, RegistryTree, ARITY, EMPTY_LEAF,
};

/// Registry depth used by the shipped keys: 2^20 (about a million) credentials, 10 levels.
pub const DEFAULT_DEPTH: usize = 20;
/// Largest depth we support (leaf indices are `u64`, paths are in memory).
pub const MAX_DEPTH: usize = 32;
