//! The cohort predicate as a Groth16 circuit: the comparison point for the Bulletproofs range
//! proofs the ledger uses (`src/cohort` in the node crate), measured side by side in
//! `benches/cohort.rs`. Not used by the ledger.
//!
//! Statement, for `k` criteria at `n` bits: public `(C_i, lo_i, hi_i)` for each criterion;
//! the prover knows `(v_i, r_i)` with `C_i = H_commit(v_i, r_i)` (Poseidon, [`Domain::Commitment`])
//! and both `v_i − lo_i` and `hi_i − 1 − v_i` in `[0, 2^n)` (bit decomposition). The same
//! soundness argument as the range proofs: the two differences sum to `hi_i − 1 − lo_i`
//! without wrapping, so `lo_i ≤ v_i < hi_i`.
//!
//! What differs: a Groth16 proof is 192 bytes whatever `k`, and verifies with one pairing
//! product; but its keys come from a trusted setup per circuit shape (per `k` and `n`), and
//! the commitment is a Poseidon hash rather than a Pedersen commitment the platform could
//! also use outside a SNARK.

use ark_bls12_381::Fr;
use ark_r1cs_std::{alloc::AllocVar, eq::EqGadget, fields::fp::FpVar, fields::FieldVar};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};

use ark_groth16::{Groth16, PreparedVerifyingKey};
use ark_snark::SNARK;

use crate::access::range::enforce_bits;
use crate::groth::{Curve, Proof, ProvingKey};
use crate::poseidon::{gadget::hash_var, hash, Domain};

/// One criterion and, for proving, the committed value and its blinding.
#[derive(Clone, Copy, Debug)]
pub struct RangeCriterion {
    /// Lower bound, inclusive.
    pub lo: u64,
    /// Upper bound, exclusive.
    pub hi: u64,
    /// `(value, blinding)`, for proving; `None` for the setup.
    pub opening: Option<(u64, Fr)>,
}

/// The commitment `H_commit(value, blinding)`.
pub fn commitment(value: u64, blinding: Fr) -> Fr {
    hash(Domain::Commitment, &[Fr::from(value), blinding])
}

/// The circuit for `criteria` at `bits` bits.
#[derive(Clone, Debug)]
pub struct CohortRangeCircuit {
    /// The criteria, in order.
    pub criteria: Vec<RangeCriterion>,
    /// Bit width of the range checks.
    pub bits: usize,
}

impl CohortRangeCircuit {
    /// The public inputs, in the circuit's order: `(C_i, lo_i, hi_i)` per criterion.
    pub fn public_inputs(commitments: &[Fr], criteria: &[RangeCriterion]) -> Vec<Fr> {
        commitments
            .iter()
            .zip(criteria)
            .flat_map(|(c, r)| [*c, Fr::from(r.lo), Fr::from(r.hi)])
            .collect()
    }
}

impl ConstraintSynthesizer<Fr> for CohortRangeCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        for r in &self.criteria {
            let opening = r.opening;
            let c = FpVar::new_input(cs.clone(), || {
                opening
                    .map(|(v, b)| commitment(v, b))
                    .ok_or(SynthesisError::AssignmentMissing)
            })?;
            let lo = FpVar::new_input(cs.clone(), || Ok(Fr::from(r.lo)))?;
            let hi = FpVar::new_input(cs.clone(), || Ok(Fr::from(r.hi)))?;
            let v = FpVar::new_witness(cs.clone(), || {
                opening
                    .map(|(v, _)| Fr::from(v))
                    .ok_or(SynthesisError::AssignmentMissing)
            })?;
            let blinding = FpVar::new_witness(cs.clone(), || {
                opening
                    .map(|(_, b)| b)
                    .ok_or(SynthesisError::AssignmentMissing)
            })?;
            hash_var(Domain::Commitment, &[v.clone(), blinding])?.enforce_equal(&c)?;
            enforce_bits(&(&v - &lo), self.bits)?;
            enforce_bits(&(hi - FpVar::one() - &v), self.bits)?;
        }
        Ok(())
    }
}

