//! The native registry tree: a 4-ary Merkle tree with incremental append and revoke,
//! precomputed empty subtrees, root history and local path computation.
//!
//! A tree of depth `d` (`d` even) holds `2^d` leaves in `d/2` levels of arity 4; a node is
//! `H_node(c0, c1, c2, c3)`, one width-5 Poseidon permutation. Four children per node halve
//! the number of hashes on a path against a binary tree, which is what the access circuit pays
//! for (README, Performance). The leaf index is read two bits at a time, least significant
//! first: bits `2h` and `2h+1` give the running node's position among its siblings at level
//! `h`.

use ark_bls12_381::Fr;
use ark_ff::{AdditiveGroup, Zero};
use zeroize::Zeroize;

use crate::poseidon::{self, Domain};

/// The value of an unused or revoked leaf.
pub const EMPTY_LEAF: Fr = Fr::ZERO;

/// Children per node.
pub const ARITY: usize = 4;

/// Why a registry operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The depth is odd, zero or above [`super::MAX_DEPTH`].
    #[error(
        "registry depth must be even and between 2 and {max} (a 4-ary tree of depth/2 levels), got {0}",
        max = super::MAX_DEPTH
    )]
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

/// The number of 4-ary levels of a tree of `depth` (`2^depth` leaves), if the depth is valid:
/// even, at least 2 and at most [`super::MAX_DEPTH`].
pub fn levels(depth: usize) -> Result<usize, RegistryError> {
    if depth == 0 || depth % 2 == 1 || depth > super::MAX_DEPTH {
        return Err(RegistryError::BadDepth(depth));
    }
    Ok(depth / 2)
}

/// `H_node(c0, c1, c2, c3)`.
pub fn hash_node(children: &[Fr; ARITY]) -> Fr {
    poseidon::hash(Domain::MerkleNode, children)
}

/// The children of a node whose child at `position` is `cur` and whose other children are
/// `siblings`, in order.
fn place(cur: Fr, siblings: &[Fr; ARITY - 1], position: usize) -> [Fr; ARITY] {
    let mut out = [Fr::ZERO; ARITY];
    let mut rest = siblings.iter();
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = if i == position {
            cur
        } else {
            *rest.next().expect("three siblings fill the other slots")
        };
    }
    out
}

/// An authentication path: at each level from the leaf up, the running node's three siblings
/// in order, and the leaf index (whose base-4 digits, least significant first, give the running
/// node's position among its siblings).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerklePath {
    /// Leaf position.
    pub index: u64,
    /// Siblings from the leaf level upwards; its length is half the tree depth.
    pub siblings: Vec<[Fr; ARITY - 1]>,
}

/// A holder's path says which leaf is its credential, so the witness that carries one wipes
/// it ([`crate::access::AccessWitness`]).
impl Zeroize for MerklePath {
    fn zeroize(&mut self) {
        self.index.zeroize();
        self.siblings.zeroize();
    }
}

impl MerklePath {
    /// The tree depth this path is for (`2^depth` leaves): two bits of index per level.
    pub fn depth(&self) -> usize {
        2 * self.siblings.len()
    }

    /// The position of the running node among its siblings at `level`.
    pub fn position(&self, level: usize) -> usize {
        ((self.index >> (2 * level)) & 3) as usize
    }

    /// The root this path leads to from `leaf`.
    pub fn root(&self, leaf: Fr) -> Fr {
        self.siblings
            .iter()
            .enumerate()
            .fold(leaf, |cur, (h, sibs)| {
                hash_node(&place(cur, sibs, self.position(h)))
            })
    }
}

/// The sparse append-only 4-ary Merkle tree of credential leaves.
///
/// `layers[0]` holds the leaves; `layers[h]` the nodes at level `h` that cover at least one
/// appended leaf. Everything to their right is an empty subtree whose root is `empty[h]`.
#[derive(Clone, Debug)]
pub struct RegistryTree {
    depth: usize,
    layers: Vec<Vec<Fr>>,
    empty: Vec<Fr>,
    roots: Vec<Fr>,
}

