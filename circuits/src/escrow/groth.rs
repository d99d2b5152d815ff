//! Groth16 keys, proofs and verification for the escrow circuit, with arkworks' prover.
//!
//! The plain access circuit has its own optimised prover ([`crate::groth::Prover`]: matrices
//! derived once, fixed-base MSMs); the escrow circuit goes through arkworks' `Groth16` until it
//! shares that prover, so the benchmark compares the two circuits with the same prover.

use ark_groth16::Groth16;
use ark_snark::SNARK;
use rand::{CryptoRng, RngCore};

use super::{Escrow, EscrowCircuit, EscrowRandomness, InspectorKey};
use crate::access::{AccessWitness, PublicInputs, StatementError};
use crate::groth::{Curve, Proof, ProveError, ProvingKey, VerifyingKey};
use crate::token::Token;

/// Keys for the escrow circuit at `depth` for one inspector (the key is a circuit constant).
pub fn setup<R: RngCore + CryptoRng>(
    depth: usize,
    inspector: &InspectorKey,
    rng: &mut R,
) -> Result<(ProvingKey, VerifyingKey), ProveError> {
    crate::registry::levels(depth)?;
    Groth16::<Curve>::circuit_specific_setup(EscrowCircuit::blank(depth, inspector), rng)
        .map_err(|e| ProveError::Synthesis(e.to_string()))
}

/// Deterministic (INSECURE) escrow keys from a public seed, as
/// [`crate::groth::setup_from_seed`] for the plain circuit.
pub fn setup_from_seed(
    depth: usize,
    inspector: &InspectorKey,
    seed: [u8; 32],
) -> Result<(ProvingKey, VerifyingKey), ProveError> {
    use rand::SeedableRng;
    setup(
        depth,
        inspector,
        &mut rand_chacha::ChaCha20Rng::from_seed(seed),
    )
}

/// Proves the escrow statement: the access statement (checked natively first, as the plain
/// prover does) and that `escrow` encrypts the witness's id to `inspector` with `r`.
pub fn prove<R: RngCore + CryptoRng>(
    pk: &ProvingKey,
    public: PublicInputs,
    witness: &AccessWitness,
    inspector: &InspectorKey,
    escrow: Escrow,
    r: &EscrowRandomness,
    rng: &mut R,
) -> Result<Proof, ProveError> {
    let circuit = checked_circuit(public, witness, witness.path.depth(), inspector, escrow, r)?;
    Groth16::<Curve>::prove(pk, circuit, rng).map_err(|e| ProveError::Synthesis(e.to_string()))
}

/// The escrow circuit for this assignment once the statement is checked natively: the access
/// statement at `depth`, and `escrow` being the witness's id encrypted to `inspector` with
/// `r` (a precise error instead of an unsatisfiable circuit).
fn checked_circuit(
    public: PublicInputs,
    witness: &AccessWitness,
    depth: usize,
    inspector: &InspectorKey,
    escrow: Escrow,
    r: &EscrowRandomness,
) -> Result<EscrowCircuit, ProveError> {
    witness.check(&public, depth)?;
    if super::encrypt_with(&witness.sk.id(), inspector, &r.0) != escrow {
        return Err(ProveError::Statement(StatementError::Escrow));
    }
    Ok(EscrowCircuit::new(
        public,
        witness.clone(),
        inspector,
        escrow,
        r,
    ))
}

/// Whether `proof` shows the escrow statement for these public inputs and this escrow.
pub fn verify(
    pvk: &PreparedVerifyingKey,
    public: &PublicInputs,
    escrow: &Escrow,
    proof: &Proof,
) -> bool {
    let mut inputs = public.to_field_elements().to_vec();
    inputs.extend(escrow.to_field_elements());
    Groth16::<Curve>::verify_with_processed_vk(pvk, &inputs, proof).unwrap_or(false)
}

/// The node's prover ([`crate::groth::Prover`]: matrices derived once, prepared bases) for
/// the escrow circuit of one inspector.
pub struct EscrowProver {
    prover: crate::groth::Prover,
    inspector: InspectorKey,
}

