//! The Merkle path as an R1CS gadget; the twin of [`super::MerklePath::root`].

use ark_bls12_381::Fr;
use ark_r1cs_std::{boolean::Boolean, fields::fp::FpVar, select::CondSelectGadget};
use ark_relations::gr1cs::SynthesisError;

use crate::poseidon::{gadget::hash_var, Domain};

/// The root reached from `leaf` with `siblings` (leaf level first) and the index bits
/// `is_right` (least significant first: `true` when the running node is a right child).
///
/// Each level costs one conditional select (1 constraint) plus one Poseidon permutation; the
/// other child is `cur + sibling - left`, a free linear combination.
pub fn root_from_path_var(
    leaf: &FpVar<Fr>,
    siblings: &[FpVar<Fr>],
    is_right: &[Boolean<Fr>],
) -> Result<FpVar<Fr>, SynthesisError> {
    assert_eq!(siblings.len(), is_right.len(), "one index bit per level");
    let mut cur = leaf.clone();
    for (sib, bit) in siblings.iter().zip(is_right) {
        let left = FpVar::conditionally_select(bit, sib, &cur)?;
        let right = &cur + sib - &left;
        cur = hash_var(Domain::MerkleNode, &[left, right])?;
    }
    Ok(cur)
}