impl RegistryTree {
    /// An empty tree of `depth` (2^depth leaves in depth/2 levels).
    pub fn new(depth: usize) -> Result<Self, RegistryError> {
        let levels = levels(depth)?;
        let mut empty = Vec::with_capacity(levels + 1);
        empty.push(EMPTY_LEAF);
        for h in 0..levels {
            empty.push(hash_node(&[empty[h]; ARITY]));
        }
        let roots = vec![empty[levels]];
        Ok(RegistryTree {
            depth,
            layers: vec![Vec::new(); levels + 1],
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
        for h in 1..=tree.levels() {
            let below = &tree.layers[h - 1];
            let empty = tree.empty[h - 1];
            let layer: Vec<Fr> = below
                .chunks(ARITY)
                .map(|group| {
                    hash_node(&std::array::from_fn(|i| {
                        group.get(i).copied().unwrap_or(empty)
                    }))
                })
                .collect();
            tree.layers[h] = layer;
        }
        let root = tree.layers[tree.levels()][0];
        tree.roots.push(root);
        Ok(tree)
    }

    /// Tree depth: the tree holds `2^depth` leaves.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Number of 4-ary levels, `depth / 2`.
    pub fn levels(&self) -> usize {
        self.depth / 2
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

    /// Appends a credential leaf and returns its index: `depth / 2` node hashes.
    pub fn append(&mut self, leaf: Fr) -> Result<u64, RegistryError> {
        self.batch().append(leaf)
    }

    /// Empties the leaf at `index` (revocation).
    pub fn revoke(&mut self, index: u64) -> Result<(), RegistryError> {
        self.batch().revoke(index)
    }

    /// Starts a batch of appends and revocations whose nodes are rehashed once, when the
    /// batch is dropped: a node that several changed leaves share is hashed once, not once per
    /// leaf. The ledger applies a block's registry changes as one batch, since tokens can only
    /// be proven against roots between blocks; `n` appends in a row cost about
    /// `n/3 + depth/2` node hashes instead of `n·depth/2`. The root history records one root
    /// per batch (none for an empty one).
    pub fn batch(&mut self) -> RegistryBatch<'_> {
        RegistryBatch {
            tree: self,
            dirty: Vec::new(),
        }
    }

    /// Recomputes every node above the leaves at `dirty` (each once) and records the new root.
    fn rehash(&mut self, mut dirty: Vec<usize>) {
        if dirty.is_empty() {
            return;
        }
        for h in 1..=self.levels() {
            dirty.iter_mut().for_each(|pos| *pos /= ARITY);
            dirty.sort_unstable();
            dirty.dedup();
            let (below, above) = self.layers.split_at_mut(h);
            let (below, layer, empty) = (&below[h - 1], &mut above[0], self.empty[h - 1]);
            // Ascending positions: a new node is always the next one of its layer.
            for &pos in &dirty {
                let first = pos * ARITY;
                let node = hash_node(&std::array::from_fn(|i| {
                    below.get(first + i).copied().unwrap_or(empty)
                }));
                if pos == layer.len() {
                    layer.push(node);
                } else {
                    layer[pos] = node;
                }
            }
        }
        let root = self.layers[self.levels()][0];
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
        let siblings = (0..self.levels())
            .map(|h| {
                let pos = (index >> (2 * h)) as usize;
                let first = pos & !(ARITY - 1);
                let mut others = (first..first + ARITY).filter(|&i| i != pos);
                std::array::from_fn(|_| {
                    let i = others.next().expect("three siblings");
                    self.layers[h].get(i).copied().unwrap_or(self.empty[h])
                })
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

/// Appends and revocations applied to a [`RegistryTree`] together ([`RegistryTree::batch`]).
///
/// Each change is checked and applied to the leaves at once (so a later change in the batch
/// sees it); the nodes above them are rehashed when the batch is dropped, also after a change
/// was refused, so the tree is never left with stale nodes. (Leaking a batch with
/// `std::mem::forget` would leave them stale: never do that.)
pub struct RegistryBatch<'a> {
    tree: &'a mut RegistryTree,
    dirty: Vec<usize>,
}

impl RegistryBatch<'_> {
    /// Appends a credential leaf and returns its index.
    pub fn append(&mut self, leaf: Fr) -> Result<u64, RegistryError> {
        if leaf.is_zero() {
            return Err(RegistryError::EmptyLeaf);
        }
        let index = self.tree.len();
        if index >= self.tree.capacity() {
            return Err(RegistryError::Full(self.tree.capacity()));
        }
        self.tree.layers[0].push(leaf);
        self.dirty.push(index as usize);
        Ok(index)
    }

    /// Empties the leaf at `index` (revocation).
    pub fn revoke(&mut self, index: u64) -> Result<(), RegistryError> {
        let size = self.tree.len();
        let slot = self.tree.layers[0]
            .get_mut(index as usize)
            .ok_or(RegistryError::NoSuchLeaf { index, size })?;
        if slot.is_zero() {
            return Err(RegistryError::AlreadyRevoked(index));
        }
        *slot = EMPTY_LEAF;
        self.dirty.push(index as usize);
        Ok(())
    }
}

impl Drop for RegistryBatch<'_> {
    fn drop(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        self.tree.rehash(dirty);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaf(i: u64) -> Fr {
        Fr::from(1000 + i)
    }

    /// The naive definition: hash the full 2^depth leaf array level by level, four at a time.
    fn naive_root(depth: usize, leaves: &[Fr]) -> Fr {
        let mut level: Vec<Fr> = (0..1usize << depth)
            .map(|i| leaves.get(i).copied().unwrap_or(EMPTY_LEAF))
            .collect();
        while level.len() > 1 {
            level = level
                .chunks(ARITY)
                .map(|c| hash_node(&[c[0], c[1], c[2], c[3]]))
                .collect();
        }
        level[0]
    }

    #[test]
    fn incremental_matches_naive_and_bulk() {
        for depth in [2, 4, 6] {
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
                    let path = t.path(j).unwrap();
                    assert_eq!(path.depth(), depth);
                    assert_eq!(path.root(leaves[j as usize]), t.root());
                }
            }
            assert_eq!(t.append(leaf(99)), Err(RegistryError::Full(1 << depth)));
        }
    }

    #[test]
    fn each_position_places_the_node_among_its_siblings() {
        let (cur, s) = (
            Fr::from(9u64),
            [Fr::from(1u64), Fr::from(2u64), Fr::from(3u64)],
        );
        assert_eq!(place(cur, &s, 0), [cur, s[0], s[1], s[2]]);
        assert_eq!(place(cur, &s, 1), [s[0], cur, s[1], s[2]]);
        assert_eq!(place(cur, &s, 2), [s[0], s[1], cur, s[2]]);
        assert_eq!(place(cur, &s, 3), [s[0], s[1], s[2], cur]);
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
        for bad in [0, 1, 3, 21, 33, 34] {
            assert_eq!(
                RegistryTree::new(bad).unwrap_err(),
                RegistryError::BadDepth(bad)
            );
        }
        assert!(RegistryError::BadDepth(3).to_string().contains("even"));
        assert_eq!(levels(32), Ok(16));
        let mut t = RegistryTree::new(4).unwrap();
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
        assert_eq!(t.path(36).unwrap().siblings.len(), 10);
    }

    /// A fixed vector: the root of the depth-4 tree holding leaves 1, 2, 3, 4, 5. Changing the
    /// node hash, the arity, the empty value or the child order breaks it.
    #[test]
    fn fixed_root_vector() {
        let leaves: Vec<Fr> = (1..=5u64).map(Fr::from).collect();
        let t = RegistryTree::from_leaves(4, &leaves).unwrap();
        assert_eq!(
            crate::field::to_hex(&t.root()),
            "0x35977971be005daf7328feb7fb64b99894f0f717fecddb917051b3674f59ed6f"
        );
    }

    /// A refused change inside a batch leaves the tree consistent: the changes before it are
    /// hashed in, the refused one changes nothing.
    #[test]
    fn a_batch_with_a_refused_change_still_rehashes_what_it_changed() {
        let mut t = RegistryTree::new(4).unwrap();
        let result = (|| {
            let mut b = t.batch();
            b.append(leaf(0))?;
            b.append(leaf(1))?;
            b.revoke(7)
        })();
        assert_eq!(result, Err(RegistryError::NoSuchLeaf { index: 7, size: 2 }));
        assert_eq!(t.root(), naive_root(4, &[leaf(0), leaf(1)]));
        assert_eq!(t.root_history().len(), 2, "one root for the batch");
        t.batch();
        assert_eq!(t.root_history().len(), 2, "none for an empty batch");
    }

    proptest! {
        /// A batch of appends and revocations gives the same tree as the changes one by one,
        /// and the same as rebuilding from the final leaves.
        #[test]
        fn a_batch_equals_its_changes_one_by_one(
            start in 0u64..40,
            ops in proptest::collection::vec((any::<bool>(), 0u64..80), 0..40),
        ) {
            let leaves: Vec<Fr> = (0..start).map(leaf).collect();
            let mut one = RegistryTree::from_leaves(6, &leaves).unwrap();
            let mut batched = one.clone();
            let before = one.root_history().len();
            let mut b = batched.batch();
            for (n, (is_append, i)) in ops.iter().enumerate() {
                if *is_append {
                    prop_assert_eq!(one.append(leaf(1000 + n as u64)), b.append(leaf(1000 + n as u64)));
                } else {
                    prop_assert_eq!(one.revoke(*i), b.revoke(*i));
                }
            }
            drop(b);
            // One root per applied change one by one; one for the whole batch (none if empty).
            let applied = one.root_history().len() - before;
            prop_assert_eq!(batched.root_history().len(), before + usize::from(applied > 0));
            prop_assert_eq!(one.root(), batched.root());
            prop_assert_eq!(one.leaves(), batched.leaves());
            prop_assert_eq!(RegistryTree::from_leaves(6, batched.leaves()).unwrap().root(), batched.root());
            for i in 0..batched.len() {
                prop_assert_eq!(one.path(i).unwrap(), batched.path(i).unwrap());
            }
        }

        /// Any change to a sibling, the index or the leaf moves the root a path leads to.
        #[test]
        fn tampered_paths_lead_elsewhere(n in 1u64..64, pick in any::<u64>(), which in 0usize..9) {
            let leaves: Vec<Fr> = (0..n).map(leaf).collect();
            let t = RegistryTree::from_leaves(6, &leaves).unwrap();
            let i = pick % n;
            let path = t.path(i).unwrap();
            prop_assert_eq!(path.root(leaf(i)), t.root());
            prop_assert_ne!(path.root(leaf(i + 1)), t.root());
            let mut bad = path.clone();
            bad.siblings[which / 3][which % 3] += Fr::from(1u64);
            prop_assert_ne!(bad.root(leaf(i)), t.root());
            let mut moved = path;
            moved.index ^= 1 << (which % 6);
            prop_assert_ne!(moved.root(leaf(i)), t.root());
        }
    }
}
