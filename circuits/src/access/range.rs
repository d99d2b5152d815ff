//! Range checks and comparisons by bit decomposition.
//!
//! `enforce_geq_public(a, b, k)` proves `a >= b` for a public `b` that the verifier itself
//! builds from a `k`-bit integer (`min_level` from a `u16`, `today` from a `u32`): it proves
//! only `d = a - b < 2^k`. Then `a = b + d < 2^(k+1)` as integers, far below the field size, so
//! `a >= b` holds without wrap-around; and for `a < b` the field difference is
//! `p - (b - a)`, a value of about 255 bits that cannot be written in `k` bits. Range-checking
//! `a` and `b` on their own as well (as a comparison of two witnesses must) would add `2k + 2`
//! constraints and prove nothing more here: `b` is in range by construction, and `a` (a level
//! or an expiry day) was certified by the issuer inside the leaf.

use ark_bls12_381::Fr;
use ark_ff::{BigInteger, PrimeField};
use ark_r1cs_std::{alloc::AllocVar, boolean::Boolean, eq::EqGadget, fields::fp::FpVar, GR1CSVar};
use ark_relations::gr1cs::SynthesisError;

/// Proves `x < 2^bits` (`bits` + 1 constraints: one booleanity check per bit, one packing).
pub fn enforce_bits(x: &FpVar<Fr>, bits: usize) -> Result<(), SynthesisError> {
    assert!(
        bits < Fr::MODULUS_BIT_SIZE as usize - 1,
        "range must be far below the modulus"
    );
    let cs = x.cs();
    let value = x.value().ok().map(|v| v.into_bigint().to_bits_le());
    let decomposition = (0..bits)
        .map(|i| {
            Boolean::new_witness(cs.clone(), || {
                value
                    .as_ref()
                    .map(|b| b[i])
                    .ok_or(SynthesisError::AssignmentMissing)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Boolean::le_bits_to_fp(&decomposition)?.enforce_equal(x)
}

/// Proves `a >= b` by range-checking `a - b` to `bits` bits (`bits + 1` constraints).
///
/// Sound only when `b < 2^bits` is guaranteed outside the circuit: `b` must be a public input
/// that the verifier derives from a `bits`-bit integer type (see the module documentation).
pub(crate) fn enforce_geq_public(
    a: &FpVar<Fr>,
    b: &FpVar<Fr>,
    bits: usize,
) -> Result<(), SynthesisError> {
    enforce_bits(&(a - b), bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::Field;
    use ark_r1cs_std::alloc::AllocVar;
    use ark_relations::gr1cs::ConstraintSystem;

    fn geq_satisfied(a: Fr, b: Fr, bits: usize) -> bool {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let a = FpVar::new_witness(cs.clone(), || Ok(a)).unwrap();
        let b = FpVar::new_input(cs.clone(), || Ok(b)).unwrap();
        // A prover that cannot find bits gets an unsatisfied system, never a panic.
        enforce_geq_public(&a, &b, bits).unwrap();
        cs.is_satisfied().unwrap()
    }

    #[test]
    fn comparison_edges() {
        let f = |x: u64| Fr::from(x);
        assert!(geq_satisfied(f(5), f(5), 16), "equal passes");
        assert!(geq_satisfied(f(6), f(5), 16));
        assert!(!geq_satisfied(f(4), f(5), 16));
        assert!(geq_satisfied(f(65535), f(0), 16));
        assert!(geq_satisfied(f(65535), f(65535), 16));
        assert!(
            !geq_satisfied(f(65536), f(0), 16),
            "difference out of range"
        );
        assert!(!geq_satisfied(f(0), f(65535), 16));
        assert!(!geq_satisfied(f(65534), f(65535), 16));
    }

    #[test]
    fn wrap_around_cannot_satisfy_geq() {
        let minus_one = -Fr::ONE;
        // p-1 >= 0 as integers, but p-1 - 0 is not a 32-bit value.
        assert!(!geq_satisfied(minus_one, Fr::from(0u64), 32));
        // 0 - 1 = p - 1 in the field: must not count as a small non-negative difference.
        assert!(!geq_satisfied(Fr::from(0u64), Fr::from(1u64), 32));
        assert!(!geq_satisfied(
            Fr::from(0u64),
            Fr::from(u32::MAX as u64),
            32
        ));
        // Every a < b below 2^32 fails, whatever the gap.
        for (a, b) in [(0u64, 1u64), (1 << 20, (1 << 20) + 1), (7, u32::MAX as u64)] {
            assert!(!geq_satisfied(Fr::from(a), Fr::from(b), 32), "{a} >= {b}");
        }
    }

    #[test]
    fn a_comparison_costs_bits_plus_one_constraints() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let a = FpVar::new_witness(cs.clone(), || Ok(Fr::from(20765u64))).unwrap();
        let b = FpVar::new_input(cs.clone(), || Ok(Fr::from(20400u64))).unwrap();
        enforce_geq_public(&a, &b, 32).unwrap();
        assert!(cs.is_satisfied().unwrap());
        assert_eq!(cs.num_constraints(), 33);
    }

    #[test]
    fn bits_cost_one_constraint_each_plus_packing() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let x = FpVar::new_witness(cs.clone(), || Ok(Fr::from(9u64))).unwrap();
        enforce_bits(&x, 32).unwrap();
        assert!(cs.is_satisfied().unwrap());
        assert_eq!(cs.num_constraints(), 33);
    }
}
