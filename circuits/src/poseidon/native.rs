//! The native Poseidon permutation and domain-separated sponge hash.
//!
//! Constants are derived once (Grain LFSR, via arkworks) and kept in fixed-size arrays, so a
//! hash call allocates nothing and clones no configuration.
//!
//! # The optimized partial rounds
//!
//! [`Poseidon`] holds the constants exactly as the specification (and the R1CS gadget) uses
//! them: every round adds a full row of constants, applies the S-box (to every element in a
//! full round, to the first one only in a partial round) and multiplies by the dense MDS
//! matrix `M`. The rewriting works for any width `t`; Consentry uses 3, 5 and 7. [`permute`] evaluates the *same function* with fewer multiplications, using the
//! rewriting of Grassi et al., "Poseidon: A New Hash Function for Zero-Knowledge Proof
//! Systems" (USENIX Security 2021), Appendix B, as also done by neptune and circomlib's
//! `poseidon_opt`. Every step below is an exact identity of functions over `Fr`, so outputs are
//! bit-identical; [`Optimized::derive`] computes the new constants from [`Poseidon`] at start-up
//! (no copied tables), and the tests compare [`permute`] with the textbook permutation on random
//! states and with the arkworks reference sponge.
//!
//! 1. **Round constants** (Appendix B, "partial rounds: round constants"). In a partial round
//!    the constants added to elements 1 to t−1 pass the S-box unchanged, so by linearity
//!    `M·(S(x + c)) = M·S(x + c₀e₀) + M·(0, c₁, …, c_{t−1})`: the second term is moved into the next
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
//!    round costs 2t−1 multiplications instead of t² (5 instead of 9 at width 3).
//!
//! 3. **Scaling element 0** (a further exact rewriting in the same spirit). The permutation may
//!    carry `y = λ·x₀` instead of `x₀` through the partial rounds for any non-zero `λ`: the
//!    constant becomes `λ·k`, the S-box output is `λ⁵` times the true one (so the sparse
//!    column `(n₀₀, w)` is divided by `λ⁵`), and the next `λ` scales the sparse row. Choosing
//!    each next `λ` so that the row's leading coefficient is 1 saves one more multiplication per
//!    partial round; the final `λ` is undone in the constants and MDS column of the first full
//!    round after the partial rounds.
//!
//! A partial round then costs `2t + 1` multiplications (3 for `x⁵`, `2(t−1)` for the sparse
//! matrix) instead of `t² + 3`: 7 instead of 12 at width 3, 15 instead of 52 at width 7.

use std::any::Any;
use std::sync::OnceLock;

use ark_bls12_381::Fr;
use ark_crypto_primitives::sponge::poseidon::{find_poseidon_ark_and_mds, PoseidonConfig};
use ark_ff::{AdditiveGroup, Field, PrimeField, Zero};

use super::{Domain, Width, ALPHA, FULL_ROUNDS};

#[cfg(target_arch = "x86_64")]
mod ifma;

const HALF: usize = FULL_ROUNDS / 2;

/// Round constants and MDS matrix of one width, as the specification states them.
///
/// These are the constants of the textbook round function (and of the R1CS gadget); the native
/// [`permute`] uses constants derived from them (see the module documentation).
#[derive(Clone, Debug)]
pub struct Poseidon {
    /// The permutation width.
    pub width: Width,
    /// Additive round constants: one row of `width` elements per round.
    pub ark: Vec<Vec<Fr>>,
    /// The MDS matrix of the linear layer, row-major.
    pub mds: Vec<Vec<Fr>>,
}

