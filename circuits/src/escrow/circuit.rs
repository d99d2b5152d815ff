//! The escrow variant of the access circuit (see [`super`]).
//!
//! **Shows**: everything the access circuit shows ([`crate::access`]), and that the public
//! `(c1, c2)` is `(r·G, id + H_escrow(r·PK))` for some `r` and the same `id = H_id(sk)` whose
//! leaf the membership proof uses. **Hides**: what the access circuit hides, and `r`.
//!
//! Public inputs: the access statement's eight (in their order), then `c1.x, c1.y, c2`.
//! `c1` needs no curve check by the verifier: the circuit computes it as `r·G`, so a proof
//! exists only for a point of the subgroup.

use std::sync::LazyLock;

use ark_ec::{AdditiveGroup, CurveGroup};
use ark_ed_on_bls12_381::{constraints::EdwardsVar, EdwardsProjective, Fr as JubjubScalar};
use ark_ff::Zero;
use ark_ff::{BigInteger, PrimeField};
use ark_r1cs_std::{
    alloc::{AllocVar, AllocationMode},
    boolean::Boolean,
    eq::EqGadget,
    fields::{fp::FpVar, FieldVar},
    GR1CSVar,
};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};

use super::{generator, Escrow, EscrowRandomness, InspectorKey, SCALAR_BITS};
use crate::access::{AccessCircuit, AccessWitness, PublicInputs};
use crate::poseidon::{gadget::hash_var, Domain};
use crate::Fr;

/// Public inputs the escrow adds: `c1.x, c1.y, c2`.
pub const NUM_ESCROW_INPUTS: usize = 3;

/// Bits per window of the fixed-base multiplications.
const WINDOW: usize = 3;
/// Windows per 252-bit scalar.
const WINDOWS: usize = SCALAR_BITS / WINDOW;

/// For each window `j`, the eight points `v·8^j·B` (`v = 0..7`, `0·B` the identity) as affine
/// coordinates: the constant tables of a 3-bit windowed fixed-base multiplication.
type Tables = Vec<[(Fr, Fr); 8]>;

fn tables(base: EdwardsProjective) -> Tables {
    let mut out = Vec::with_capacity(WINDOWS);
    let mut window_base = base;
    for _ in 0..WINDOWS {
        let mut points = [EdwardsProjective::default(); 8];
        for v in 1..8 {
            points[v] = points[v - 1] + window_base;
        }
        let affine = EdwardsProjective::normalize_batch(&points);
        out.push(std::array::from_fn(|v| (affine[v].x, affine[v].y)));
        for _ in 0..WINDOW {
            window_base.double_in_place();
        }
    }
    out
}

/// `G`'s tables, computed once.
static G_TABLES: LazyLock<Tables> = LazyLock::new(|| tables(generator()));

/// `r·B1` and `r·B2` for two fixed bases, from the little-endian bits of `r` (a multiple of 3
/// long), with 3-bit windows: per window, one product `b0·b1` serves the lookups of both
/// tables (one constraint per coordinate each), then one complete twisted Edwards addition
/// per base. Zcash Sapling's fixed-base multiplication uses the same windows and lookup, per
/// base; sharing the product across the two bases is what the escrow's two multiplications
/// by the same `r` allow.
fn fixed_base_pair(
    bits: &[Boolean<Fr>],
    t1: &Tables,
    t2: &Tables,
) -> Result<(EdwardsVar, EdwardsVar), SynthesisError> {
    let mut acc: Option<(EdwardsVar, EdwardsVar)> = None;
    for (j, w) in bits.chunks(WINDOW).enumerate() {
        let [b0, b1, b2] = [&w[0], &w[1], &w[2]].map(|b| FpVar::from(b.clone()));
        let b01 = &b0 * &b1;
        let lookup = |t: &[(Fr, Fr); 8]| -> Result<EdwardsVar, SynthesisError> {
            let x = lookup3(&b0, &b1, &b01, &b2, t.map(|p| p.0))?;
            let y = lookup3(&b0, &b1, &b01, &b2, t.map(|p| p.1))?;
            Ok(EdwardsVar::new(x, y))
        };
        let (p1, p2) = (lookup(&t1[j])?, lookup(&t2[j])?);
        acc = Some(match acc {
            None => (p1, p2),
            Some((a1, a2)) => (a1 + p1, a2 + p2),
        });
    }
    acc.ok_or(SynthesisError::Unsatisfiable)
}

