//! Making presentation tokens.

use ark_groth16::Groth16;
use ark_snark::SNARK;
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

/// Holds a proving key for one registry depth.
pub struct Prover {
    depth: usize,
    pk: ProvingKey,
}

impl Prover {
    /// A prover for circuits of `depth` levels using `pk` (generated for that depth).
    pub fn new(depth: usize, pk: ProvingKey) -> Self {
        Prover { depth, pk }
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
        witness.check(&public, self.depth)?;
        let circuit = AccessCircuit::new(public, witness.clone());
        let proof = Groth16::<Curve>::prove(&self.pk, circuit, rng)
            .map_err(|e| ProveError::Synthesis(e.to_string()))?;
        Ok(Token {
            depth: self.depth as u8,
            proof,
            public,
        })
    }
}
