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
use ark_ed_on_bls12_381::{
    constraints::EdwardsVar, EdwardsAffine, EdwardsProjective, Fr as JubjubScalar, JubjubConfig,
};
use ark_ff::{batch_inversion, Field, Zero};
use ark_ff::{BigInteger, PrimeField};
use ark_r1cs_std::{
    alloc::{AllocVar, AllocationMode},
    boolean::Boolean,
    eq::EqGadget,
    fields::{fp::FpVar, FieldVar},
    groups::curves::twisted_edwards::MontgomeryAffineVar,
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
/// What every window but the last adds to its 3-bit value (see [`fixed_base_pair`]).
const OFFSET: u64 = 2;

/// A point on Jubjub in a circuit, in Montgomery coordinates (incomplete addition).
type MontVar = MontgomeryAffineVar<JubjubConfig, FpVar<Fr>>;

/// The constant tables of a 3-bit windowed fixed-base multiplication by a base `B`, for the
/// offset windows of [`fixed_base_pair`].
#[derive(Clone)]
struct Tables {
    /// Windows `j = 0..WINDOWS−1`: the eight points `(v + OFFSET)·8^j·B` (`v = 0..7`), in
    /// Montgomery coordinates.
    mont: Vec<[(Fr, Fr); 8]>,
    /// The last window, in twisted Edwards coordinates: `(v·8^(WINDOWS−1) − C)·B` with
    /// `C = Σ_{j<WINDOWS−1} OFFSET·8^j`, which removes the offsets of the other windows.
    last: [(Fr, Fr); 8],
}

fn tables(base: EdwardsProjective) -> Tables {
    let mut points = Vec::with_capacity(WINDOWS * 8);
    let mut window_base = base;
    let mut offsets = EdwardsProjective::default();
    for _ in 0..WINDOWS - 1 {
        let first = window_base * JubjubScalar::from(OFFSET);
        offsets += first;
        let mut p = first;
        for _ in 0..8 {
            points.push(p);
            p += window_base;
        }
        for _ in 0..WINDOW {
            window_base.double_in_place();
        }
    }
    let mut p = -offsets;
    for _ in 0..8 {
        points.push(p);
        p += window_base;
    }
    let affine = EdwardsProjective::normalize_batch(&points);
    let (mont, last) = affine.split_at((WINDOWS - 1) * 8);
    let mont = to_montgomery(mont);
    Tables {
        mont: mont
            .chunks(8)
            .map(|w| std::array::from_fn(|v| w[v]))
            .collect(),
        last: std::array::from_fn(|v| (last[v].x, last[v].y)),
    }
}

/// Montgomery coordinates `u = (1 + y)/(1 − y)`, `v = u/x` of points that are neither the
/// identity nor of order 2 (the map arkworks' `MontgomeryAffineVar::from_edwards_to_coords`
/// uses; one batch inversion for all of them).
fn to_montgomery(points: &[EdwardsAffine]) -> Vec<(Fr, Fr)> {
    let mut inv: Vec<Fr> = points.iter().flat_map(|p| [Fr::ONE - p.y, p.x]).collect();
    batch_inversion(&mut inv);
    points
        .iter()
        .zip(inv.chunks(2))
        .map(|(p, i)| {
            // batch_inversion maps 0 to 0: an excluded point would give a wrong constant.
            debug_assert!(
                p.y != Fr::ONE && !p.x.is_zero(),
                "identity or order-2 point"
            );
            let u = (Fr::ONE + p.y) * i[0];
            (u, u * i[1])
        })
        .collect()
}

/// `G`'s tables, computed once.
static G_TABLES: LazyLock<Tables> = LazyLock::new(|| tables(generator()));

/// `r·B1` and `r·B2` for two fixed bases, from the little-endian bits of `r`
/// (`SCALAR_BITS` of them), with 3-bit windows. Per window, one product `b0·b1` serves the
/// lookups of both tables (one constraint per coordinate each, [`lookup3`]), as in Zcash
/// Sapling's fixed-base multiplication; sharing the product across the two bases is what the
/// escrow's two multiplications by the same `r` allow.
///
/// The windows are summed with arkworks' incomplete Montgomery addition (3 constraints)
/// rather than the complete twisted Edwards one (6): 928 constraints for both bases instead
/// of 1,416. Incomplete addition is wrong only for `P + (±P)` and for the identity, so every
/// window but the last adds `OFFSET` to its value: window `j` adds `D_j = (v_j + 2)·8^j` times
/// the base to the sum `A_j = Σ_{i<j} (v_i + 2)·8^i` of the windows before it. For every
/// `v ∈ [0, 7]^84` and `1 ≤ j ≤ 82`, as integers,
/// `0 < A_j ≤ 9·(8^j − 1)/7 < 2·8^j ≤ D_j` and `A_j + D_j < 9·8^83/7 < 2^250 < q` (the
/// subgroup order, about `2^251.9`), so `A_j ≢ ±D_j (mod q)` and neither is `0 mod q`: no
/// exceptional case exists for any bits, and each step's result (and `λ`) is determined by
/// the bits. The sum then leaves Montgomery form (2 constraints per base) and the last
/// window, whose table also subtracts `Σ_{j<83} 2·8^j`, is added with the complete Edwards
/// formula, so the result is exactly `(Σ v_j·8^j)·B` for every 252-bit `r`, also `r ≥ q`.
fn fixed_base_pair(
    bits: &[Boolean<Fr>],
    t1: &Tables,
    t2: &Tables,
) -> Result<(EdwardsVar, EdwardsVar), SynthesisError> {
    if bits.len() != SCALAR_BITS {
        return Err(SynthesisError::Unsatisfiable);
    }
    let windows: Vec<[FpVar<Fr>; 4]> = bits
        .chunks(WINDOW)
        .map(|w| {
            let [b0, b1, b2] = [&w[0], &w[1], &w[2]].map(|b| FpVar::from(b.clone()));
            let b01 = &b0 * &b1;
            [b0, b1, b2, b01]
        })
        .collect();
    let lookup = |w: &[FpVar<Fr>; 4], t: &[(Fr, Fr); 8]| -> Result<_, SynthesisError> {
        let [b0, b1, b2, b01] = w;
        Ok((
            lookup3(b0, b1, b01, b2, t.map(|p| p.0))?,
            lookup3(b0, b1, b01, b2, t.map(|p| p.1))?,
        ))
    };
    let (last, rest) = windows.split_last().ok_or(SynthesisError::Unsatisfiable)?;
    let mut acc: Option<(MontVar, MontVar)> = None;
    for (j, w) in rest.iter().enumerate() {
        let (x1, y1) = lookup(w, &t1.mont[j])?;
        let (x2, y2) = lookup(w, &t2.mont[j])?;
        let (p1, p2) = (MontVar::new(x1, y1), MontVar::new(x2, y2));
        // arkworks' incomplete addition unwraps a division by `x2 − x1`: the bounds above
        // make `x2 = x1` impossible for any bits.
        acc = Some(match acc {
            None => (p1, p2),
            Some((a1, a2)) => (a1 + &p1, a2 + &p2),
        });
    }
    let (a1, a2) = acc.ok_or(SynthesisError::Unsatisfiable)?;
    let (x1, y1) = lookup(last, &t1.last)?;
    let (x2, y2) = lookup(last, &t2.last)?;
    Ok((
        a1.into_edwards()? + EdwardsVar::new(x1, y1),
        a2.into_edwards()? + EdwardsVar::new(x2, y2),
    ))
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

    /// The batch conversion gives arkworks' own Montgomery coordinates, and the tables hold
    /// the offset multiples the incomplete additions rely on.
    #[test]
    fn tables_hold_the_offset_multiples_in_montgomery_form() {
        let t = &*G_TABLES;
        assert_eq!(t.mont.len(), WINDOWS - 1);
        let mut window_base = generator();
        for (j, window) in t.mont.iter().enumerate() {
            for (v, &(u, w)) in window.iter().enumerate() {
                let p = (window_base * JubjubScalar::from(v as u64 + OFFSET)).into_affine();
                let coords = MontVar::from_edwards_to_coords(&p).unwrap();
                assert_eq!((u, w), coords, "window {j}, value {v}");
            }
            for _ in 0..WINDOW {
                window_base.double_in_place();
            }
        }
    }

    /// 928 constraints for both bases (5 for the first window, 11 for each of the next 82, 4
    /// to leave Montgomery form, 17 for the last window), beside 1,416 with complete Edwards
    /// additions only.
    #[test]
    fn fixed_base_pair_costs_928_constraints() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let bits = (0..SCALAR_BITS)
            .map(|i| Boolean::new_witness(cs.clone(), || Ok(i % 3 == 0)).unwrap())
            .collect::<Vec<_>>();
        let before = cs.num_constraints();
        let _product = fixed_base_pair(&bits, &G_TABLES, &G_TABLES).unwrap();
        assert_eq!(cs.num_constraints() - before, 928);
        assert!(cs.is_satisfied().unwrap());
        // A scalar of the wrong length is refused, not silently truncated.
        assert!(fixed_base_pair(&bits[1..], &G_TABLES, &G_TABLES).is_err());
    }

    fn bits_to_bytes(bits: &[bool]) -> Vec<u8> {
        bits.chunks(8)
            .map(|c| c.iter().rev().fold(0u8, |acc, b| acc << 1 | *b as u8))
            .collect()
    }
}