/// `t[b0 + 2·b1 + 4·b2]` for constants `t`, given `b01 = b0·b1`: the multilinear
/// interpolation `f = L0 + b2·(L1 − L0)`, with `L0`, `L1` the (linear, given `b01`) 2-bit
/// lookups into `t[0..4]` and `t[4..8]`. One constraint.
fn lookup3(
    b0: &FpVar<Fr>,
    b1: &FpVar<Fr>,
    b01: &FpVar<Fr>,
    b2: &FpVar<Fr>,
    t: [Fr; 8],
) -> Result<FpVar<Fr>, SynthesisError> {
    let f = FpVar::new_witness(b2.cs(), || {
        let v = |b: &FpVar<Fr>| b.value().map(|x| if x.is_zero() { 0 } else { 1 });
        Ok(t[v(b0)? + 2 * v(b1)? + 4 * v(b2)?])
    })?;
    enforce_lookup3(b0, b1, b01, b2, t, &f)?;
    Ok(f)
}

/// The constraint of [`lookup3`]: `f = t[b0 + 2·b1 + 4·b2]`, given `b01 = b0·b1` and bits.
fn enforce_lookup3(
    b0: &FpVar<Fr>,
    b1: &FpVar<Fr>,
    b01: &FpVar<Fr>,
    b2: &FpVar<Fr>,
    t: [Fr; 8],
    f: &FpVar<Fr>,
) -> Result<(), SynthesisError> {
    let two_bit = |t: &[Fr]| {
        FpVar::constant(t[0])
            + b0 * (t[1] - t[0])
            + b1 * (t[2] - t[0])
            + b01 * (t[3] - t[2] - t[1] + t[0])
    };
    let (l0, l1) = (two_bit(&t[..4]), two_bit(&t[4..]));
    (&l1 - &l0).mul_equals(b2, &(f - &l0))
}

/// The escrow circuit for one inspector, at a registry depth, with or without an assignment.
#[derive(Clone)]
pub struct EscrowCircuit {
    depth: usize,
    public: PublicInputs,
    witness: AccessWitness,
    escrow: Escrow,
    r: JubjubScalar,
    /// The inspector's key's tables: the key is a constant of the circuit.
    pk_tables: Tables,
}

impl Drop for EscrowCircuit {
    fn drop(&mut self) {
        // Whoever learns r reads the id: wipe this copy (the witness wipes itself).
        zeroize::Zeroize::zeroize(&mut self.r);
    }
}

impl EscrowCircuit {
    /// A circuit carrying a real assignment, for proving.
    pub fn new(
        public: PublicInputs,
        witness: AccessWitness,
        inspector: &InspectorKey,
        escrow: Escrow,
        r: &EscrowRandomness,
    ) -> Self {
        EscrowCircuit {
            depth: witness.path.depth(),
            public,
            witness,
            escrow,
            r: r.0,
            pk_tables: tables(inspector.0.into()),
        }
    }

    /// A circuit of the right shape with a dummy assignment, for key generation and counting
    /// constraints (the keys depend on `inspector`, a constant of the circuit).
    ///
    /// # Panics
    /// If `depth` is not a valid registry depth (as [`AccessCircuit::blank`]).
    pub fn blank(depth: usize, inspector: &InspectorKey) -> Self {
        let access = AccessCircuit::blank(depth);
        let (public, witness) = access.into_parts();
        EscrowCircuit {
            depth,
            public,
            witness,
            escrow: Escrow {
                c1: generator().into_affine(),
                c2: Fr::from(0u64),
            },
            r: JubjubScalar::from(1u64),
            pk_tables: tables(inspector.0.into()),
        }
    }
}

