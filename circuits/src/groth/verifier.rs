//! Verifying presentation tokens, one at a time or in batches.

use ark_bls12_381::{Fr, G1Affine, G1Projective};
use ark_ec::{pairing::Pairing, AdditiveGroup, AffineRepr, CurveGroup};
use ark_ff::{BigInteger, PrimeField, Zero};
use ark_groth16::{Groth16, PreparedVerifyingKey};
use rayon::prelude::*;

use super::{batch, Curve, VerifyingKey};
use crate::token::Token;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The token was made for another registry depth than this verifying key.
    #[error("the token is for registry depth {token}, the verifying key for depth {key}")]
    DepthMismatch {
        /// The token's depth.
        token: usize,
        /// The key's depth.
        key: usize,
    },
    /// The Groth16 check failed: the proof does not prove these public inputs.
    #[error("the proof does not verify against its public inputs")]
    ProofInvalid,
}

/// Which tokens of a batch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} of the batch's tokens are invalid (indices {bad:?})", bad.len())]
pub struct BatchError {
    /// Indices (into the submitted slice) of the invalid tokens, ascending.
    pub bad: Vec<usize>,
}

/// A verifying key for one depth, prepared once: the pairing `e(alpha, beta)`, the negated and
/// prepared `gamma` and `delta`, and fixed-base tables for the public-input bases (so the
/// input commitment costs a few dozen additions per input instead of a full scalar
/// multiplication).
#[derive(Clone)]
pub struct Verifier {
    depth: usize,
    pub(super) pvk: PreparedVerifyingKey<Curve>,
    pub(super) beta_prepared: <Curve as Pairing>::G2Prepared,
    input_tables: Vec<FixedBaseTable>,
}

/// Multiples `d * 2^(w*WINDOW) * base` for every window `w` and digit `d`.
#[derive(Clone)]
struct FixedBaseTable {
    windows: Vec<Vec<G1Affine>>,
}

const WINDOW: usize = 8;

impl FixedBaseTable {
    fn new(base: G1Affine) -> Self {
        let count = (Fr::MODULUS_BIT_SIZE as usize).div_ceil(WINDOW);
        let mut start = base.into_group();
        let mut starts = Vec::with_capacity(count);
        for _ in 0..count {
            starts.push(start);
            for _ in 0..WINDOW {
                start.double_in_place();
            }
        }
        let windows = starts
            .into_par_iter()
            .map(|g| {
                let mut acc = G1Projective::zero();
                let multiples: Vec<G1Projective> = (0..1usize << WINDOW)
                    .map(|_| {
                        let m = acc;
                        acc += g;
                        m
                    })
                    .collect();
                G1Projective::normalize_batch(&multiples)
            })
            .collect();
        FixedBaseTable { windows }
    }

    fn mul(&self, scalar: &Fr) -> G1Projective {
        let bytes = scalar.into_bigint().to_bytes_le();
        self.windows
            .iter()
            .zip(bytes)
            .fold(G1Projective::zero(), |acc, (window, digit)| {
                acc + window[digit as usize]
            })
    }
}

impl Verifier {
    /// Prepares `vk`, a verifying key for circuits of `depth` levels.
    pub fn new(depth: usize, vk: &VerifyingKey) -> Self {
        let pvk = ark_groth16::prepare_verifying_key(vk);
        let beta_prepared = vk.beta_g2.into();
        let input_tables = vk.gamma_abc_g1[1..]
            .par_iter()
            .map(|b| FixedBaseTable::new(*b))
            .collect();
        Verifier {
            depth,
            pvk,
            beta_prepared,
            input_tables,
        }
    }

    /// The registry depth of this key.
    pub fn depth(&self) -> usize {
        self.depth
    }

    fn check_depth(&self, token: &Token) -> Result<(), VerifyError> {
        if token.depth as usize != self.depth {
            return Err(VerifyError::DepthMismatch {
                token: token.depth as usize,
                key: self.depth,
            });
        }
        Ok(())
    }

    /// `gamma_abc[0] + sum x_j gamma_abc[j]` for a token's public inputs.
    pub(super) fn prepared_inputs(&self, token: &Token) -> G1Projective {
        let inputs: [Fr; crate::access::NUM_PUBLIC_INPUTS] = token.public.to_field_elements();
        debug_assert_eq!(inputs.len(), self.input_tables.len());
        self.input_tables
            .iter()
            .zip(&inputs)
            .fold(self.pvk.vk.gamma_abc_g1[0].into_group(), |acc, (t, x)| {
                acc + t.mul(x)
            })
    }

    /// Verifies one token. The point encodings were already validated when it was decoded.
    pub fn verify(&self, token: &Token) -> Result<(), VerifyError> {
        self.check_depth(token)?;
        let inputs = self.prepared_inputs(token);
        match Groth16::<Curve>::verify_proof_with_prepared_inputs(&self.pvk, &token.proof, &inputs)
        {
            Ok(true) => Ok(()),
            _ => Err(VerifyError::ProofInvalid),
        }
    }

    /// Verifies many tokens with one multi-pairing (random linear combination with 128-bit
    /// coefficients from the OS-seeded thread RNG; a false accept has probability about
    /// 2^-128). When the batch fails, halves are re-checked recursively to name the bad
    /// tokens, so one bad token among `n` costs about `2 log2 n` smaller batches.
    pub fn verify_batch(&self, tokens: &[Token]) -> Result<(), BatchError> {
        let mut bad: Vec<usize> = tokens
            .iter()
            .enumerate()
            .filter(|(_, t)| self.check_depth(t).is_err())
            .map(|(i, _)| i)
            .collect();
        let candidates: Vec<usize> = (0..tokens.len()).filter(|i| !bad.contains(i)).collect();
        bad.extend(batch::find_bad(self, tokens, &candidates));
        bad.sort_unstable();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(BatchError { bad })
        }
    }
}
