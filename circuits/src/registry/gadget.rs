//! The Merkle path as an R1CS gadget; the twin of [`super::MerklePath::root`].

use ark_bls12_381::Fr;
use ark_r1cs_std::{boolean::Boolean, fields::fp::FpVar, fields::FieldVar};
use ark_relations::gr1cs::SynthesisError;

use super::ARITY;
use crate::poseidon::{gadget::hash_var, Domain};

/// The root reached from `leaf` with `siblings` (three per level, leaf level first) and the
/// index bits (least significant first, two per level: the running node's position at level
/// `h` is `b0 + 2·b1` with `b0, b1` bits `2h` and `2h+1`).
///
/// Placing the running node `cur` among its siblings `s0, s1, s2` costs 4 constraints per
/// level; the other two children are linear combinations (free):
///
/// ```text
/// u  = b0·b1
/// c3 = s2 + u·(cur − s2)                    cur at position 3, else s2
/// c0 = s0 + (1 − b0 − b1 + u)·(cur − s0)    cur at position 0, else s0
/// q  = (1 − b1)·(cur − s1)
/// c1 = s0 + s1 + q − c0                     position 0: s0, 1: cur, 2 and 3: s1
/// c2 = cur + s0 + s1 + s2 − c0 − c1 − c3    the one value left over
/// ```
///
/// With the two booleanity checks and one width-5 permutation (297), a level costs 303
/// constraints. The bits must be constrained to be boolean (allocate them with
/// `Boolean::new_witness`, never `new_witness_without_booleanity_check`): with free field
/// values the four children become arbitrary mixes that only keep `c0 + c1 + c2 + c3`, and the
/// running node could be dropped or counted twice.
///
/// # Panics
/// If there are not two index bits per level (a programming error).
pub fn root_from_path_var(
    leaf: &FpVar<Fr>,
    siblings: &[[FpVar<Fr>; ARITY - 1]],
    index_bits: &[Boolean<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    assert_eq!(
        index_bits.len(),
        2 * siblings.len(),
        "two index bits per level"
    );
    let one = FpVar::<Fr>::one();
    let mut cur = leaf.clone();
    for (s, bits) in siblings.iter().zip(index_bits.chunks(2)) {
        let b0 = FpVar::from(bits[0].clone());
        let b1 = FpVar::from(bits[1].clone());
        let u = &b0 * &b1;
        let c3 = &s[2] + &u * (&cur - &s[2]);
        let c0 = &s[0] + (&one - &b0 - &b1 + &u) * (&cur - &s[0]);
        let q = (&one - &b1) * (&cur - &s[1]);
        let c1 = &s[0] + &s[1] + &q - &c0;
        let c2 = &cur + &s[0] + &s[1] + &s[2] - &c0 - &c1 - &c3;
        cur = hash_var(Domain::MerkleNode, &[c0, c1, c2, c3])?;
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::RegistryTree;
    use ark_r1cs_std::{alloc::AllocVar, eq::EqGadget, GR1CSVar};
    use ark_relations::gr1cs::ConstraintSystem;

    /// Synthesises the path of leaf `index` (optionally with a tampered index or sibling) and
    /// returns whether the system is satisfied against the tree's root, and its size.
    fn check(
        index: u64,
        claimed_index: u64,
        bump_sibling: Option<(usize, usize)>,
    ) -> (bool, usize) {
        let leaves: Vec<Fr> = (0..64u64).map(|i| Fr::from(500 + i)).collect();
        let tree = RegistryTree::from_leaves(6, &leaves).unwrap();
        let mut path = tree.path(index).unwrap();
        if let Some((level, k)) = bump_sibling {
            path.siblings[level][k] += Fr::from(1u64);
        }
        let cs = ConstraintSystem::<Fr>::new_ref();
        let root = FpVar::new_input(cs.clone(), || Ok(tree.root())).unwrap();
        let leaf = FpVar::new_witness(cs.clone(), || Ok(leaves[index as usize])).unwrap();
        let sibs: Vec<[FpVar<Fr>; 3]> = path
            .siblings
            .iter()
            .map(|s| s.map(|x| FpVar::new_witness(cs.clone(), || Ok(x)).unwrap()))
            .collect();
        let bits: Vec<Boolean<Fr>> = (0..6)
            .map(|i| {
                Boolean::new_witness(cs.clone(), || Ok((claimed_index >> i) & 1 == 1)).unwrap()
            })
            .collect();
        let out = root_from_path_var(&leaf, &sibs, &bits).unwrap();
        if bump_sibling.is_none() && claimed_index == index {
            assert_eq!(out.value().unwrap(), path.root(leaves[index as usize]));
        }
        out.enforce_equal(&root).unwrap();
        (cs.is_satisfied().unwrap(), cs.num_constraints())
    }

    #[test]
    fn every_position_at_every_level_is_accepted() {
        // Indices whose base-4 digits take every value at every level (a full tree).
        for index in [0, 1, 2, 3, 5, 10, 15, 16, 27, 32, 39, 48, 58, 63] {
            assert!(check(index, index, None).0, "index {index}");
        }
    }

    #[test]
    fn a_wrong_index_or_sibling_is_refused() {
        assert!(!check(5, 6, None).0, "wrong position at level 0");
        assert!(!check(5, 5 ^ 16, None).0, "wrong position at level 2");
        assert!(!check(27, 27, Some((1, 2))).0, "tampered sibling");
    }

    #[test]
    fn a_level_costs_303_constraints() {
        // 3 levels x (2 booleanity + 4 placement + 297 hash) + 1 root equality.
        assert_eq!(check(7, 7, None).1, 3 * 303 + 1);
    }
}
