//! The Poseidon sponge as an R1CS gadget; the twin of [`super::hash`].
//!
//! Cost: the linear layers are free (linear combinations), each S-box costs 3 constraints
//! (`x^2`, `x^4`, `x^5`), so one permutation costs at most `(8*3 + 57) * 3 = 243` constraints,
//! less where the state is still constant (the capacity tag in the first round).

use ark_bls12_381::Fr;
use ark_r1cs_std::fields::{fp::FpVar, FieldVar};
use ark_relations::gr1cs::SynthesisError;

use super::{Domain, Poseidon, FULL_ROUNDS, PARTIAL_ROUNDS, RATE, WIDTH};

fn sbox(x: &FpVar<Fr>) -> Result<FpVar<Fr>, SynthesisError> {
    let x2 = x.square()?;
    let x4 = x2.square()?;
    Ok(x4 * x)
}

/// The permutation over circuit variables.
pub fn permute_var(state: &mut [FpVar<Fr>; WIDTH]) -> Result<(), SynthesisError> {
    let p = Poseidon::get();
    let half = FULL_ROUNDS / 2;
    for (round, ark) in p.ark.iter().enumerate() {
        for (s, c) in state.iter_mut().zip(ark) {
            *s += *c;
        }
        if round < half || round >= half + PARTIAL_ROUNDS {
            for s in state.iter_mut() {
                *s = sbox(s)?;
            }
        } else {
            state[0] = sbox(&state[0])?;
        }
        let old = state.clone();
        for (s, m) in state.iter_mut().zip(&p.mds) {
            *s = &old[0] * m[0] + &old[1] * m[1] + &old[2] * m[2];
        }
    }
    Ok(())
}

/// Domain-separated sponge hash over circuit variables; the twin of [`super::hash`].
pub fn hash_var(domain: Domain, inputs: &[FpVar<Fr>]) -> Result<FpVar<Fr>, SynthesisError> {
    let zero = FpVar::constant(Fr::from(0u64));
    let mut state = [
        FpVar::constant(Fr::from(domain.capacity_tag(inputs.len()))),
        zero.clone(),
        zero,
    ];
    if inputs.is_empty() {
        permute_var(&mut state)?;
    }
    for chunk in inputs.chunks(RATE) {
        for (s, x) in state[1..].iter_mut().zip(chunk) {
            *s += x;
        }
        permute_var(&mut state)?;
    }
    Ok(state[1].clone())
}
