//! The native Poseidon permutation and domain-separated sponge hash.
//!
//! Constants are derived once (Grain LFSR, via arkworks) and kept in fixed-size arrays, so a
//! hash call allocates nothing and clones no configuration.

use std::sync::OnceLock;

use ark_bls12_381::Fr;
use ark_crypto_primitives::sponge::poseidon::find_poseidon_ark_and_mds;
use ark_ff::{Field, PrimeField};

use super::{Domain, ALPHA, FULL_ROUNDS, PARTIAL_ROUNDS, RATE, WIDTH};

const ROUNDS: usize = FULL_ROUNDS + PARTIAL_ROUNDS;

/// Round constants and MDS matrix of the permutation.
#[derive(Clone, Debug)]
pub struct Poseidon {
    /// Additive round constants, one row per round.
    pub ark: [[Fr; WIDTH]; ROUNDS],
    /// The MDS matrix of the linear layer.
    pub mds: [[Fr; WIDTH]; WIDTH],
}

impl Poseidon {
    /// The parameters, derived on first use and then shared.
    pub fn get() -> &'static Poseidon {
        static PARAMS: OnceLock<Poseidon> = OnceLock::new();
        PARAMS.get_or_init(Self::derive)
    }

    fn derive() -> Poseidon {
        let (ark, mds) = find_poseidon_ark_and_mds::<Fr>(
            Fr::MODULUS_BIT_SIZE as u64,
            RATE,
            FULL_ROUNDS as u64,
            PARTIAL_ROUNDS as u64,
            0,
        );
        let row = |v: &Vec<Fr>| -> [Fr; WIDTH] { [v[0], v[1], v[2]] };
        let mut out = Poseidon {
            ark: [[Fr::from(0u64); WIDTH]; ROUNDS],
            mds: [row(&mds[0]), row(&mds[1]), row(&mds[2])],
        };
        for (dst, src) in out.ark.iter_mut().zip(ark.iter()) {
            *dst = row(src);
        }
        out
    }

    /// The same parameters as an arkworks [`PoseidonConfig`], for cross-checking against the
    /// reference sponge and for code that wants the arkworks API.
    ///
    /// [`PoseidonConfig`]: ark_crypto_primitives::sponge::poseidon::PoseidonConfig
    pub fn arkworks_config(&self) -> ark_crypto_primitives::sponge::poseidon::PoseidonConfig<Fr> {
        ark_crypto_primitives::sponge::poseidon::PoseidonConfig::new(
            FULL_ROUNDS,
            PARTIAL_ROUNDS,
            ALPHA,
            self.mds.iter().map(|r| r.to_vec()).collect(),
            self.ark.iter().map(|r| r.to_vec()).collect(),
            RATE,
            WIDTH - RATE,
        )
    }
}

#[inline(always)]
fn sbox(x: &mut Fr) {
    let x2 = x.square();
    let x4 = x2.square();
    *x *= x4;
}

/// Applies the Poseidon permutation to `state` in place.
pub fn permute(state: &mut [Fr; WIDTH]) {
    let p = Poseidon::get();
    let half = FULL_ROUNDS / 2;
    for (round, ark) in p.ark.iter().enumerate() {
        for (s, c) in state.iter_mut().zip(ark) {
            *s += c;
        }
        if round < half || round >= half + PARTIAL_ROUNDS {
            state.iter_mut().for_each(sbox);
        } else {
            sbox(&mut state[0]);
        }
        let [a, b, c] = *state;
        for (s, m) in state.iter_mut().zip(&p.mds) {
            *s = a * m[0] + b * m[1] + c * m[2];
        }
    }
}

/// Domain-separated sponge hash of `inputs` to one field element.
///
/// The state starts as `[tag, 0, 0]` with `tag = domain.capacity_tag(inputs.len())`; inputs are
/// added two at a time to the rate part, with a permutation after each pair (and one for an
/// empty input); the output is the first rate element. This is exactly what the arkworks
/// `PoseidonSponge` computes when its capacity element is preset to `tag`.
pub fn hash(domain: Domain, inputs: &[Fr]) -> Fr {
    let mut state = [
        Fr::from(domain.capacity_tag(inputs.len())),
        Fr::from(0u64),
        Fr::from(0u64),
    ];
    if inputs.is_empty() {
        permute(&mut state);
    }
    for chunk in inputs.chunks(RATE) {
        for (s, x) in state[1..].iter_mut().zip(chunk) {
            *s += x;
        }
        permute(&mut state);
    }
    state[1]
}
