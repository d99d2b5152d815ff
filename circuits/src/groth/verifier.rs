//! Verifying presentation tokens, one at a time or in batches.

use ark_bls12_381::{Fr, G1Affine, G1Projective};
use ark_ec::{AdditiveGroup, AffineRepr, CurveGroup};
use ark_ff::{BigInteger, PrimeField, Zero};
use blst::{blst_fp12, blst_p2_affine};
use rayon::prelude::*;

use super::blst_bridge::{g1_to_blst, g2_to_blst, miller_loop_here};
use super::{batch, Proof, VerifyingKey};
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
    /// An escrowed token against a plain key, or a plain token against an escrow key: the
    /// circuits differ, so the proof cannot be checked against this key.
    #[error("the token has {token} public inputs, the verifying key's circuit {key}")]
    ShapeMismatch {
        /// The token's public inputs.
        token: usize,
        /// The key's.
        key: usize,
    },
    /// The Groth16 check failed: the proof does not prove these public inputs.
    #[error("the proof does not verify against its public inputs")]
    ProofInvalid,
}

/// A verifying key that cannot serve the access circuit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the verifying key has {got} public-input bases, the circuit needs {expected} (one per public input, plus one)"
)]
pub struct KeyShapeError {
    /// The circuit's public inputs plus one.
    pub expected: usize,
    /// What the key has.
    pub got: usize,
}

/// Which tokens of a batch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} of the batch's tokens are invalid (indices {bad:?})", bad.len())]
pub struct BatchError {
    /// Indices (into the submitted slice) of the invalid tokens, ascending.
    pub bad: Vec<usize>,
}

/// A verifying key for one depth, prepared once: the Miller loop of `(alpha, beta)`, the
/// negated `gamma` and `delta` in blst's form (pairings run in blst, see
/// `groth/blst_bridge.rs`), and fixed-base tables for the public-input bases (so the
/// input commitment costs a few dozen additions per input instead of a full scalar
/// multiplication).
#[derive(Clone)]
pub struct Verifier {
    depth: usize,
    pub(super) vk: VerifyingKey,
    /// The Miller loop of `(alpha, beta)`, before the final exponentiation.
    alpha_beta: blst_fp12,
    pub(super) beta: blst_p2_affine,
    pub(super) gamma_neg: blst_p2_affine,
    pub(super) delta_neg: blst_p2_affine,
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
    /// Prepares `vk`, a verifying key for circuits of `depth` levels. Refuses a key without
    /// exactly one base per public input plus one: with fewer, some public input would not
    /// be checked at all (a zip would silently drop it); with more, the key is for another
    /// circuit.
    pub fn new(depth: usize, vk: &VerifyingKey) -> Result<Self, KeyShapeError> {
        Self::for_inputs(depth, vk, crate::access::NUM_PUBLIC_INPUTS)
    }

    /// [`Verifier::new`] for the escrow circuit ([`crate::escrow`]): the access statement's
    /// inputs and the escrow's.
    pub fn escrow(depth: usize, vk: &VerifyingKey) -> Result<Self, KeyShapeError> {
        Self::for_inputs(
            depth,
            vk,
            crate::access::NUM_PUBLIC_INPUTS + crate::escrow::NUM_ESCROW_INPUTS,
        )
    }

    /// Whether this key verifies escrowed tokens (the escrow circuit's key).
    pub fn escrowed(&self) -> bool {
        self.input_tables.len() != crate::access::NUM_PUBLIC_INPUTS
    }

    /// [`Verifier::new`] for a circuit with `inputs` public inputs.
    fn for_inputs(depth: usize, vk: &VerifyingKey, inputs: usize) -> Result<Self, KeyShapeError> {
        let expected = inputs + 1;
        if vk.gamma_abc_g1.len() != expected {
            return Err(KeyShapeError {
                expected,
                got: vk.gamma_abc_g1.len(),
            });
        }
        let input_tables = vk.gamma_abc_g1[1..]
            .par_iter()
            .map(|b| FixedBaseTable::new(*b))
            .collect();
        let beta = g2_to_blst(&vk.beta_g2);
        Ok(Verifier {
            depth,
            vk: vk.clone(),
            alpha_beta: blst_fp12::miller_loop(&beta, &g1_to_blst(&vk.alpha_g1)),
            beta,
            gamma_neg: g2_to_blst(&-vk.gamma_g2),
            delta_neg: g2_to_blst(&-vk.delta_g2),
            input_tables,
        })
    }

    /// The registry depth of this key.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Whether `token` is of this key's circuit: its depth, and escrowed or not as the key.
    fn check_shape(&self, token: &Token) -> Result<(), VerifyError> {
        if token.depth as usize != self.depth {
            return Err(VerifyError::DepthMismatch {
                token: token.depth as usize,
                key: self.depth,
            });
        }
        if token.escrow.is_some() != self.escrowed() {
            return Err(VerifyError::ShapeMismatch {
                token: token.inputs().len(),
                key: self.input_tables.len(),
            });
        }
        Ok(())
    }

    /// `gamma_abc[0] + sum x_j gamma_abc[j]`; the caller passes one input per table (`new`
    /// and `for_inputs` fixed their number with the key's shape).
    fn prepared(&self, inputs: &[Fr]) -> G1Projective {
        debug_assert_eq!(inputs.len(), self.input_tables.len());
        self.input_tables
            .iter()
            .zip(inputs)
            .fold(self.vk.gamma_abc_g1[0].into_group(), |acc, (t, x)| {
                acc + t.mul(x)
            })
    }

    /// Verifies one token: `e(A, B) e(IC, -gamma) e(C, -delta) = e(alpha, beta)`, where `IC`
    /// commits to the public inputs; three Miller loops and one final exponentiation. The
    /// point encodings were already validated when the token was decoded.
    pub fn verify(&self, token: &Token) -> Result<(), VerifyError> {
        self.check_shape(token)?;
        self.verify_proof(&token.proof, &token.inputs())
    }

    /// [`Verifier::verify`] for a proof and its public inputs (as many as the key has bases
    /// for, else `ProofInvalid`: an input left out would not be checked).
    pub(crate) fn verify_proof(&self, proof: &Proof, inputs: &[Fr]) -> Result<(), VerifyError> {
        if inputs.len() != self.input_tables.len() {
            return Err(VerifyError::ProofInvalid);
        }
        let inputs = self.prepared(inputs).into_affine();
        let g1 = [proof.a, inputs, proof.c].map(|p| g1_to_blst(&p));
        let g2 = [g2_to_blst(&proof.b), self.gamma_neg, self.delta_neg];
        let ml = miller_loop_here(&g1, &g2);
        if blst_fp12::finalverify(&ml, &self.alpha_beta) {
            Ok(())
        } else {
            Err(VerifyError::ProofInvalid)
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
            .filter(|(_, t)| self.check_shape(t).is_err())
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