/// Keys for `k` criteria at `bits` bits (a trusted setup per circuit shape; `rng`'s output is
/// the trapdoor). Returns the proving key and the prepared verifying key.
pub fn setup<R: rand::RngCore + rand::CryptoRng>(
    k: usize,
    bits: usize,
    rng: &mut R,
) -> Result<(ProvingKey, PreparedVerifyingKey<Curve>), SynthesisError> {
    let blank = CohortRangeCircuit {
        criteria: vec![
            RangeCriterion {
                lo: 0,
                hi: 1,
                opening: None,
            };
            k
        ],
        bits,
    };
    let (pk, vk) = Groth16::<Curve>::circuit_specific_setup(blank, rng)?;
    Ok((pk, Groth16::<Curve>::process_vk(&vk)?))
}

/// A proof for `criteria` (each with its opening) at `bits` bits.
pub fn prove<R: rand::RngCore + rand::CryptoRng>(
    pk: &ProvingKey,
    criteria: &[RangeCriterion],
    bits: usize,
    rng: &mut R,
) -> Result<Proof, SynthesisError> {
    Groth16::<Curve>::prove(
        pk,
        CohortRangeCircuit {
            criteria: criteria.to_vec(),
            bits,
        },
        rng,
    )
}

/// Whether `proof` verifies for `public` ([`CohortRangeCircuit::public_inputs`]).
pub fn verify(pvk: &PreparedVerifyingKey<Curve>, public: &[Fr], proof: &Proof) -> bool {
    Groth16::<Curve>::verify_with_processed_vk(pvk, public, proof).unwrap_or(false)
}

/// The number of constraints for `k` criteria at `bits` bits.
pub fn constraints(k: usize, bits: usize) -> usize {
    let cs = ark_relations::gr1cs::ConstraintSystem::<Fr>::new_ref();
    CohortRangeCircuit {
        criteria: vec![
            RangeCriterion {
                lo: 0,
                hi: 1,
                opening: Some((0, Fr::from(1u64))),
            };
            k
        ],
        bits,
    }
    .generate_constraints(cs.clone())
    .expect("synthesis");
    cs.num_constraints()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::ConstraintSystem;

    fn satisfied(lo: u64, hi: u64, v: u64) -> bool {
        let cs = ConstraintSystem::<Fr>::new_ref();
        CohortRangeCircuit {
            criteria: vec![RangeCriterion {
                lo,
                hi,
                opening: Some((v, Fr::from(7u64))),
            }],
            bits: 8,
        }
        .generate_constraints(cs.clone())
        .unwrap();
        cs.is_satisfied().unwrap()
    }

    #[test]
    fn a_proof_verifies_for_its_inputs_only() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
        let (pk, pvk) = setup(1, 8, &mut rng).unwrap();
        let c = [RangeCriterion {
            lo: 40,
            hi: 60,
            opening: Some((52, Fr::from(99u64))),
        }];
        let proof = prove(&pk, &c, 8, &mut rng).unwrap();
        let public = CohortRangeCircuit::public_inputs(&[commitment(52, Fr::from(99u64))], &c);
        assert!(verify(&pvk, &public, &proof));
        let wider = CohortRangeCircuit::public_inputs(
            &[commitment(52, Fr::from(99u64))],
            &[RangeCriterion { lo: 30, ..c[0] }],
        );
        assert!(!verify(&pvk, &wider, &proof), "other bounds");
        let other = CohortRangeCircuit::public_inputs(&[commitment(53, Fr::from(99u64))], &c);
        assert!(!verify(&pvk, &other, &proof), "other commitment");
    }

    #[test]
    fn the_edges_are_in_and_beyond_them_out() {
        assert!(satisfied(40, 60, 40));
        assert!(satisfied(40, 60, 59));
        assert!(!satisfied(40, 60, 39));
        assert!(!satisfied(40, 60, 60));
    }
}