impl Poseidon {
    /// The parameters of `width`, derived on first use and then shared.
    pub fn get(width: Width) -> &'static Poseidon {
        static P3: OnceLock<Poseidon> = OnceLock::new();
        static P5: OnceLock<Poseidon> = OnceLock::new();
        static P7: OnceLock<Poseidon> = OnceLock::new();
        let cell = match width {
            Width::Three => &P3,
            Width::Five => &P5,
            Width::Seven => &P7,
        };
        cell.get_or_init(|| Self::derive(width))
    }

    fn derive(width: Width) -> Poseidon {
        let (ark, mds) = find_poseidon_ark_and_mds::<Fr>(
            Fr::MODULUS_BIT_SIZE as u64,
            width.rate(),
            FULL_ROUNDS as u64,
            width.partial_rounds() as u64,
            0,
        );
        debug_assert_eq!(ark.len(), FULL_ROUNDS + width.partial_rounds());
        debug_assert!(mds.len() == width.size() && ark[0].len() == width.size());
        Poseidon { width, ark, mds }
    }

    /// The same parameters as an arkworks [`PoseidonConfig`], for cross-checking against the
    /// reference sponge and for code that wants the arkworks API.
    pub fn arkworks_config(&self) -> PoseidonConfig<Fr> {
        PoseidonConfig::new(
            FULL_ROUNDS,
            self.width.partial_rounds(),
            ALPHA,
            self.mds.clone(),
            self.ark.clone(),
            self.width.rate(),
            1,
        )
    }
}

/// A dense `W × W` matrix, row-major.
type Matrix<const W: usize> = [[Fr; W]; W];

/// One optimized partial round: `y += k; t = y⁵; y = t + Σ vⱼ·xⱼ; xⱼ += wⱼ·t` for `j ≥ 1`.
/// Index 0 of `v` and `w` is unused (zero), so the arrays line up with the state.
#[derive(Clone, Copy, Debug)]
struct SparseRound<const W: usize> {
    /// The one round constant, added to element 0 before the S-box.
    k: Fr,
    /// Row 0 of the sparse matrix without its leading 1.
    v: [Fr; W],
    /// Column 0 of the sparse matrix below the diagonal (coefficients of the S-box output).
    w: [Fr; W],
}

/// The constants of the optimized permutation of width `W`, all derived from [`Poseidon`].
#[derive(Clone, Debug)]
struct Optimized<const W: usize> {
    /// Constants of the first `HALF` full rounds (unchanged).
    head_ark: [[Fr; W]; HALF],
    /// The MDS matrix (used unchanged by all full rounds but two).
    mds: Matrix<W>,
    /// Linear layer of the last full round before the partial rounds: `B₁·M`.
    pre_mds: Matrix<W>,
    /// The partial rounds.
    partial: Vec<SparseRound<W>>,
    /// Constants of the last `HALF` full rounds; the first row collects the constants moved out
    /// of the partial rounds and undoes the scaling of element 0.
    tail_ark: [[Fr; W]; HALF],
    /// Linear layer of the first full round after the partial rounds: `M` with column 0
    /// divided by `λ⁵`.
    post_mds: Matrix<W>,
}

