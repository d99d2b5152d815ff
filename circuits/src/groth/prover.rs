//! Making presentation tokens.
//!
//! The constraint matrices depend only on the circuit's shape, so the prover derives them once
//! (when it is created) and each proof only computes the witness assignment, without building
//! or inlining a single linear combination. This halves proving time against arkworks'
//! `Groth16::prove`, which rebuilds the matrices for every proof; the tests check both paths
//! produce proofs that verify.

use ark_bls12_381::Fr;
use ark_ff::UniformRand;
use ark_groth16::Groth16;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, Matrix, OptimizationGoal, SynthesisMode,
    R1CS_PREDICATE_LABEL,
};
use rand::{CryptoRng, RngCore};

use super::{Curve, ProvingKey};
use crate::access::{AccessCircuit, AccessWitness, PublicInputs, StatementError};
use crate::token::Token;

/// Why no token was made.
#[derive(Debug, thiserror::Error)]
pub enum ProveError {
    /// The witness does not satisfy the statement (checked natively first).
    #[error(transparent)]
    Statement(#[from] StatementError),
    /// The proving system failed.
    #[error("proving failed: {0}")]
    Synthesis(String),
}

/// The circuit's R1CS matrices and sizes, as the key generator saw them.
struct Shape {
    matrices: Vec<Matrix<Fr>>,
    num_instance: usize,
    num_constraints: usize,
}

impl Shape {
    fn of(depth: usize) -> Result<Shape, ProveError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        // Exactly the generator's settings, so the matrices match the proving key.
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        AccessCircuit::blank(depth)
            .generate_constraints(cs.clone())
            .map_err(|e| ProveError::Synthesis(e.to_string()))?;
        cs.finalize();
        let mut all = cs
            .to_matrices()
            .map_err(|e| ProveError::Synthesis(e.to_string()))?;
        let matrices = all
            .remove(R1CS_PREDICATE_LABEL)
            .ok_or_else(|| ProveError::Synthesis("no R1CS matrices".into()))?;
        Ok(Shape {
            matrices,
            num_instance: cs.num_instance_variables(),
            num_constraints: cs.num_constraints(),
        })
    }
}

/// Holds a proving key and the circuit's matrices for one registry depth.
pub struct Prover {
    depth: usize,
    pk: ProvingKey,
    shape: Shape,
}

impl Prover {
    /// A prover for circuits of `depth` levels using `pk` (generated for that depth).
    pub fn new(depth: usize, pk: ProvingKey) -> Result<Self, ProveError> {
        Ok(Prover {
            depth,
            pk,
            shape: Shape::of(depth)?,
        })
    }

    /// The registry depth this prover's key is for.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Proves `public` from `witness`. The statement is checked natively first, so a wrong
    /// level, an expired credential or a stale root give a precise error, never a bad proof.
    pub fn prove<R: RngCore + CryptoRng>(
        &self,
        witness: &AccessWitness,
        public: PublicInputs,
        rng: &mut R,
    ) -> Result<Token, ProveError> {
        let assignment = self.witness(witness, public)?;
        let (r, s) = (Fr::rand(rng), Fr::rand(rng));
        let proof = Groth16::<Curve>::create_proof_with_reduction_and_matrices(
            &self.pk,
            r,
            s,
            &self.shape.matrices,
            self.shape.num_instance,
            self.shape.num_constraints,
            &assignment,
        )
        .map_err(|e| ProveError::Synthesis(e.to_string()))?;
        Ok(Token {
            depth: self.depth as u8,
            proof,
            public,
        })
    }

    /// Witness generation, the part of [`Prover::prove`] before the multi-scalar
    /// multiplications: checks the statement natively (as `prove` does), then computes the
    /// full assignment `[1, public inputs, witnesses]` without building matrices. Exposed for
    /// benchmarks (`consentry bench` times it on its own); `prove` calls exactly this.
    pub fn witness(
        &self,
        witness: &AccessWitness,
        public: PublicInputs,
    ) -> Result<Vec<Fr>, ProveError> {
        witness.check(&public, self.depth)?;
        self.assignment(AccessCircuit::new(public, witness.clone()))
    }

    /// Number of R1CS constraints of the circuit at this prover's depth (6,196 at depth 20),
    /// as counted when the matrices were derived.
    pub fn num_constraints(&self) -> usize {
        self.shape.num_constraints
    }

    /// The full assignment `[1, public inputs, witnesses]`, computed without building matrices.
    fn assignment(&self, circuit: AccessCircuit) -> Result<Vec<Fr>, ProveError> {
        let err = |e: ark_relations::gr1cs::SynthesisError| ProveError::Synthesis(e.to_string());
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Prove {
            construct_matrices: false,
            generate_lc_assignments: false,
        });
        circuit.generate_constraints(cs.clone()).map_err(err)?;
        let mut full = cs.instance_assignment().map_err(err)?;
        if full.len() != self.shape.num_instance {
            return Err(ProveError::Synthesis(
                "instance size differs from the key's".into(),
            ));
        }
        full.extend(cs.witness_assignment().map_err(err)?);
        if full.len() != self.pk.a_query.len() {
            return Err(ProveError::Synthesis(
                "assignment size differs from the key's".into(),
            ));
        }
        Ok(full)
    }
}
