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
use ark_ec::{pairing::Pairing, CurveGroup, VariableBaseMSM};
use ark_ff::{AdditiveGroup, One};
use rand::Rng;
use rayon::prelude::*;

use super::{Curve, Verifier};
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

fn random_scalar() -> Fr {
    Fr::from(rand::thread_rng().gen::<u128>())
}

/// Whether the randomised batch equation holds for `subset`.
fn batch_holds(v: &Verifier, tokens: &[Token], subset: &[usize]) -> bool {
    let r: Vec<Fr> = subset.iter().map(|_| random_scalar()).collect();

    // r_i A_i, in parallel.
    let scaled_a: Vec<G1Affine> = subset
        .par_iter()
        .zip(r.par_iter())
        .map(|(i, ri)| tokens[*i].proof.a * ri)
        .collect::<Vec<G1Projective>>()
        .into_iter()
        .map(|p| p.into_affine())
        .collect();

    // sum r_i IC_i = (sum r_i) gamma_abc[0] + sum_j (sum_i r_i x_ij) gamma_abc[j].
    let ic = &v.pvk.vk.gamma_abc_g1;
    let mut folded = vec![Fr::ZERO; ic.len()];
    for (i, ri) in subset.iter().zip(&r) {
        folded[0] += ri;
        for (f, x) in folded[1..]
            .iter_mut()
            .zip(tokens[*i].public.to_field_elements())
        {
            *f += *ri * x;
        }
    }
    let sum_ic = G1Projective::msm(ic, &folded).expect("lengths match");
    let cs: Vec<G1Affine> = subset.iter().map(|i| tokens[*i].proof.c).collect();
    let sum_c = G1Projective::msm(&cs, &r).expect("lengths match");
    let neg_alpha: G1Projective = v.pvk.vk.alpha_g1 * (-folded[0]);

    let mut g1: Vec<<Curve as Pairing>::G1Prepared> =
        scaled_a.iter().map(|a| (*a).into()).collect();
    let mut g2: Vec<<Curve as Pairing>::G2Prepared> = subset
        .par_iter()
        .map(|i| tokens[*i].proof.b.into())
        .collect();
    g1.push(sum_ic.into_affine().into());
    g2.push(v.pvk.gamma_g2_neg_pc.clone());
    g1.push(sum_c.into_affine().into());
    g2.push(v.pvk.delta_g2_neg_pc.clone());
    g1.push(neg_alpha.into_affine().into());
    g2.push(v.beta_prepared.clone());

    let ml = Curve::multi_miller_loop(g1, g2);
    match Curve::final_exponentiation(ml) {
        Some(out) => out.0.is_one(),
        None => false,
    }
}
