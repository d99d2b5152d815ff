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
use ark_ff::{BigInteger, PrimeField};
use ark_r1cs_std::{
    alloc::{AllocVar, AllocationMode},
    boolean::Boolean,
    eq::EqGadget,
    fields::fp::FpVar,
    groups::CurveVar,
};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};

use super::{generator, Escrow, EscrowRandomness, InspectorKey, SCALAR_BITS};
use crate::access::{AccessCircuit, AccessWitness, PublicInputs};
use crate::poseidon::{gadget::hash_var, Domain};
use crate::Fr;

/// Public inputs the escrow adds: `c1.x, c1.y, c2`.
pub const NUM_ESCROW_INPUTS: usize = 3;

/// `2^i·G` for every bit of a scalar: the fixed-base tables of `r·G`, computed once.
static G_MULTIPLES: LazyLock<Vec<EdwardsProjective>> = LazyLock::new(|| multiples(generator()));

fn multiples(base: EdwardsProjective) -> Vec<EdwardsProjective> {
    let mut out = Vec::with_capacity(SCALAR_BITS);
    let mut p = base;
    for _ in 0..SCALAR_BITS {
        out.push(p);
        p.double_in_place();
    }
    out
}

/// The escrow circuit for one inspector, at a registry depth, with or without an assignment.
#[derive(Clone)]
pub struct EscrowCircuit {
    depth: usize,
    public: PublicInputs,
    witness: AccessWitness,
    escrow: Escrow,
    r: JubjubScalar,
    /// `2^i·PK`: the inspector's key is a constant of the circuit.
    pk_multiples: Vec<EdwardsProjective>,
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
            pk_multiples: multiples(inspector.0.into()),
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
            pk_multiples: multiples(inspector.0.into()),
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

        // r, little-endian bits.
        let r_bits = self.r.into_bigint().to_bits_le();
        let r_bits = r_bits[..SCALAR_BITS]
            .iter()
            .map(|b| Boolean::new_witness(cs.clone(), || Ok(*b)))
            .collect::<Result<Vec<_>, _>>()?;

        // c1 = r·G and S = r·PK, both by fixed bases (2-bit windowed lookups).
        let mut r_g = EdwardsVar::zero();
        r_g.precomputed_base_scalar_mul_le(r_bits.iter().zip(G_MULTIPLES.iter()))?;
        r_g.enforce_equal(&c1)?;
        let mut shared = EdwardsVar::zero();
        shared.precomputed_base_scalar_mul_le(r_bits.iter().zip(self.pk_multiples.iter()))?;

        // c2 = id + H_escrow(S).
        let mask = hash_var(Domain::Escrow, &[shared.x, shared.y])?;
        (id + mask).enforce_equal(&c2)?;
        Ok(())
    }
}
