//! The credential registry as a forest: one append-only 4-ary tree per issuer, and for each a
//! window of recent roots bounded in time.
//!
//! **Why one tree per issuer.** A leaf is a hash: the ledger cannot see the `issuer_id` inside
//! it. In a single shared tree, issuer 1 could append leaves that disclose issuer 2 (which
//! issuer 2 could not revoke), and issuer 2 could re-append a copy of a leaf issuer 1 had just
//! revoked. Here every issuer appends only to its own tree, and a token that discloses
//! `issuer_id = i` is accepted only against a recent root of tree `i`; the circuit rebuilds the
//! leaf from that public `issuer_id`, so a leaf naming issuer 2 inside issuer 1's tree can
//! never be used, and neither can a copy of issuer 1's leaf inside issuer 2's tree. The
//! alternative, a hash of the leaf and its appending issuer inside the circuit, costs a
//! width-3 Poseidon permutation (243 constraints), which would push the circuit past its
//! 4,096-point QAP domain and double the prover's FFTs; the forest costs no constraint and no
//! new keys. The anonymity set is unchanged: tokens disclose their issuer anyway. A client
//! syncs only its own issuer's leaves.
//!
//! **Revocation delay in time.** A root stays acceptable while it is its issuer's current
//! root, and for `root_window_secs` of block time after a later root replaced it. So a
//! revoked credential (its issuer's root changes in the revoking block) can be used for at
//! most `root_window_secs` after the revoking block's time, however quiet the chain is: block
//! times come from the clock of the block that carries the token, not from block counts.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use consentry_circuits::field::{self, sha256_tagged};
use consentry_circuits::registry::{RegistryError, RegistryTree};
use consentry_circuits::Fr;

use super::transaction::Genesis;
use super::types::Hash32;

/// A change to an issuer's tree, applied when the block is sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegistryOp {
    /// Append a leaf to an issuer's tree.
    Append {
        /// The appending issuer.
        issuer: u32,
        /// The leaf.
        leaf: Fr,
    },
    /// Empty the leaf at `index` of an issuer's tree.
    Revoke {
        /// The issuer.
        issuer: u32,
        /// Leaf index in its tree.
        index: u64,
    },
}

/// The roots a token may be proven against, per issuer, with when each was replaced. Cheap to
/// share ([`Arc`]): admission copies it out of the ledger to check tokens without the lock.
#[derive(Clone, Debug, Default)]
pub struct RootWindow {
    window_ms: u64,
    /// `(issuer, root)` -> `None` while current, `Some(t)` once replaced at block time `t`.
    roots: HashMap<(u32, Hash32), Option<u64>>,
}

impl RootWindow {
    /// Whether a token disclosing `issuer` may be proven against `root` in a block at
    /// `time_ms`: the root is the issuer's current root, or was replaced no more than the
    /// window before `time_ms`.
    pub fn accepts(&self, issuer: u32, root: &Hash32, time_ms: u64) -> bool {
        match self.roots.get(&(issuer, *root)) {
            Some(None) => true,
            Some(Some(replaced)) => time_ms <= replaced.saturating_add(self.window_ms),
            None => false,
        }
    }

    /// The window, in seconds.
    pub fn window_secs(&self) -> u64 {
        self.window_ms / 1000
    }
}

struct IssuerTree {
    tree: RegistryTree,
    /// Roots replaced within the window, oldest first, with when.
    replaced: VecDeque<(Hash32, u64)>,
}

/// Every issuer's tree and root window.
pub struct Forest {
    trees: BTreeMap<u32, IssuerTree>,
    window_ms: u64,
    window: Arc<RootWindow>,
}

fn root_of(tree: &RegistryTree) -> Hash32 {
    Hash32(field::to_bytes(&tree.root()))
}

