//! The native Poseidon permutation and domain-separated sponge hash.
//!
//! Constants are derived once (Grain LFSR, via arkworks) and kept in fixed-size arrays, so a
//! hash call allocates nothing and clones no configuration.
//!
//! # The optimized partial rounds
//!
//! [`Poseidon`] holds the constants exactly as the specification (and the R1CS gadget) uses
//! them: every round adds a full row of constants, applies the S-box (to all three elements in
//! a full round, to the first one only in a partial round) and multiplies by the dense MDS
//! matrix `M`. [`permute`] evaluates the *same function* with fewer multiplications, using the
//! rewriting of Grassi et al., "Poseidon: A New Hash Function for Zero-Knowledge Proof
//! Systems" (USENIX Security 2021), Appendix B, as also done by neptune and circomlib's
//! `poseidon_opt`. Every step below is an exact identity of functions over `Fr`, so outputs are
//! bit-identical; [`Optimized::derive`] computes the new constants from [`Poseidon`] at start-up
//! (no copied tables), and the tests compare [`permute`] with the textbook permutation on random
//! states and with the arkworks reference sponge.
//!
//! 1. **Round constants** (Appendix B, "partial rounds: round constants"). In a partial round
//!    the constants added to elements 1 and 2 pass the S-box unchanged, so by linearity
//!    `M·(S(x + c)) = M·S(x + c₀e₀) + M·(0, c₁, c₂)`: the second term is moved into the next
//!    round's constants. Going forward through the partial rounds, each one keeps a single
//!    constant `k` (added to element 0) and the remainder lands in the first full round after
//!    them.
//!
//! 2. **Sparse matrices** (Appendix B, "partial rounds: sparse matrices"). Any matrix
//!    `N = [[n₀₀, n], [w, N̂]]` with `N̂` (2×2) invertible factors as `N = A · B` with
//!    `A = [[n₀₀, n·N̂⁻¹], [w, I]]` (sparse) and `B = diag(1, N̂)`. `B` leaves element 0 alone,
//!    so it commutes with "add `k` to element 0, S-box element 0" and can be pushed back into
//!    the previous round's matrix. Starting from the last partial round (`N = M`) and going
//!    backwards (`N ← B·M`), every partial round gets a sparse `A`, and the last `B` is
//!    absorbed into the MDS matrix of the last full round before the partial rounds. A sparse
//!    round costs 2t−1 = 5 multiplications instead of t² = 9.
//!
//! 3. **Scaling element 0** (a further exact rewriting in the same spirit). The permutation may
//!    carry `y = λ·x₀` instead of `x₀` through the partial rounds for any non-zero `λ`: the
//!    constant becomes `λ·k`, the S-box output is `λ⁵` times the true one (so the sparse
//!    column `(n₀₀, w)` is divided by `λ⁵`), and the next `λ` scales the sparse row. Choosing
//!    each next `λ` so that the row's leading coefficient is 1 saves one more multiplication per
//!    partial round; the final `λ` is undone in the constants and MDS column of the first full
//!    round after the partial rounds.
//!
//! A partial round then costs 7 multiplications (3 for `x⁵`, 4 for the sparse matrix) instead
//! of 12, and one addition of a constant instead of three.

use std::sync::OnceLock;

use ark_bls12_381::Fr;
use ark_crypto_primitives::sponge::poseidon::find_poseidon_ark_and_mds;
use ark_ff::{AdditiveGroup, Field, PrimeField};

use super::{Domain, ALPHA, FULL_ROUNDS, PARTIAL_ROUNDS, RATE, WIDTH};

const ROUNDS: usize = FULL_ROUNDS + PARTIAL_ROUNDS;
const HALF: usize = FULL_ROUNDS / 2;

/// A 3×3 matrix over `Fr`, row-major.
type Matrix = [[Fr; WIDTH]; WIDTH];

