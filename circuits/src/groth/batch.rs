//! Batch verification of Groth16 proofs against one verifying key.
//!
//! For proofs `(A_i, B_i, C_i)` with prepared inputs `IC_i` and random `r_i`, all proofs are
//! valid (up to probability 2^-128) iff
//!
//! ```text
//! prod e(r_i A_i, B_i) * e(sum r_i IC_i, -gamma) * e(sum r_i C_i, -delta) * e(-(sum r_i) alpha, beta) = 1
//! ```
//!
//! This costs one Miller loop per proof plus three, and one final exponentiation, instead of
//! three Miller loops and a final exponentiation per proof. `sum r_i IC_i` is folded into the
//! scalars of the verifying key's input bases, so it costs nine scalar multiplications in all.

use ark_bls12_381::{Fr, G1Affine, G1Projective};
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::AdditiveGroup;
use blst::{blst_p1_affine, blst_p2_affine};
use rand::Rng;
use rayon::prelude::*;

use super::blst_bridge::{g1_scaled, g1_to_blst, g2_to_blst, pairing_product_is_one};
use super::Verifier;
use crate::token::Token;

/// Returns the indices (from `subset`) of the tokens that fail, bisecting on failure.
pub(super) fn find_bad(v: &Verifier, tokens: &[Token], subset: &[usize]) -> Vec<usize> {
    match subset {
        [] => vec![],
        [i] => match v.verify(&tokens[*i]) {
            Ok(()) => vec![],
            Err(_) => vec![*i],
        },
        _ if batch_holds(v, tokens, subset) => vec![],
        _ => {
            let (left, right) = subset.split_at(subset.len() / 2);
            let (mut a, b) =
                rayon::join(|| find_bad(v, tokens, left), || find_bad(v, tokens, right));
            a.extend(b);
            a
        }
    }
}

/// Whether the randomised batch equation holds for `subset`.
fn batch_holds(v: &Verifier, tokens: &[Token], subset: &[usize]) -> bool {
    let mut rng = rand::thread_rng();
    let r128: Vec<u128> = subset.iter().map(|_| rng.gen()).collect();
    let r: Vec<Fr> = r128.iter().map(|&x| Fr::from(x)).collect();

    // r_i A_i (blst) and the B_i in blst's form.
    let a: Vec<G1Affine> = subset.iter().map(|i| tokens[*i].proof.a).collect();
    let mut g1: Vec<blst_p1_affine> = g1_scaled(&a, &r128);
    let mut g2: Vec<blst_p2_affine> = subset
        .par_iter()
        .map(|i| g2_to_blst(&tokens[*i].proof.b))
        .collect();

    // sum r_i IC_i = (sum r_i) gamma_abc[0] + sum_j (sum_i r_i x_ij) gamma_abc[j].
    let ic = &v.vk.gamma_abc_g1;
    let mut folded = vec![Fr::ZERO; ic.len()];
    for (i, ri) in subset.iter().zip(&r) {
        folded[0] += ri;
        for (f, x) in folded[1..].iter_mut().zip(tokens[*i].inputs()) {
            *f += *ri * x;
        }
    }
    let sum_ic = G1Projective::msm(ic, &folded).expect("lengths match");
    let cs: Vec<G1Affine> = subset.iter().map(|i| tokens[*i].proof.c).collect();
    let sum_c = G1Projective::msm(&cs, &r).expect("lengths match");
    let neg_alpha: G1Projective = v.vk.alpha_g1 * (-folded[0]);

    for (p, q) in [
        (sum_ic, v.gamma_neg),
        (sum_c, v.delta_neg),
        (neg_alpha, v.beta),
    ] {
        g1.push(g1_to_blst(&p.into_affine()));
        g2.push(q);
    }
    pairing_product_is_one(&g1, &g2)
}