impl<const W: usize> Optimized<W> {
    /// The constants of width `W`, derived once per width.
    ///
    /// # Panics
    /// If `W` is not a [`Width`] (3, 5 or 7): a programming error, caught by every test.
    fn get() -> &'static Optimized<W> {
        static O3: OnceLock<Optimized<3>> = OnceLock::new();
        static O5: OnceLock<Optimized<5>> = OnceLock::new();
        static O7: OnceLock<Optimized<7>> = OnceLock::new();
        let cell: &'static (dyn Any + Send + Sync) = match Width::from_size(W) {
            Some(Width::Three) => O3.get_or_init(|| Optimized::derive(Width::Three)),
            Some(Width::Five) => O5.get_or_init(|| Optimized::derive(Width::Five)),
            Some(Width::Seven) => O7.get_or_init(|| Optimized::derive(Width::Seven)),
            None => panic!("Poseidon width {W} is not one of 3, 5, 7"),
        };
        cell.downcast_ref()
            .expect("the cell of width W holds the constants of width W")
    }

    /// Rewrites the textbook constants in the three steps of the module documentation.
    fn derive(width: Width) -> Optimized<W> {
        assert_eq!(width.size(), W, "width and array size agree");
        let p = Poseidon::get(width);
        let rounds_p = width.partial_rounds();
        let m: Matrix<W> = std::array::from_fn(|i| std::array::from_fn(|j| p.mds[i][j]));
        let first_partial = HALF;
        let first_tail = HALF + rounds_p;

        // 1. Move the constants of elements 1.. forward through the linear layer.
        let mut ark: Vec<[Fr; W]> = p
            .ark
            .iter()
            .map(|row| std::array::from_fn(|j| row[j]))
            .collect();
        let mut k = vec![Fr::ZERO; rounds_p];
        for (i, r) in (first_partial..first_tail).enumerate() {
            k[i] = ark[r][0];
            let mut rest = ark[r];
            rest[0] = Fr::ZERO;
            let carried = mat_vec(&m, &rest);
            for (c, d) in ark[r + 1].iter_mut().zip(carried) {
                *c += d;
            }
        }

        // 2. Factor the linear layers backwards: N = A·B, A sparse, B = diag(1, N̂).
        let mut n = m;
        let mut sparse = vec![(Fr::ZERO, [Fr::ZERO; W], [Fr::ZERO; W]); rounds_p];
        for slot in sparse.iter_mut().rev() {
            let n_hat: Vec<Vec<Fr>> = (1..W).map(|i| n[i][1..].to_vec()).collect();
            let inv = invert(n_hat.clone());
            let mut v = [Fr::ZERO; W];
            let mut w = [Fr::ZERO; W];
            for j in 1..W {
                v[j] = (1..W).map(|l| n[0][l] * inv[l - 1][j - 1]).sum();
                w[j] = n[j][0];
            }
            *slot = (n[0][0], v, w);
            let mut b = [[Fr::ZERO; W]; W];
            b[0][0] = Fr::ONE;
            for i in 1..W {
                b[i][1..].copy_from_slice(&n_hat[i - 1]);
            }
            n = mat_mul(&b, &m);
        }
        let pre_mds = n;

        // 3. Scale element 0 so that each sparse row starts with 1.
        let mut lambda = Fr::ONE;
        let mut partial = Vec::with_capacity(rounds_p);
        for (&k, &(n00, v, w)) in k.iter().zip(sparse.iter()) {
            let lambda5 = lambda.pow([ALPHA]);
            let lambda5_inv = inverse(lambda5);
            let next = lambda5 * inverse(n00);
            partial.push(SparseRound {
                k: lambda * k,
                v: v.map(|x| next * x),
                w: w.map(|x| x * lambda5_inv),
            });
            lambda = next;
        }
        let mut tail_ark = [[Fr::ZERO; W]; HALF];
        tail_ark.copy_from_slice(&ark[first_tail..]);
        tail_ark[0][0] *= lambda;
        let mut post_mds = m;
        let lambda5_inv = inverse(lambda.pow([ALPHA]));
        for row in post_mds.iter_mut() {
            row[0] *= lambda5_inv;
        }

        let mut head_ark = [[Fr::ZERO; W]; HALF];
        head_ark.copy_from_slice(&ark[..first_partial]);
        Optimized {
            head_ark,
            mds: m,
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

/// The inverse of a square matrix by Gauss–Jordan elimination (derivation time only).
fn invert(mut a: Vec<Vec<Fr>>) -> Vec<Vec<Fr>> {
    let n = a.len();
    let mut inv: Vec<Vec<Fr>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| if i == j { Fr::ONE } else { Fr::ZERO })
                .collect()
        })
        .collect();
    for col in 0..n {
        let pivot = (col..n)
            .find(|&r| !a[r][col].is_zero())
            .expect("Poseidon constants: a sub-matrix the optimization inverts is singular");
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let scale = inverse(a[col][col]);
        for j in 0..n {
            a[col][j] *= scale;
            inv[col][j] *= scale;
        }
        for r in 0..n {
            if r != col && !a[r][col].is_zero() {
                let f = a[r][col];
                for j in 0..n {
                    let (ac, ic) = (a[col][j], inv[col][j]);
                    a[r][j] -= f * ac;
                    inv[r][j] -= f * ic;
                }
            }
        }
    }
    inv
}

fn mat_mul<const W: usize>(a: &Matrix<W>, b: &Matrix<W>) -> Matrix<W> {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..W).map(|l| a[i][l] * b[l][j]).sum()))
}

