//! Making presentation tokens.
//!
//! The constraint matrices depend only on the circuit's shape, so the prover derives them once
//! (when it is created) and each proof only computes the witness assignment, without building
//! or inlining a single linear combination. This halves proving time against arkworks'
//! `Groth16::prove`, which rebuilds the matrices for every proof.
//!
//! The proof is Groth16's, computed as arkworks computes it (`create_proof_with_assignment`:
//! the libsnark R1CS-to-QAP reduction, then `A`, `B` and `C`), but the multi-scalar
//! multiplications over the proving key, which are most of the time, run on bases prepared
//! once ([`super::fixed_msm`]): blst's Pippenger, or window tables with batch-affine
//! additions on blst's field arithmetic for a long-lived prover. A test checks that, for the
//! same randomness, the proof is bit for bit the one arkworks makes, with either.
//!
//! A holder proving again with the same credential and root can go through a
//! [`ProofCache`] ([`Prover::prove_cached`]): the parts of the proof that are linear in the
//! assignment are then moved by the few variables that changed instead of recomputed. The
//! proof is the same, bit for bit, for the same randomness.

use ark_bls12_381::{Fr, G1Projective};
use ark_ec::CurveGroup;
use ark_ff::UniformRand;
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_groth16::Groth16;
use ark_poly::GeneralEvaluationDomain;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, Matrix, OptimizationGoal, SynthesisMode,
    R1CS_PREDICATE_LABEL,
};
use ark_snark::SNARK;
use rand::{CryptoRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

use super::fixed_msm::{FixedBases, Preparation, G1, G2};
use super::proof_cache::{next_prover_id, wipe, ProofCache, Sums};
use super::{Proof, ProvingKey};
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
    /// The depth is not a registry depth (even, 2 to 32).
    #[error(transparent)]
    Depth(#[from] crate::registry::RegistryError),
    /// A proof does not verify against its own proving key's verifying key: the key was made
    /// for another circuit (for the escrow circuit: another inspector's key).
    #[error("the proof does not verify against the proving key's own verifying key: {0}")]
    KeyMismatch(&'static str),
}

/// The circuit's R1CS matrices and sizes, as the key generator saw them.
struct Shape {
    matrices: Vec<Matrix<Fr>>,
    num_instance: usize,
    num_constraints: usize,
}

impl Shape {
    fn of(depth: usize) -> Result<Shape, ProveError> {
        crate::registry::levels(depth)?;
        Self::of_circuit(AccessCircuit::blank(depth))
    }

    /// The shape of any circuit, from a blank instance of it.
    fn of_circuit(blank: impl ConstraintSynthesizer<Fr>) -> Result<Shape, ProveError> {
        let cs = ConstraintSystem::<Fr>::new_ref();
        // Exactly the generator's settings, so the matrices match the proving key.
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        blank
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

/// The proving key's queries, prepared. `C`'s three sums are one multi-scalar
/// multiplication over the concatenated `L`, `H` and `B` (G1) queries: one larger MSM costs
/// less than three smaller ones (one bucket reduction per job instead of three), and `B` in
/// G1 is never needed on its own.
struct Queries {
    a: FixedBases<G1>,
    b_g2: FixedBases<G2>,
    c: FixedBases<G1>,
    /// Lengths of the `L` and `H` queries (where `H` and `B` start in `c`).
    l_len: usize,
    h_len: usize,
}

impl Queries {
    fn of(pk: &ProvingKey, preparation: Preparation) -> Self {
        let c: Vec<_> = [&pk.l_query, &pk.h_query, &pk.b_g1_query]
            .into_iter()
            .flatten()
            .copied()
            .collect();
        Queries {
            a: FixedBases::new(&pk.a_query, preparation),
            b_g2: FixedBases::new(&pk.b_g2_query, preparation),
            c: FixedBases::new(&c, preparation),
            l_len: pk.l_query.len(),
            h_len: pk.h_query.len(),
        }
    }

    /// `prev` moved by `changes` (`(i, w_i - w_prev_i)` over the assignment, whose first
    /// `num_instance` values are `1` and the public inputs): each sum over the changed
    /// positions only.
    fn sums_after(&self, prev: &Sums, changes: &[(usize, Fr)], num_instance: usize) -> Sums {
        // In `c`, `B`'s G1 query starts after `L` and `H`; `L` covers the witnesses only.
        let b_g1_start = self.l_len + self.h_len;
        let mut in_b_g1: Vec<(usize, Fr)> =
            changes.iter().map(|&(i, d)| (b_g1_start + i, d)).collect();
        // Sized up front, as every secret buffer here: growing would free unwiped copies.
        let mut in_l: Vec<(usize, Fr)> = Vec::with_capacity(changes.len());
        in_l.extend(
            changes
                .iter()
                .filter(|&&(i, _)| i >= num_instance && i - num_instance < self.l_len)
                .map(|&(i, d)| (i - num_instance, d)),
        );
        // Four small MSMs side by side: each alone leaves threads idle between its jobs.
        let ((a, b_g2), (b_g1, l)) = rayon::join(
            || {
                rayon::join(
                    || self.a.msm_sparse(changes),
                    || self.b_g2.msm_sparse(changes),
                )
            },
            || rayon::join(|| self.c.msm_sparse(&in_b_g1), || self.c.msm_sparse(&in_l)),
        );
        wipe(&mut in_b_g1);
        wipe(&mut in_l);
        Sums {
            a: prev.a + a,
            b_g2: prev.b_g2 + b_g2,
            b_g1: prev.b_g1 + b_g1,
            l: prev.l + l,
        }
    }

    /// `sum h_i H_i`.
    fn h_sum(&self, h: &[Fr]) -> G1Projective {
        let mut entries: Vec<(usize, Fr)> = h
            .iter()
            .take(self.h_len)
            .enumerate()
            .map(|(i, &x)| (self.l_len + i, x))
            .collect();
        let sum = self.c.msm_sparse(&entries);
        wipe(&mut entries);
        sum
    }
}

/// Holds a proving key, its queries prepared for blst and the circuit's matrices for one
/// registry depth.
pub struct Prover {
    /// This prover's identity for [`ProofCache`]s.
    id: u64,
    depth: usize,
    pk: ProvingKey,
    queries: Queries,
    preparation: Preparation,
    shape: Shape,
}

impl Prover {
    /// A prover for circuits of `depth` levels using `pk` (generated for that depth), ready at
    /// once: [`Preparation::Direct`]. For many proofs, [`Prover::with_preparation`] with
    /// [`Preparation::Tables`] proves faster.
    pub fn new(depth: usize, pk: ProvingKey) -> Result<Self, ProveError> {
        Self::with_preparation(depth, pk, Preparation::Direct)
    }

    /// The verifying key inside this prover's proving key.
    pub(crate) fn verifying_key(&self) -> &crate::groth::VerifyingKey {
        &self.pk.vk
    }

    /// A prover whose proving-key bases are prepared as `preparation` says.
    pub fn with_preparation(
        depth: usize,
        pk: ProvingKey,
        preparation: Preparation,
    ) -> Result<Self, ProveError> {
        Self::load_with(depth, preparation, || Ok(pk))
    }

    /// A prover whose key `load` reads (from a parameter directory, say) on one thread while
    /// the circuit's matrices are derived on another. The derivation is single-threaded
    /// (about 65 ms at depth 20 on the README's machine) and the key load plus the bases'
    /// preparation nearly as long, so a process that proves once, the CLI, waits for the
    /// slower of the two instead of their sum.
    pub fn load_with<E>(
        depth: usize,
        preparation: Preparation,
        load: impl FnOnce() -> Result<ProvingKey, E> + Send,
    ) -> Result<Self, E>
    where
        E: From<ProveError> + Send,
    {
        // The depth first: a bad one must not cost a key load, nor the tables' seconds.
        crate::registry::levels(depth).map_err(ProveError::from)?;
        Self::load_shape_with(depth, preparation, || Shape::of(depth), load)
    }

    /// A prover for another circuit over the same registry depth (the escrow variant), its
    /// shape taken from `blank`. Its proofs come from [`Prover::proof_for`]; the access
    /// methods ([`Prover::prove`]) refuse, the assignment's size not being the key's.
    /// The key is read by `load` while the shape is derived, as [`Prover::load_with`].
    pub(crate) fn for_circuit<E>(
        depth: usize,
        preparation: Preparation,
        blank: impl ConstraintSynthesizer<Fr> + Send,
        load: impl FnOnce() -> Result<ProvingKey, E> + Send,
    ) -> Result<Self, E>
    where
        E: From<ProveError> + Send,
    {
        crate::registry::levels(depth).map_err(ProveError::from)?;
        Self::load_shape_with(depth, preparation, || Shape::of_circuit(blank), load)
    }

    fn load_shape_with<E>(
        depth: usize,
        preparation: Preparation,
        shape: impl FnOnce() -> Result<Shape, ProveError> + Send,
        load: impl FnOnce() -> Result<ProvingKey, E> + Send,
    ) -> Result<Self, E>
    where
        E: From<ProveError> + Send,
    {
        let (shape, loaded) = rayon::join(shape, || {
            load().map(|pk| {
                let queries = Queries::of(&pk, preparation);
                (pk, queries)
            })
        });
        let (pk, queries) = loaded?;
        Ok(Prover {
            id: next_prover_id(),
            depth,
            queries,
            preparation,
            pk,
            shape: shape?,
        })
    }

    /// How this prover's bases are prepared.
    pub fn preparation(&self) -> Preparation {
        self.preparation
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
        self.token(witness, public, rng, |assignment, r, s| {
            self.proof(&assignment, r, s)
        })
    }

    /// Proves `public` from `witness` as [`Prover::prove`] does, the same proof for the same
    /// randomness, reusing what `cache` holds of the previous proof made with it (see
    /// [`ProofCache`]): the assignment-linear sums are moved by the variables that changed
    /// instead of computed afresh. For a holder proving again with the same credential and
    /// root, about a third of the time of [`Prover::prove`]. The cache then holds this proof's
    /// values; when no proof is made it is left as it was, or emptied if it belonged to
    /// another prover.
    pub fn prove_cached<R: RngCore + CryptoRng>(
        &self,
        cache: &mut ProofCache,
        witness: &AccessWitness,
        public: PublicInputs,
        rng: &mut R,
    ) -> Result<Token, ProveError> {
        self.token(witness, public, rng, |assignment, r, s| {
            self.proof_cached(cache, assignment, r, s)
        })
    }

    /// The token for `public`: the assignment (after the native check), then the randomisers
    /// `r` and `s` drawn in that order, then `proof` of them. The randomisers are wiped after
    /// use, like every buffer of field elements the prover allocates (the assignment, the
    /// quotient, the MSMs' scalars, a repeat proof's differences): anyone who learnt `r` or
    /// `s` with the proof could strip its zero-knowledge blinding. (Copies inside arkworks'
    /// synthesis and QAP reduction, and the MSMs' group elements, are not wiped.)
    fn token<R: RngCore + CryptoRng>(
        &self,
        witness: &AccessWitness,
        public: PublicInputs,
        rng: &mut R,
        proof: impl FnOnce(Zeroizing<Vec<Fr>>, Fr, Fr) -> Result<Proof, ProveError>,
    ) -> Result<Token, ProveError> {
        let assignment = self.witness(witness, public)?;
        let (mut r, mut s) = (Fr::rand(rng), Fr::rand(rng));
        let proof = proof(assignment, r, s);
        r.zeroize();
        s.zeroize();
        Ok(Token {
            depth: self.depth as u8,
            proof: proof?,
            public,
            escrow: None,
        })
    }

    /// [`Prover::proof`] through `cache`: the same `A`, `B` and `C`, from the cached sums
    /// moved by the changed variables, plus `sum h_i H_i` in full.
    fn proof_cached(
        &self,
        cache: &mut ProofCache,
        mut assignment: Zeroizing<Vec<Fr>>,
        r: Fr,
        s: Fr,
    ) -> Result<Proof, ProveError> {
        let mut changes = cache.changes(self.id, &assignment);
        let q = &self.queries;
        // The QAP and the sums are independent; side by side they keep both threads busy.
        let (h, sums) = rayon::join(
            || self.quotient(&assignment),
            || q.sums_after(cache.sums(), &changes, self.shape.num_instance),
        );
        let h = h.inspect_err(|_| wipe(&mut changes))?;
        let h_sum = q.h_sum(&h);
        let pk = &self.pk;
        let a = pk.vk.alpha_g1 + sums.a + pk.delta_g1 * r;
        let b_g2 = pk.vk.beta_g2 + sums.b_g2 + pk.vk.delta_g2 * s;
        // r B - r s delta = r (beta + sum a_i B_i), as in `proof`.
        let c = sums.l + h_sum + a * s + (pk.beta_g1 + sums.b_g1) * r;
        let changed = changes.len();
        wipe(&mut changes);
        // The cache takes the assignment over (and wipes it in its turn).
        cache.store(self.id, std::mem::take(&mut *assignment), sums, changed);
        Ok(Proof {
            a: a.into_affine(),
            b: b_g2.into_affine(),
            c: c.into_affine(),
        })
    }

    /// The coefficients of the quotient `h = (a·b - c) / Z` of the QAP for `assignment`,
    /// wiped when dropped. (arkworks' reduction frees its own evaluation vectors unwiped.)
    fn quotient(&self, assignment: &[Fr]) -> Result<Zeroizing<Vec<Fr>>, ProveError> {
        LibsnarkReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
            &self.shape.matrices,
            self.shape.num_instance,
            self.shape.num_constraints,
            assignment,
        )
        .map(Zeroizing::new)
        .map_err(|e| ProveError::Synthesis(e.to_string()))
    }

    /// The Groth16 proof for a full assignment with randomisers `r` and `s`:
    /// `A = alpha + sum a_i A_i + r delta`, `B = beta + sum a_i B_i + s delta` (in G1 and G2),
    /// `C = sum w_i L_i + sum h_i H_i + s A + r B - r s delta`, `B` being the G1 twin of `B`.
    fn proof(&self, assignment: &[Fr], r: Fr, s: Fr) -> Result<Proof, ProveError> {
        let h = self.quotient(assignment)?;
        let (pk, q) = (&self.pk, &self.queries);
        let witness = &assignment[self.shape.num_instance..];
        let a = q.a.msm(assignment) + pk.vk.alpha_g1 + pk.delta_g1 * r;
        let b_g2 = q.b_g2.msm(assignment) + pk.vk.beta_g2 + pk.vk.delta_g2 * s;
        // sum w_i L_i + sum h_i H_i + r sum a_i B_i, in one MSM.
        let mut scalars = Zeroizing::new(Vec::with_capacity(q.l_len + q.h_len + assignment.len()));
        scalars.extend(
            witness
                .iter()
                .chain(std::iter::repeat(&Fr::from(0u64)))
                .take(q.l_len),
        );
        scalars.extend(
            h.iter()
                .chain(std::iter::repeat(&Fr::from(0u64)))
                .take(q.h_len),
        );
        scalars.extend(assignment.iter().map(|x| *x * r));
        // r B - r s delta = r beta + r sum a_i B_i: the MSM holds the sum.
        let c = q.c.msm(&scalars) + pk.beta_g1 * r + a * s;
        Ok(Proof {
            a: a.into_affine(),
            b: b_g2.into_affine(),
            c: c.into_affine(),
        })
    }

    /// The Groth16 proof of `circuit` (of this prover's shape) with fresh randomisers, as
    /// [`Prover::prove`] makes it; for circuits that extend the access statement, whose
    /// callers check their statement natively first.
    pub(crate) fn proof_for<R: RngCore + CryptoRng>(
        &self,
        circuit: impl ConstraintSynthesizer<Fr>,
        rng: &mut R,
    ) -> Result<Proof, ProveError> {
        let assignment = self.assignment(circuit)?;
        let (mut r, mut s) = (Fr::rand(rng), Fr::rand(rng));
        let proof = self.proof(&assignment, r, s);
        r.zeroize();
        s.zeroize();
        proof
    }

    /// The same statement proven by arkworks' own `Groth16::prove` on this prover's key: it
    /// rebuilds the constraint matrices and runs arkworks' generic MSMs on every call. This is
    /// the baseline before Consentry's optimisations, the second peer of `consentry bench`
    /// (`prove_arkworks`). The statement is checked natively first, as in [`Prover::prove`].
    pub fn prove_with_arkworks<R: RngCore + CryptoRng>(
        &self,
        witness: &AccessWitness,
        public: PublicInputs,
        rng: &mut R,
    ) -> Result<Token, ProveError> {
        witness.check(&public, self.depth)?;
        let circuit = AccessCircuit::new(public, witness.clone());
        let proof = <Groth16<super::Curve> as SNARK<Fr>>::prove(&self.pk, circuit, rng)
            .map_err(|e| ProveError::Synthesis(e.to_string()))?;
        Ok(Token {
            depth: self.depth as u8,
            proof,
            public,
            escrow: None,
        })
    }

    /// Witness generation, the part of [`Prover::prove`] before the multi-scalar
    /// multiplications: checks the statement natively (as `prove` does), then computes the
    /// full assignment `[1, public inputs, witnesses]` without building matrices. Exposed for
    /// benchmarks (`consentry bench` times it on its own); `prove` calls exactly this. The
    /// assignment holds the secret key and every wire value: it is wiped when dropped.
    pub fn witness(
        &self,
        witness: &AccessWitness,
        public: PublicInputs,
    ) -> Result<Zeroizing<Vec<Fr>>, ProveError> {
        witness.check(&public, self.depth)?;
        self.assignment(AccessCircuit::new(public, witness.clone()))
    }

    /// Number of R1CS constraints of the circuit at this prover's depth (3,914 at depth 20),
    /// as counted when the matrices were derived.
    pub fn num_constraints(&self) -> usize {
        self.shape.num_constraints
    }

    /// The full assignment `[1, public inputs, witnesses]`, computed without building matrices.
    /// arkworks pushes the witness values one by one into a vector that is given room for all
    /// of them first (so that it never frees a partial copy), then moved out and wiped once
    /// copied into the result (wiped on drop), whether synthesis succeeded or not. The gadgets'
    /// own copies of their values, inside arkworks, are freed unwiped when synthesis ends.
    fn assignment(
        &self,
        circuit: impl ConstraintSynthesizer<Fr>,
    ) -> Result<Zeroizing<Vec<Fr>>, ProveError> {
        let err = |e: ark_relations::gr1cs::SynthesisError| ProveError::Synthesis(e.to_string());
        let no_cs = || ProveError::Synthesis("no constraint system".into());
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Prove {
            construct_matrices: false,
            generate_lc_assignments: false,
        });
        let len = self.pk.a_query.len();
        cs.borrow_mut()
            .ok_or_else(no_cs)?
            .assignments
            .witness_assignment
            .reserve_exact(len.saturating_sub(self.shape.num_instance));
        let synthesized = circuit.generate_constraints(cs.clone());
        let witness = Zeroizing::new(
            cs.borrow_mut()
                .map(|mut cs| std::mem::take(&mut cs.assignments.witness_assignment))
                .ok_or_else(no_cs)?,
        );
        synthesized.map_err(err)?;
        let instance = cs.instance_assignment().map_err(err)?;
        if instance.len() != self.shape.num_instance {
            return Err(ProveError::Synthesis(
                "instance size differs from the key's".into(),
            ));
        }
        let mut full = Zeroizing::new(Vec::with_capacity(instance.len() + witness.len()));
        full.extend_from_slice(&instance);
        full.extend_from_slice(&witness);
        if full.len() != len {
            return Err(ProveError::Synthesis(
                "assignment size differs from the key's".into(),
            ));
        }
        Ok(full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groth::ParamsError;

    #[test]
    fn a_bad_depth_is_refused_before_any_key_is_loaded() {
        let made = Prover::load_with(3, Preparation::Direct, || -> Result<_, ParamsError> {
            panic!("the key must not be loaded for a bad depth")
        });
        assert!(matches!(
            made,
            Err(ParamsError::Prover(ProveError::Depth(_)))
        ));
    }

    #[test]
    fn a_failed_key_load_is_returned_as_it_failed() {
        let made = Prover::load_with(4, Preparation::Direct, || {
            Err(ParamsError::Setup("no key here".into()))
        });
        assert!(matches!(made, Err(ParamsError::Setup(m)) if m == "no key here"));
    }
}
