//! The Poseidon sponge as an R1CS gadget; the twin of [`super::hash`].
//!
//! Cost: the linear layers are free (linear combinations), each S-box costs 3 constraints
//! (`x^2`, `x^4`, `x^5`), so one permutation of width `t` with `R_P` partial rounds costs at
//! most `(8t + R_P) · 3` constraints, less where the state is still constant (the capacity tag
//! in the first round): 240 at width 3, 297 at width 5 and 354 at width 7 when every rate
//! element is a variable.

use ark_bls12_381::Fr;
use ark_r1cs_std::fields::{fp::FpVar, FieldVar};
use ark_relations::gr1cs::SynthesisError;

use super::{Domain, Poseidon, Width, FULL_ROUNDS};

fn sbox(x: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}

/// The permutation of `width` over circuit variables.
///
/// # Panics
/// If `state` does not have `width.size()` elements (a programming error).
pub fn permute_var(width: Width, state: &mut [FpVar<Fr>]) -> Result<(), SynthesisError> {
    assert_eq!(state.len(), width.size(), "state length is the width");
    let p = Poseidon::get(width);
    let half = FULL_ROUNDS / 2;
    let partial = width.partial_rounds();
    for (round, ark) in p.ark.iter().enumerate() {
        for (s, c) in state.iter_mut().zip(ark) {
            *s += *c;
        }
        if round < half || round >= half + partial {
            for s in state.iter_mut() {
                *s = sbox(s)?;
            }
        } else {
            state[0] = sbox(&state[0])?;
        }
        let old = state.to_vec();
        for (s, row) in state.iter_mut().zip(&p.mds) {
            let mut acc = &old[0] * row[0];
            for (x, m) in old.iter().zip(row).skip(1) {
                acc += x * *m;
            }
            *s = acc;
        }
    }
    Ok(())
}

/// Domain-separated sponge hash over circuit variables, in the domain's width; the twin of
/// [`super::hash`].
pub fn hash_var(domain: Domain, inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let width = domain.width();
    let mut state = vec![FpVar::constant(Fr::from(0u64)); width.size()];
    state[0] = FpVar::constant(Fr::from(domain.capacity_tag(inputs.len())));
    if inputs.is_empty() {
        permute_var(width, &mut state)?;
    }
    for chunk in inputs.chunks(width.rate()) {
        for (s, x) in state[1..].iter_mut().zip(chunk) {
            *s += x;
        }
        permute_var(width, &mut state)?;
    }
    Ok(state[1].clone())
}
