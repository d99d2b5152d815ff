//! The native registry tree: incremental append and revoke, precomputed empty subtrees, root
//! history and local path computation.

use ark_bls12_381::Fr;
use ark_ff::{AdditiveGroup, Zero};

use crate::poseidon::{self, Domain};

/// The value of an unused or revoked leaf.
pub const EMPTY_LEAF: Fr = Fr::ZERO;

/// Why a registry operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The depth is zero or above [`super::MAX_DEPTH`].
    #[error("registry depth must be between 1 and {max}, got {0}", max = super::MAX_DEPTH)]
    BadDepth(usize),
    /// All `2^depth` positions are used.
    #[error("the registry is full ({0} leaves)")]
    Full(u64),
    /// No leaf has been appended at this index.
    #[error("leaf index {index} is out of range (the registry has {size} leaves)")]
    NoSuchLeaf {
        /// The requested index.
        index: u64,
        /// The number of appended leaves.
        size: u64,
    },
    /// The leaf is already empty.
    #[error("leaf {0} is already revoked")]
    AlreadyRevoked(u64),
    /// The empty value cannot be appended as a credential.
    #[error("the empty leaf value cannot be appended as a credential")]
    EmptyLeaf,
}

/// `H_node(left, right)`.
pub fn hash_node(left: Fr, right: Fr) -> Fr {
    poseidon::hash(Domain::MerkleNode, &[left, right])
}

/// An authentication path: the sibling at each height from the leaf up, and the leaf index
/// (whose bits, least significant first, say whether the running node is a right child).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerklePath {
    /// Leaf position.
    pub index: u64,
    /// Siblings from the leaf level upwards; its length is the tree depth.
    pub siblings: Vec<Fr>,
}

impl MerklePath {
    /// The root this path leads to from `leaf`.
    pub fn root(&self, leaf: Fr) -> Fr {
        self.siblings
            .iter()
            .enumerate()
            .fold(leaf, |cur, (h, sib)| {
                if (self.index >> h) & 1 == 1 {
                    hash_node(*sib, cur)
                } else {
                    hash_node(cur, *sib)
                }
            })
    }
}

/// The sparse append-only Merkle tree of credential leaves.
///
/// `layers[0]` holds the leaves; `layers[h]` the nodes at height `h` that cover at least one
/// appended leaf. Everything to their right is an empty subtree whose root is `empty[h]`.
#[derive(Clone, Debug)]
pub struct RegistryTree {
    depth: usize,
    layers: Vec<Vec<Fr>>,
    empty: Vec<Fr>,
    roots: Vec<Fr>,
}

impl RegistryTree {
    /// An empty tree of `depth` levels (2^depth leaves).
    pub fn new(depth: usize) -> Result<Self, RegistryError> {
        if depth == 0 || depth > super::MAX_DEPTH {
            return Err(RegistryError::BadDepth(depth));
        }
        let mut empty = Vec::with_capacity(depth + 1);
        empty.push(EMPTY_LEAF);
        for h in 0..depth {
            empty.push(hash_node(empty[h], empty[h]));
        }
        let roots = vec![empty[depth]];
        Ok(RegistryTree {
            depth,
            layers: vec![Vec::new(); depth + 1],
            empty,
            roots,
        })
    }

    /// Builds the tree from the public leaf list in `O(n)` hashes. The root history then holds
    /// only the empty root and the final root.
    pub fn from_leaves(depth: usize, leaves: &[Fr]) -> Result<Self, RegistryError> {
        let mut tree = Self::new(depth)?;
        if leaves.len() as u128 > tree.capacity() as u128 {
            return Err(RegistryError::Full(tree.capacity()));
        }
        if leaves.is_empty() {
            return Ok(tree);
        }
        tree.layers[0] = leaves.to_vec();
        for h in 1..=depth {
            let below = &tree.layers[h - 1];
            let empty = tree.empty[h - 1];
            let layer: Vec<Fr> = below
                .chunks(2)
                .map(|pair| hash_node(pair[0], pair.get(1).copied().unwrap_or(empty)))
                .collect();
            tree.layers[h] = layer;
        }
        let root = tree.layers[depth][0];
        tree.roots.push(root);
        Ok(tree)
    }

    /// Tree depth.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Number of positions, `2^depth`.
    pub fn capacity(&self) -> u64 {
        1u64 << self.depth
    }

    /// Number of appended leaves (revoked ones included).
    pub fn len(&self) -> u64 {
        self.layers[0].len() as u64
    }

    /// Whether no leaf was ever appended.
    pub fn is_empty(&self) -> bool {
        self.layers[0].is_empty()
    }

    /// The leaf list, as clients sync it.
    pub fn leaves(&self) -> &[Fr] {
        &self.layers[0]
    }

    /// The current root.
    pub fn root(&self) -> Fr {
        *self.roots.last().expect("root history is never empty")
    }

    /// Every root this tree has had, oldest first (starting with the empty root).
    pub fn root_history(&self) -> &[Fr] {
        &self.roots
    }

    /// Whether `root` is among the last `window` roots (the current one included).
    pub fn is_recent_root(&self, root: &Fr, window: usize) -> bool {
        self.roots.iter().rev().take(window).any(|r| r == root)
    }

    /// Appends a credential leaf and returns its index.
    pub fn append(&mut self, leaf: Fr) -> Result<u64, RegistryError> {
        if leaf.is_zero() {
            return Err(RegistryError::EmptyLeaf);
        }
        let index = self.len();
        if index >= self.capacity() {
            return Err(RegistryError::Full(self.capacity()));
        }
        self.layers[0].push(leaf);
        self.update_path(index);
        Ok(index)
    }