impl Forest {
    /// Empty trees for the genesis issuers, or trees from their leaves (`leaves[i]` for
    /// issuer `i`; missing issuers start empty).
    pub fn new(genesis: &Genesis, leaves: &BTreeMap<u32, Vec<Fr>>) -> Result<Forest, String> {
        let depth = genesis.registry_depth as usize;
        if let Some(stray) = leaves
            .keys()
            .find(|i| !genesis.issuers.iter().any(|e| e.issuer_id == **i))
        {
            return Err(format!("leaves stored for unregistered issuer {stray}"));
        }
        let mut trees = BTreeMap::new();
        for entry in &genesis.issuers {
            let tree = match leaves.get(&entry.issuer_id) {
                Some(l) => RegistryTree::from_leaves(depth, l),
                None => RegistryTree::new(depth),
            }
            .map_err(|e: RegistryError| format!("issuer {}: {e}", entry.issuer_id))?;
            trees.insert(
                entry.issuer_id,
                IssuerTree {
                    tree,
                    replaced: VecDeque::new(),
                },
            );
        }
        let mut forest = Forest {
            trees,
            window_ms: genesis.root_window_secs as u64 * 1000,
            window: Arc::default(),
        };
        forest.rebuild_window(0);
        Ok(forest)
    }

    /// The tree of `issuer`, if registered.
    pub fn tree(&self, issuer: u32) -> Option<&RegistryTree> {
        self.trees.get(&issuer).map(|t| &t.tree)
    }

    /// Every issuer's tree, by issuer id.
    pub fn trees(&self) -> impl Iterator<Item = (u32, &RegistryTree)> {
        self.trees.iter().map(|(i, t)| (*i, &t.tree))
    }

    /// The roots tokens may be proven against.
    pub fn window(&self) -> Arc<RootWindow> {
        self.window.clone()
    }

    /// `issuer`'s acceptable roots at `time_ms`, newest first.
    pub fn recent_roots(&self, issuer: u32, time_ms: u64) -> Vec<Hash32> {
        let Some(t) = self.trees.get(&issuer) else {
            return Vec::new();
        };
        let mut out = vec![root_of(&t.tree)];
        for (root, at) in t.replaced.iter().rev() {
            // A root can recur (revoking a tree's only leaf gives the empty tree's root
            // again); list it once.
            if time_ms <= at.saturating_add(self.window_ms) && !out.contains(root) {
                out.push(*root);
            }
        }
        out
    }

    /// What a block header commits to: SHA-256 over every issuer's id and root, in issuer
    /// order.
    pub fn digest(&self) -> Hash32 {
        let mut data = Vec::with_capacity(self.trees.len() * 36);
        for (issuer, t) in &self.trees {
            data.extend_from_slice(&issuer.to_be_bytes());
            data.extend_from_slice(&root_of(&t.tree).0);
        }
        Hash32(sha256_tagged(b"consentry/v1/registry-forest", &data))
    }