/// Round constants and MDS matrix of the permutation, as the specification states them.
///
/// These are the constants of the textbook round function (and of the R1CS gadget); the native
/// [`permute`] uses constants derived from them (see the module documentation).
#[derive(Clone, Debug)]
pub struct Poseidon {
    /// Additive round constants, one row per round.
    pub ark: [[Fr; WIDTH]; ROUNDS],
    /// The MDS matrix of the linear layer.
    pub mds: Matrix,
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
            ark: [[Fr::ZERO; WIDTH]; ROUNDS],
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

/// One optimized partial round: `y += k; t = y⁵; y = t + v·(x₁, x₂); xᵢ += wᵢ·t`.
#[derive(Clone, Copy, Debug)]
struct SparseRound {
    /// The one round constant, added to element 0 before the S-box.
    k: Fr,
    /// Row 0 of the sparse matrix without its leading 1 (coefficients of elements 1 and 2).
    v: [Fr; 2],
    /// Column 0 of the sparse matrix below the diagonal (coefficients of the S-box output).
    w: [Fr; 2],
}

/// The constants of the optimized permutation, all derived from [`Poseidon`].
#[derive(Clone, Debug)]
struct Optimized {
    /// Constants of the first `HALF` full rounds (unchanged).
    head_ark: [[Fr; WIDTH]; HALF],
    /// The MDS matrix (used unchanged by all full rounds but two).
    mds: Matrix,
    /// Linear layer of the last full round before the partial rounds: `B₁·M`.
    pre_mds: Matrix,
    /// The partial rounds.
    partial: [SparseRound; PARTIAL_ROUNDS],
    /// Constants of the last `HALF` full rounds; the first row collects the constants moved out
    /// of the partial rounds and undoes the scaling of element 0.
    tail_ark: [[Fr; WIDTH]; HALF],
    /// Linear layer of the first full round after the partial rounds: `M` with column 0
    /// divided by `λ⁵`.
    post_mds: Matrix,
}

impl Optimized {
    fn get() -> &'static Optimized {
        static OPT: OnceLock<Optimized> = OnceLock::new();
        OPT.get_or_init(|| Self::derive(Poseidon::get()))
    }

    /// Rewrites the textbook constants in the three steps of the module documentation.
    fn derive(p: &Poseidon) -> Optimized {
        let m = &p.mds;
        let first_partial = HALF;
        let first_tail = HALF + PARTIAL_ROUNDS;

        // 1. Move the constants of elements 1 and 2 forward through the linear layer.
        let mut ark = p.ark;
        let mut k = [Fr::ZERO; PARTIAL_ROUNDS];
        for (i, r) in (first_partial..first_tail).enumerate() {
            k[i] = ark[r][0];
            let carried = mat_vec(m, &[Fr::ZERO, ark[r][1], ark[r][2]]);
            for (c, d) in ark[r + 1].iter_mut().zip(carried) {
                *c += d;
            }
        }

        // 2. Factor the linear layers backwards: N = A·B, A sparse, B = diag(1, N̂).
        let mut n = *m;
        let mut sparse = [(Fr::ZERO, [Fr::ZERO; 2], [Fr::ZERO; 2]); PARTIAL_ROUNDS];
        for slot in sparse.iter_mut().rev() {
            let n_hat = [[n[1][1], n[1][2]], [n[2][1], n[2][2]]];
            let inv = inverse2(&n_hat);
            let v = [
                n[0][1] * inv[0][0] + n[0][2] * inv[1][0],
                n[0][1] * inv[0][1] + n[0][2] * inv[1][1],
            ];
            *slot = (n[0][0], v, [n[1][0], n[2][0]]);
            let b = [
                [Fr::ONE, Fr::ZERO, Fr::ZERO],
                [Fr::ZERO, n_hat[0][0], n_hat[0][1]],
                [Fr::ZERO, n_hat[1][0], n_hat[1][1]],
            ];
            n = mat_mul(&b, m);
        }
        let pre_mds = n;

        // 3. Scale element 0 so that each sparse row starts with 1.
        let mut lambda = Fr::ONE;
        let mut partial = [SparseRound {
            k: Fr::ZERO,
            v: [Fr::ZERO; 2],
            w: [Fr::ZERO; 2],
        }; PARTIAL_ROUNDS];
        for (out, (&k, &(n00, v, w))) in partial.iter_mut().zip(k.iter().zip(sparse.iter())) {
            let lambda5 = lambda.pow([ALPHA]);
            let lambda5_inv = inverse(lambda5);
            let next = lambda5 * inverse(n00);
            *out = SparseRound {
                k: lambda * k,
                v: [next * v[0], next * v[1]],
                w: [w[0] * lambda5_inv, w[1] * lambda5_inv],
            };
            lambda = next;
        }
        let mut tail_ark = [[Fr::ZERO; WIDTH]; HALF];
        tail_ark.copy_from_slice(&ark[first_tail..]);
        tail_ark[0][0] *= lambda;
        let mut post_mds = *m;
        let lambda5_inv = inverse(lambda.pow([ALPHA]));
        for row in post_mds.iter_mut() {
            row[0] *= lambda5_inv;
        }

        let mut head_ark = [[Fr::ZERO; WIDTH]; HALF];
        head_ark.copy_from_slice(&ark[..first_partial]);
        Optimized {
            head_ark,
            mds: *m,
            pre_mds,
            partial,
            tail_ark,
            post_mds,
        }
    }
}