impl ConstraintSynthesizer<Fr> for EscrowCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let id = crate::access::circuit::synthesize(
            cs.clone(),
            &self.public,
            &self.witness,
            self.depth,
        )?;

        // The escrow's public inputs, after the access statement's.
        let c1 = EdwardsVar::new_variable_omit_on_curve_check(
            cs.clone(),
            || Ok(self.escrow.c1),
            AllocationMode::Input,
        )?;
        let c2 = FpVar::new_input(cs.clone(), || Ok(self.escrow.c2))?;

        // r, little-endian bits (the plain copy wiped once allocated).
        let bits = zeroize::Zeroizing::new(self.r.into_bigint().to_bits_le());
        let r_bits = bits[..SCALAR_BITS]
            .iter()
            .map(|b| Boolean::new_witness(cs.clone(), || Ok(*b)))
            .collect::<Result<Vec<_>, _>>()?;

        // c1 = r·G and S = r·PK, both by fixed bases.
        let (r_g, shared) = fixed_base_pair(&r_bits, &G_TABLES, &self.pk_tables)?;
        r_g.enforce_equal(&c1)?;

        // c2 = id + H_escrow(S).
        let mask = hash_var(Domain::Escrow, &[shared.x, shared.y])?;
        (id + mask).enforce_equal(&c2)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;
    use ark_relations::gr1cs::ConstraintSystem;
    use rand::SeedableRng;

    /// Every index of a table, one constraint each once `b0·b1` is known; a cheating
    /// prover's value for another entry fails the constraint.
    #[test]
    fn lookup3_reads_every_entry_with_one_constraint() {
        let t: [Fr; 8] = std::array::from_fn(|i| Fr::from(1000 + 17 * i as u64));
        for v in 0..8usize {
            for claimed in 0..8usize {
                let cs = ConstraintSystem::<Fr>::new_ref();
                let bits: Vec<FpVar<Fr>> = (0..3)
                    .map(|k| {
                        let bit = Boolean::new_witness(cs.clone(), || Ok(v >> k & 1 == 1));
                        FpVar::from(bit.unwrap())
                    })
                    .collect();
                let b01 = &bits[0] * &bits[1];
                let before = cs.num_constraints();
                let f = if claimed == v {
                    lookup3(&bits[0], &bits[1], &b01, &bits[2], t).unwrap()
                } else {
                    let f = FpVar::new_witness(cs.clone(), || Ok(t[claimed])).unwrap();
                    enforce_lookup3(&bits[0], &bits[1], &b01, &bits[2], t, &f).unwrap();
                    f
                };
                assert_eq!(cs.num_constraints() - before, 1);
                assert_eq!(f.value().unwrap(), t[claimed]);
                assert_eq!(
                    cs.is_satisfied().unwrap(),
                    claimed == v,
                    "{claimed} for {v}"
                );
            }
        }
    }

    /// The windowed multiplications agree with native scalar multiplication, for random
    /// scalars and for the edge values 0, 1 and the largest 252-bit value.
    #[test]
    fn fixed_base_pair_matches_native_multiplication() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let pk = generator() * JubjubScalar::rand(&mut rng);
        let pk_tables = tables(pk);
        let max = JubjubScalar::from(0u64) - JubjubScalar::from(1u64);
        // 252-bit values at or above the subgroup order q also work: r·G = (r mod q)·G.
        let q_bits = JubjubScalar::MODULUS.to_bits_le();
        let all_ones = vec![true; SCALAR_BITS];
        let cases: Vec<Vec<bool>> = [
            JubjubScalar::from(0u64),
            JubjubScalar::from(1u64),
            max,
            JubjubScalar::rand(&mut rng),
        ]
        .iter()
        .map(|r| r.into_bigint().to_bits_le())
        .chain([q_bits, all_ones])
        .collect();
        for case in cases {
            let r = JubjubScalar::from_le_bytes_mod_order(&bits_to_bytes(&case[..SCALAR_BITS]));
            let cs = ConstraintSystem::<Fr>::new_ref();
            let bits = case[..SCALAR_BITS]
                .iter()
                .map(|b| Boolean::new_witness(cs.clone(), || Ok(*b)).unwrap())
                .collect::<Vec<_>>();
            let (rg, rpk) = fixed_base_pair(&bits, &G_TABLES, &pk_tables).unwrap();
            let (g, p) = ((generator() * r).into_affine(), (pk * r).into_affine());
            assert_eq!((rg.x.value().unwrap(), rg.y.value().unwrap()), (g.x, g.y));
            assert_eq!((rpk.x.value().unwrap(), rpk.y.value().unwrap()), (p.x, p.y));
            assert!(cs.is_satisfied().unwrap());
        }
    }

    fn bits_to_bytes(bits: &[bool]) -> Vec<u8> {
        bits.chunks(8)
            .map(|c| c.iter().rev().fold(0u8, |acc, b| acc << 1 | *b as u8))
            .collect()
    }
}