impl EscrowProver {
    /// A prover for the escrow circuit at `depth` for `inspector`, with `pk` generated for
    /// that circuit ([`setup`]).
    pub fn new(
        depth: usize,
        pk: ProvingKey,
        inspector: InspectorKey,
        preparation: crate::groth::Preparation,
    ) -> Result<Self, ProveError> {
        Self::load_with(depth, inspector, preparation, || Ok(pk))
    }

    /// [`EscrowProver::new`] with the key read by `load` while the circuit's matrices are
    /// derived (as [`crate::groth::Prover::load_with`]): a one-proof process waits for the
    /// slower of the two, not their sum.
    pub fn load_with<E>(
        depth: usize,
        inspector: InspectorKey,
        preparation: crate::groth::Preparation,
        load: impl FnOnce() -> Result<ProvingKey, E> + Send,
    ) -> Result<Self, E>
    where
        E: From<ProveError> + Send,
    {
        let blank = EscrowCircuit::blank(depth, &inspector);
        Ok(EscrowProver {
            prover: crate::groth::Prover::for_circuit(depth, preparation, blank, load)?,
            inspector,
        })
    }

    /// Proves the escrow statement, checked natively first (as [`prove`]).
    pub fn prove<R: RngCore + CryptoRng>(
        &self,
        public: PublicInputs,
        witness: &AccessWitness,
        escrow: Escrow,
        r: &EscrowRandomness,
        rng: &mut R,
    ) -> Result<Proof, ProveError> {
        let depth = self.prover.depth();
        let circuit = checked_circuit(public, witness, depth, &self.inspector, escrow, r)?;
        self.prover.proof_for(circuit, rng)
    }

    /// [`EscrowProver::prove`] as an escrowed token: the proof, its public inputs and the
    /// escrow, for [`crate::groth::Verifier::escrow`].
    pub fn token<R: RngCore + CryptoRng>(
        &self,
        public: PublicInputs,
        witness: &AccessWitness,
        escrow: Escrow,
        r: &EscrowRandomness,
        rng: &mut R,
    ) -> Result<Token, ProveError> {
        Ok(Token {
            depth: self.prover.depth() as u8,
            proof: self.prove(public, witness, escrow, r, rng)?,
            public,
            escrow: Some(escrow),
        })
    }

    /// Checks `token` (made by this prover) against the verifying key inside this prover's
    /// proving key, with arkworks' verifier (about 3 ms). A proof for an inspector key other
    /// than the one the key was made for never verifies: a client told the inspector's key
    /// by a node calls this before sending, so that a node naming its own key as the
    /// inspector's cannot have a reader encrypt its id to that node.
    pub fn check(&self, token: &Token) -> Result<(), ProveError> {
        let escrow = token
            .escrow
            .ok_or(ProveError::KeyMismatch("the token carries no escrow"))?;
        if verify(
            &prepare(self.prover.verifying_key()),
            &token.public,
            &escrow,
            &token.proof,
        ) {
            Ok(())
        } else {
            Err(ProveError::KeyMismatch(
                "it was made for another inspector key than the one proven for",
            ))
        }
    }

    /// The inspector key this prover's circuit encrypts to.
    pub fn inspector(&self) -> &InspectorKey {
        &self.inspector
    }

    /// The circuit's constraint count.
    pub fn num_constraints(&self) -> usize {
        self.prover.num_constraints()
    }
}

/// A verifying key prepared for verification (the pairing with `alpha·beta` precomputed).
pub type PreparedVerifyingKey = ark_groth16::PreparedVerifyingKey<Curve>;

/// Prepares a verifying key.
pub fn prepare(vk: &VerifyingKey) -> PreparedVerifyingKey {
    ark_groth16::prepare_verifying_key(vk)
}

/// The escrow circuit's constraint count at `depth` (as its key generator sees it).
pub fn num_constraints(depth: usize, inspector: &InspectorKey) -> Result<usize, ProveError> {
    use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
    crate::registry::levels(depth)?;
    let cs = ConstraintSystem::new_ref();
    EscrowCircuit::blank(depth, inspector)
        .generate_constraints(cs.clone())
        .map_err(|e| ProveError::Synthesis(e.to_string()))?;
    Ok(cs.num_constraints())
}