fn mat_vec<const W: usize>(a: &Matrix<W>, x: &[Fr; W]) -> [Fr; W] {
    a.map(|row| row.iter().zip(x).map(|(m, x)| *m * x).sum())
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
fn full_round<const W: usize>(state: &mut [Fr; W], ark: &[Fr; W], m: &Matrix<W>) {
    let mut x = *state;
    for (x, c) in x.iter_mut().zip(ark) {
        *x += c;
        sbox(x);
    }
    for (s, row) in state.iter_mut().zip(m) {
        let mut acc = x[0] * row[0];
        for j in 1..W {
            acc += x[j] * row[j];
        }
        *s = acc;
    }
}

/// Applies the Poseidon permutation of width `W` to `state` in place.
///
/// Computes exactly the textbook permutation given by [`Poseidon::get`] for that width
/// (constants, S-box, MDS matrix per round), in the optimized form described in the module
/// documentation: on AVX-512 IFMA for widths 3 and 5 where the CPU has it ([`backend`]),
/// otherwise [`permute_portable`]. Both give the same output (tests compare them).
///
/// # Panics
/// If `W` is not 3, 5 or 7 (see [`Width`]).
pub fn permute<const W: usize>(state: &mut [Fr; W]) {
    #[cfg(target_arch = "x86_64")]
    if ifma::permute(state) {
        return;
    }
    permute_portable(state)
}

/// How [`permute`] runs on this machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Widths 3 and 5 on AVX-512 IFMA, four products per instruction (width 7 portable).
    Ifma,
    /// Every width on arkworks' 64-bit field arithmetic.
    Portable,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Ifma => "avx512-ifma",
            Backend::Portable => "portable",
        })
    }
}

/// The backend [`permute`] uses on this CPU (figures depend on it).
pub fn backend() -> Backend {
    #[cfg(target_arch = "x86_64")]
    if ifma::available() {
        return Backend::Ifma;
    }
    Backend::Portable
}

/// The permutation on arkworks' portable field arithmetic, every width, every CPU: what
/// [`permute`] runs without AVX-512 IFMA. Public for benches and differential tests.
///
/// # Panics
/// If `W` is not 3, 5 or 7 (see [`Width`]).
pub fn permute_portable<const W: usize>(state: &mut [Fr; W]) {
    let o = Optimized::<W>::get();
    for (r, ark) in o.head_ark.iter().enumerate() {
        let m = if r + 1 == HALF { &o.pre_mds } else { &o.mds };
        full_round(state, ark, m);
    }
    let mut s = *state;
    for p in &o.partial {
        s[0] += p.k;
        sbox(&mut s[0]);
        let t = s[0];
        let mut y = t;
        for (x, v) in s[1..].iter().zip(&p.v[1..]) {
            y += *x * v;
        }
        for (x, w) in s[1..].iter_mut().zip(&p.w[1..]) {
            *x += t * w;
        }
        s[0] = y;
    }
    *state = s;
    for (r, ark) in o.tail_ark.iter().enumerate() {
        let m = if r == 0 { &o.post_mds } else { &o.mds };
        full_round(state, ark, m);
    }
}

/// Domain-separated sponge hash of `inputs` to one field element, in the domain's width `t`.
///
/// The state starts as `[tag, 0, …, 0]` with `tag = domain.capacity_tag(inputs.len())`; inputs
/// are added `t − 1` at a time to the rate part, with a permutation after each chunk (and one
/// for an empty input); the output is the first rate element. This is exactly what the
/// arkworks `PoseidonSponge` of that width computes when its capacity element is preset to
/// `tag`.
pub fn hash(domain: Domain, inputs: &[Fr]) -> Fr {
    match domain.width() {
        Width::Three => sponge::<3>(domain, inputs),
        Width::Five => sponge::<5>(domain, inputs),
        Width::Seven => sponge::<7>(domain, inputs),
    }
}

fn sponge<const W: usize>(domain: Domain, inputs: &[Fr]) -> Fr {
    let mut state = [Fr::ZERO; W];
    state[0] = Fr::from(domain.capacity_tag(inputs.len()));
    if inputs.is_empty() {
        permute(&mut state);
    }
    for chunk in inputs.chunks(W - 1) {
        for (s, x) in state[1..].iter_mut().zip(chunk) {
            *s += x;
        }
        permute(&mut state);
    }
    state[1]
}