    /// Empties the leaf at `index` (revocation).
    pub fn revoke(&mut self, index: u64) -> Result<(), RegistryError> {
        let size = self.len();
        let slot = self.layers[0]
            .get_mut(index as usize)
            .ok_or(RegistryError::NoSuchLeaf { index, size })?;
        if slot.is_zero() {
            return Err(RegistryError::AlreadyRevoked(index));
        }
        *slot = EMPTY_LEAF;
        self.update_path(index);
        Ok(())
    }

    /// Recomputes the nodes above leaf `index` and records the new root.
    fn update_path(&mut self, index: u64) {
        let mut pos = index as usize;
        for h in 1..=self.depth {
            let child = pos & !1;
            let below = &self.layers[h - 1];
            let left = below[child];
            let right = below.get(child + 1).copied().unwrap_or(self.empty[h - 1]);
            let node = hash_node(left, right);
            pos >>= 1;
            let layer = &mut self.layers[h];
            if pos == layer.len() {
                layer.push(node);
            } else {
                layer[pos] = node;
            }
        }
        let root = self.layers[self.depth][0];
        self.roots.push(root);
    }

    /// The authentication path of leaf `index`, computed locally.
    pub fn path(&self, index: u64) -> Result<MerklePath, RegistryError> {
        if index >= self.len() {
            return Err(RegistryError::NoSuchLeaf {
                index,
                size: self.len(),
            });
        }
        let siblings = (0..self.depth)
            .map(|h| {
                let sib = ((index >> h) ^ 1) as usize;
                self.layers[h].get(sib).copied().unwrap_or(self.empty[h])
            })
            .collect();
        Ok(MerklePath { index, siblings })
    }

    /// The index of the first live leaf equal to `leaf`, if any.
    pub fn position(&self, leaf: &Fr) -> Option<u64> {
        if leaf.is_zero() {
            return None;
        }
        self.layers[0]
            .iter()
            .position(|l| l == leaf)
            .map(|i| i as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(i: u64) -> Fr {
        Fr::from(1000 + i)
    }

    /// The naive definition: hash the full 2^depth leaf array level by level.
    fn naive_root(depth: usize, leaves: &[Fr]) -> Fr {
        let mut level: Vec<Fr> = (0..1usize << depth)
            .map(|i| leaves.get(i).copied().unwrap_or(EMPTY_LEAF))
            .collect();
        while level.len() > 1 {
            level = level.chunks(2).map(|p| hash_node(p[0], p[1])).collect();
        }
        level[0]
    }

    #[test]
    fn incremental_matches_naive_and_bulk() {
        for depth in [1, 2, 3, 5] {
            let mut t = RegistryTree::new(depth).unwrap();
            assert_eq!(t.root(), naive_root(depth, &[]));
            let mut leaves = vec![];
            for i in 0..(1u64 << depth) {
                assert_eq!(t.append(leaf(i)).unwrap(), i);
                leaves.push(leaf(i));
                assert_eq!(t.root(), naive_root(depth, &leaves));
                assert_eq!(
                    RegistryTree::from_leaves(depth, &leaves).unwrap().root(),
                    t.root()
                );
                for j in 0..=i {
                    assert_eq!(t.path(j).unwrap().root(leaves[j as usize]), t.root());
                }
            }
            assert_eq!(t.append(leaf(99)), Err(RegistryError::Full(1 << depth)));
        }
    }

    #[test]
    fn revoke_empties_the_leaf_and_moves_the_root() {
        let mut t = RegistryTree::new(4).unwrap();
        for i in 0..5 {
            t.append(leaf(i)).unwrap();
        }
        let before = t.root();
        let old_path = t.path(2).unwrap();
        t.revoke(2).unwrap();
        assert_ne!(t.root(), before);
        let mut leaves: Vec<Fr> = (0..5).map(leaf).collect();
        leaves[2] = EMPTY_LEAF;
        assert_eq!(t.root(), naive_root(4, &leaves));
        // The old path still leads to the old root, not the new one.
        assert_eq!(old_path.root(leaf(2)), before);
        assert_ne!(t.path(2).unwrap().root(leaf(2)), t.root());
        assert_eq!(t.revoke(2), Err(RegistryError::AlreadyRevoked(2)));
        assert_eq!(
            t.revoke(9),
            Err(RegistryError::NoSuchLeaf { index: 9, size: 5 })
        );
        assert_eq!(t.position(&leaf(2)), None);
        assert!(t.is_recent_root(&before, 2));
        assert!(!t.is_recent_root(&before, 1));
    }

    #[test]
    fn bad_depths_and_empty_leaves_are_refused() {
        assert_eq!(
            RegistryTree::new(0).unwrap_err(),
            RegistryError::BadDepth(0)
        );
        assert_eq!(
            RegistryTree::new(33).unwrap_err(),
            RegistryError::BadDepth(33)
        );
        let mut t = RegistryTree::new(3).unwrap();
        assert_eq!(t.append(EMPTY_LEAF), Err(RegistryError::EmptyLeaf));
        assert!(t.path(0).is_err());
    }

    #[test]
    fn depth_20_paths_are_local_and_correct() {
        let leaves: Vec<Fr> = (0..37).map(leaf).collect();
        let t = RegistryTree::from_leaves(20, &leaves).unwrap();
        let mut inc = RegistryTree::new(20).unwrap();
        for l in &leaves {
            inc.append(*l).unwrap();
        }
        assert_eq!(t.root(), inc.root());
        assert_eq!(t.path(36).unwrap().root(leaf(36)), t.root());
        assert_eq!(t.path(36).unwrap().siblings.len(), 20);
    }
}