fn inverse(x: Fr) -> Fr {
    x.inverse()
        .expect("Poseidon constants: a value the optimization divides by is zero")
}

fn inverse2(a: &[[Fr; 2]; 2]) -> [[Fr; 2]; 2] {
    let d = inverse(a[0][0] * a[1][1] - a[0][1] * a[1][0]);
    [[a[1][1] * d, -a[0][1] * d], [-a[1][0] * d, a[0][0] * d]]
}

fn mat_mul(a: &Matrix, b: &Matrix) -> Matrix {
    let mut out = [[Fr::ZERO; WIDTH]; WIDTH];
    for (i, row) in out.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            *x = (0..WIDTH).map(|l| a[i][l] * b[l][j]).sum();
        }
    }
    out
}

fn mat_vec(a: &Matrix, x: &[Fr; WIDTH]) -> [Fr; WIDTH] {
    a.map(|row| row[0] * x[0] + row[1] * x[1] + row[2] * x[2])
}

/// `x ← x⁵` as square, square, multiply.
#[inline(always)]
fn sbox(x: &mut Fr) {
    let mut x4 = *x;
    x4.square_in_place();
    x4.square_in_place();
    *x *= x4;
}

/// A full round: add `ark`, S-box every element, multiply by `m`.
#[inline(always)]
fn full_round(state: &mut [Fr; WIDTH], ark: &[Fr; WIDTH], m: &Matrix) {
    let [mut a, mut b, mut c] = *state;
    a += ark[0];
    b += ark[1];
    c += ark[2];
    sbox(&mut a);
    sbox(&mut b);
    sbox(&mut c);
    *state = [
        a * m[0][0] + b * m[0][1] + c * m[0][2],
        a * m[1][0] + b * m[1][1] + c * m[1][2],
        a * m[2][0] + b * m[2][1] + c * m[2][2],
    ];
}

/// Applies the Poseidon permutation to `state` in place.
///
/// Computes exactly the textbook permutation given by [`Poseidon`] (constants, S-box, MDS
/// matrix per round), in the optimized form described in the module documentation.
pub fn permute(state: &mut [Fr; WIDTH]) {
    let o = Optimized::get();
    for (r, ark) in o.head_ark.iter().enumerate() {
        let m = if r + 1 == HALF { &o.pre_mds } else { &o.mds };
        full_round(state, ark, m);
    }
    let [mut y, mut x1, mut x2] = *state;
    for p in &o.partial {
        y += p.k;
        sbox(&mut y);
        let t = y;
        y += x1 * p.v[0] + x2 * p.v[1];
        x1 += t * p.w[0];
        x2 += t * p.w[1];
    }
    *state = [y, x1, x2];
    for (r, ark) in o.tail_ark.iter().enumerate() {
        let m = if r == 0 { &o.post_mds } else { &o.mds };
        full_round(state, ark, m);
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
        Fr::ZERO,
        Fr::ZERO,
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
