//! R1CS synthesis of the access statement (see the module documentation of [`super`]).

use ark_bls12_381::Fr;
use ark_r1cs_std::{
    alloc::AllocVar, boolean::Boolean, eq::EqGadget, fields::fp::FpVar, fields::FieldVar,
};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystemRef, SynthesisError};

use super::range::enforce_geq_public;
use super::{AccessWitness, PublicInputs};
use crate::credential::{Attributes, Role, SecretKey, DAY_BITS, LEVEL_BITS};
use crate::poseidon::{gadget::hash_var, Domain};
use crate::registry::{root_from_path_var, MerklePath, ARITY};

/// The access circuit at a given registry depth, with or without an assignment.
#[derive(Clone, Debug)]
pub struct AccessCircuit {
    depth: usize,
    public: PublicInputs,
    witness: AccessWitness,
}

impl AccessCircuit {
    /// A circuit carrying a real assignment, for proving.
    pub fn new(public: PublicInputs, witness: AccessWitness) -> Self {
        let depth = witness.path.depth();
        AccessCircuit {
            depth,
            public,
            witness,
        }
    }

    /// A circuit of the right shape with a dummy assignment, for key generation (the setup
    /// ignores values) and for counting constraints.
    ///
    /// The depth must be a valid registry depth ([`crate::registry::levels`]: even, 2 to 32);
    /// callers check it first, since keys for any other depth could never be used.
    ///
    /// # Panics
    /// If `depth` is not a valid registry depth.
    pub fn blank(depth: usize) -> Self {
        let levels = crate::registry::levels(depth).expect("a valid registry depth");
        let zero = Fr::from(0u64);
        AccessCircuit {
            depth,
            public: PublicInputs {
                root: zero,
                scope: zero,
                pseudonym: zero,
                message: zero,
                role: Role::Hospital,
                issuer_id: 0,
                min_level: 0,
                today: 0,
            },
            witness: AccessWitness {
                sk: SecretKey::from_field(zero),
                attributes: Attributes {
                    role: Role::Hospital,
                    level: 0,
                    jurisdiction: 0,
                    expiry_day: 0,
                    issuer_id: 0,
                },
                path: MerklePath {
                    index: 0,
                    siblings: vec![[zero; ARITY - 1]; levels],
                },
            },
        }
    }

    /// Registry depth of this circuit.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The statement and the assignment (for circuits that extend this one).
    pub(crate) fn into_parts(self) -> (PublicInputs, AccessWitness) {
        (self.public, self.witness)
    }
}

impl ConstraintSynthesizer<Fr> for AccessCircuit {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        synthesize(cs, &self.public, &self.witness, self.depth).map(|_| ())
    }
}

/// Allocates the access statement's public inputs (in their order) and witnesses and enforces
/// the statement; returns the institution's `id = H_id(sk)` as a variable, for circuits that
/// prove more about it (the escrow variant encrypts it).
pub(crate) fn synthesize(
    cs: ConstraintSystemRef<Fr>,
    p: &PublicInputs,
    w: &AccessWitness,
    depth: usize,
) -> Result<FpVar<Fr>, SynthesisError> {
    {
        let input = |x: Fr| FpVar::new_input(cs.clone(), || Ok(x));
        let witness = |x: Fr| FpVar::new_witness(cs.clone(), || Ok(x));

        // Public inputs, in the order DESIGN.md fixes.
        let [root, scope, pseudonym, message, role, issuer_id, min_level, today] =
            p.to_field_elements().map(input);
        let (root, scope, pseudonym, message) = (root?, scope?, pseudonym?, message?);
        let (role, issuer_id, min_level, today) = (role?, issuer_id?, min_level?, today?);

        // Witnesses.
        let sk = witness(w.sk.expose())?;
        let level = witness(Fr::from(w.attributes.level))?;
        let jurisdiction = witness(Fr::from(w.attributes.jurisdiction))?;
        let expiry_day = witness(Fr::from(w.attributes.expiry_day))?;
        let siblings = w
            .path
            .siblings
            .iter()
            .map(|s| -> Result<[FpVar<Fr>; ARITY - 1], SynthesisError> {
                Ok([witness(s[0])?, witness(s[1])?, witness(s[2])?])
            })
            .collect::<Result<Vec<_>, _>>()?;
        let index_bits = (0..depth)
            .map(|h| Boolean::new_witness(cs.clone(), || Ok((w.path.index >> h) & 1 == 1)))
            .collect::<Result<Vec<_>, _>>()?;

        // 1-2. Membership of the leaf built from the disclosed role and issuer.
        let id = hash_var(Domain::Identity, std::slice::from_ref(&sk))?;
        let leaf = hash_var(
            Domain::Leaf,
            &[
                id.clone(),
                role,
                level.clone(),
                jurisdiction,
                expiry_day.clone(),
                issuer_id,
            ],
        )?;
        root_from_path_var(&leaf, &siblings, &index_bits)?.enforce_equal(&root)?;

        // 3. Policy comparisons: `min_level` and `today` are public inputs the verifier builds
        //    from a u16 and a u32, so range-checking the differences suffices (see `range`).
        enforce_geq_public(&level, &min_level, LEVEL_BITS)?;
        enforce_geq_public(&expiry_day, &today, DAY_BITS)?;

        // 4. Pseudonym.
        hash_var(Domain::Pseudonym, &[sk, scope])?.enforce_equal(&pseudonym)?;

        // 5. Message binding: one constraint that involves `message`.
        let message_sq = FpVar::new_witness(cs.clone(), || Ok(p.message * p.message))?;
        message.mul_equals(&message, &message_sq)?;
        Ok(id)
    }
}