    /// Applies a block's registry changes at block time `time_ms`; returns the roots they
    /// replaced (one per changed issuer), which the ledger stores so that a reopened node
    /// rebuilds the same window. An unregistered issuer anywhere in `ops` is reported before
    /// any change is applied; a change a tree refuses fails the block after the changes before
    /// it (the ledger then goes stale either way).
    pub fn apply(
        &mut self,
        ops: &[RegistryOp],
        time_ms: u64,
    ) -> Result<Vec<(u32, Hash32)>, String> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let issuer_of = |op: &RegistryOp| match op {
            RegistryOp::Append { issuer, .. } | RegistryOp::Revoke { issuer, .. } => *issuer,
        };
        let mut before: BTreeMap<u32, Hash32> = BTreeMap::new();
        for issuer in ops.iter().map(issuer_of) {
            let t = self
                .trees
                .get(&issuer)
                .ok_or_else(|| format!("issuer {issuer} is not registered"))?;
            before.entry(issuer).or_insert_with(|| root_of(&t.tree));
        }
        {
            // One batch per changed tree: a node that several of the block's changes share is
            // hashed once (the roots between them are never visible to a client).
            let mut batches: BTreeMap<u32, _> = self
                .trees
                .iter_mut()
                .filter(|(issuer, _)| before.contains_key(issuer))
                .map(|(issuer, t)| (*issuer, t.tree.batch()))
                .collect();
            for op in ops {
                let issuer = issuer_of(op);
                let batch = batches
                    .get_mut(&issuer)
                    .expect("a batch for every issuer checked above");
                match op {
                    RegistryOp::Append { leaf, .. } => batch.append(*leaf).map(|_| ()),
                    RegistryOp::Revoke { index, .. } => batch.revoke(*index),
                }
                .map_err(|e| format!("issuer {issuer}: {e}"))?;
            }
        }
        let replaced: Vec<(u32, Hash32)> = before.into_iter().collect();
        for (issuer, root) in &replaced {
            self.restore_replaced(*issuer, *root, time_ms);
        }
        self.rebuild_window(time_ms);
        Ok(replaced)
    }

    /// Records that `issuer`'s `root` was replaced at `time_ms` (oldest first; used when
    /// reopening a store).
    pub fn restore_replaced(&mut self, issuer: u32, root: Hash32, time_ms: u64) {
        if let Some(t) = self.trees.get_mut(&issuer) {
            t.replaced.push_back((root, time_ms));
        }
    }

    /// Forgets roots replaced more than the window before `now_ms` (no later block can
    /// accept them: block times never go backwards) and republishes the window.
    pub fn rebuild_window(&mut self, now_ms: u64) {
        let mut roots = HashMap::new();
        for (issuer, t) in self.trees.iter_mut() {
            while t
                .replaced
                .front()
                .is_some_and(|(_, at)| at.saturating_add(self.window_ms) < now_ms)
            {
                t.replaced.pop_front();
            }
            for (root, at) in &t.replaced {
                roots.insert((*issuer, *root), Some(*at));
            }
            roots.insert((*issuer, root_of(&t.tree)), None);
        }
        self.window = Arc::new(RootWindow {
            window_ms: self.window_ms,
            roots,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::transaction::IssuerEntry;

    fn genesis(window_secs: u32) -> Genesis {
        Genesis {
            chain_id: "t".into(),
            validators: vec![[1; 32]],
            quorum: 1,
            issuers: [1u32, 2]
                .iter()
                .map(|i| IssuerEntry {
                    issuer_id: *i,
                    name: format!("issuer {i}"),
                    key: [0; 32],
                })
                .collect(),
            verifying_keys: vec![],
            root_window_secs: window_secs,
            registry_depth: 4,
            time_ms: 0,
            inspector: None,
        }
    }

    fn append(issuer: u32, leaf: u64) -> RegistryOp {
        RegistryOp::Append {
            issuer,
            leaf: Fr::from(leaf),
        }
    }

    /// A block's changes, applied as one batch per tree, give the trees (and the header's
    /// digest) that the same changes give one block at a time; the window keeps the root
    /// before the block, not the intermediate ones no client could see. A change the tree
    /// refuses fails the block and names the issuer.
    #[test]
    fn a_block_of_changes_equals_the_changes_one_at_a_time() {
        let revoke = |issuer, index| RegistryOp::Revoke { issuer, index };
        let ops = [
            append(1, 5),
            append(2, 7),
            append(1, 6),
            revoke(1, 0),
            append(1, 8),
            revoke(2, 0),
        ];
        let mut whole = Forest::new(&genesis(60), &BTreeMap::new()).unwrap();
        let mut single = Forest::new(&genesis(60), &BTreeMap::new()).unwrap();
        let empty = root_of(whole.tree(1).unwrap());
        let replaced = whole.apply(&ops, 1_000).unwrap();
        for op in &ops {
            single.apply(std::slice::from_ref(op), 1_000).unwrap();
        }
        assert_eq!(whole.digest(), single.digest());
        for issuer in [1, 2] {
            let (a, b) = (whole.tree(issuer).unwrap(), single.tree(issuer).unwrap());
            assert_eq!((a.root(), a.leaves()), (b.root(), b.leaves()));
        }
        assert_eq!(replaced.len(), 2, "one replaced root per changed issuer");
        assert_eq!(whole.recent_roots(1, 1_000).len(), 2, "current and before");
        assert!(whole.recent_roots(1, 1_000).contains(&empty));
        assert!(single.recent_roots(1, 1_000).len() > 2);

        let err = whole
            .apply(&[append(1, 9), revoke(1, 0)], 2_000)
            .unwrap_err();
        assert!(err.contains("issuer 1") && err.contains("revoked"), "{err}");
        let t = whole.tree(1).unwrap();
        assert_eq!(
            t.root(),
            RegistryTree::from_leaves(4, t.leaves()).unwrap().root(),
            "the refused block's earlier change is hashed in, not left stale"
        );
        let err = whole.apply(&[append(3, 9)], 2_000).unwrap_err();
        assert!(err.contains("issuer 3 is not registered"), "{err}");
    }

    #[test]
    fn a_replaced_root_is_accepted_for_the_window_and_not_a_millisecond_longer() {
        let mut f = Forest::new(&genesis(60), &BTreeMap::new()).unwrap();
        let empty = root_of(f.tree(1).unwrap());
        f.apply(&[append(1, 5), append(1, 6)], 1_000).unwrap();
        let old = root_of(f.tree(1).unwrap());
        f.apply(
            &[RegistryOp::Revoke {
                issuer: 1,
                index: 0,
            }],
            10_000,
        )
        .unwrap();
        let w = f.window();
        assert!(w.accepts(1, &old, 10_000));
        assert!(w.accepts(1, &old, 70_000));
        assert!(!w.accepts(1, &old, 70_001));
        // The current root never expires on a quiet chain.
        let now = root_of(f.tree(1).unwrap());
        assert!(w.accepts(1, &now, u64::MAX));
        // A root is accepted for its own issuer only.
        assert!(!w.accepts(2, &old, 10_000));
        assert_eq!(f.recent_roots(1, 10_000), vec![now, old, empty]);
        assert_eq!(f.recent_roots(1, 70_001), vec![now]);
    }

    /// Revoking a tree's only leaf gives the empty tree's root again: it is current (never
    /// expires) and listed once.
    #[test]
    fn a_root_that_recurs_is_current_and_listed_once() {
        let mut f = Forest::new(&genesis(60), &BTreeMap::new()).unwrap();
        let empty = root_of(f.tree(1).unwrap());
        f.apply(&[append(1, 5)], 1_000).unwrap();
        let one = root_of(f.tree(1).unwrap());
        f.apply(
            &[RegistryOp::Revoke {
                issuer: 1,
                index: 0,
            }],
            2_000,
        )
        .unwrap();
        assert_eq!(root_of(f.tree(1).unwrap()), empty);
        assert_eq!(f.recent_roots(1, 2_000), vec![empty, one]);
        assert!(f.window().accepts(1, &empty, u64::MAX));
        assert!(!f.window().accepts(1, &one, 62_001));
    }

    #[test]
    fn trees_are_separate_and_the_digest_covers_each() {
        let mut f = Forest::new(&genesis(60), &BTreeMap::new()).unwrap();
        let d0 = f.digest();
        f.apply(&[append(2, 9)], 1).unwrap();
        let d1 = f.digest();
        assert_ne!(d0, d1);
        assert_eq!(f.tree(1).unwrap().len(), 0);
        assert_eq!(f.tree(2).unwrap().len(), 1);
        let mut g = Forest::new(&genesis(60), &BTreeMap::new()).unwrap();
        g.apply(&[append(1, 9)], 1).unwrap();
        assert_ne!(g.digest(), d1, "the same leaf in another issuer's tree");
        assert!(f.apply(&[append(3, 1)], 2).is_err());
        let rebuilt = Forest::new(&genesis(60), &BTreeMap::from([(2, vec![Fr::from(9u64)])]));
        assert_eq!(rebuilt.unwrap().digest(), d1);
        assert!(Forest::new(&genesis(60), &BTreeMap::from([(7, vec![])])).is_err());
    }

    #[test]
    fn replaced_roots_older_than_the_window_are_forgotten() {
        let mut f = Forest::new(&genesis(1), &BTreeMap::new()).unwrap();
        for i in 0..15u64 {
            f.apply(&[append(1, i + 1)], i * 2_000).unwrap();
        }
        // Only the roots replaced within the last second of block time are kept.
        assert_eq!(f.recent_roots(1, 28_000).len(), 2);
        assert!(f.trees[&1].replaced.len() <= 2);
    }
}
