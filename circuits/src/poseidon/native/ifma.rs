//! The permutations of widths 3 and 5 on AVX-512 IFMA (x86-64): the same function as
//! [`super::permute_portable`], four field multiplications at a time.
//!
//! # Why
//!
//! A registry insert at depth 20 is ten width-5 permutations in sequence, and a permutation is
//! about a thousand multiplications in `Fr`. One 4×64-bit Montgomery multiplication costs the
//! same with arkworks or blst's assembly on the project's machines (both about 19 ns, limited by
//! the scalar multiplier), so no library call makes the scalar permutation faster. IFMA
//! (`vpmadd52luq`/`vpmadd52huq`: 52×52-bit multiply-add on every 64-bit lane; Intel Ice Lake,
//! Sapphire Rapids and later, AMD Zen 4) computes four Montgomery products in one 256-bit
//! register: measured here 18 ns for four (throughput). The permutation
//! maps onto it: a full round's S-boxes and matrix products, and a partial round's eight
//! products (the sparse row and column), are independent of each other.
//!
//! # Representation
//!
//! An [`F4`] holds four field elements, one per 64-bit lane, each as five 52-bit limbs (register
//! `k` holds limb `k` of all four). A lane holds a Montgomery residue with radix `R = 2^260`
//! (five 52-bit digits), the integer `â ≡ a·2^260 (mod r)`, *loosely reduced*: `â` may be any
//! integer below a bound stated below, not only below `r`, so no product needs a conditional
//! subtraction. The 260-bit radix leaves five bits above `r < 2^255` (`r < 1.82·B` with
//! `B = 2^254`), enough for every sum the permutation forms.
//!
//! A product is formed unreduced in ten 52-bit columns ([`Wide::product`], [`Wide::square`]) and
//! reduced once ([`Wide::reduce`]: `T·R⁻¹ mod r`, below `T/2^260 + r`), Montgomery's algorithm on
//! 52-bit digits as in Drucker and Gueron, "Fast modular squaring with AVX512IFMA" (2019). A
//! matrix row or a dot product is one reduction of a sum of products. IFMA reads only the low 52
//! bits of each limb, so a sum is normalised (carries propagated) before it is multiplied.
//!
//! | value (in units of `B = 2^254`; `2^260 = 64B`) | bound | why |
//! | --- | --- | --- |
//! | a state element entering: arkworks' `ã = a·2^256 < r` shifted by 4 bits ([`Packed::times_16`]) | `< 16r < 29.2B` | |
//! | a product of any factor (below `64B`) by a constant below `r` | `< 2r` | `64B·r/64B + r` |
//! | the S-box steps for an input `u < 40B` | `u² < 27B`, `u⁴ < 13.3B`, `u⁵ < 10.2B` | `40²/64·B + r`, `27²/64·B + r`, `13.3·40/64·B + r` |
//! | a full round's output: one reduction of `W ≤ 5` products of S-box outputs by constants | `< 3.3B` | `5·10.2·1.82/64·B + r` |
//! | a partial round's `y = t + Σ vⱼ·xⱼ` (four products by constants) | `< 10.2B + 8r < 24.8B` | |
//! | a partial round's sparse lanes `xⱼ` | `< 37.1B` | below |
//! | every S-box input (an element or `y` plus a constant below `r`) | `< 37.1B + r < 40B` | the rows above |
//!
//! The sparse lanes grow by one product of `t < 10.2B` by a constant (`< 10.2·1.82/64·B + r <
//! 2.11B`) per partial round, from below `3.3B`; every [`REDUCE_EVERY`] = 16 rounds they are
//! multiplied by `R mod r` (which keeps the residue and leaves it below `37.1B·r/64B + r <
//! 2.9B`), so they stay below `3.3B + 16·2.11B < 37.1B`. Every factor stays below `2^260 = 64B`, and no 64-bit column
//! overflows: a product adds at most ten 52-bit terms to a column, a matrix row five products,
//! width 5's row 4 two products summed over four lanes, a reduction ten more terms. The test
//! build checks every product's factors, the tests check the extreme cases of this table and
//! compare the permutation with the portable one on random, edge and extreme states.
//!
//! Leaving: the last full round multiplies by the MDS matrix in arkworks' form (`c·2^256`), so
//! its reductions yield arkworks' residues `a·2^256` directly, below `3.3B < 2r`: one
//! conditional subtraction makes them canonical.
//!
//! # What runs where
//!
//! A full round keeps the state in `G` registers (one for width 3; two for width 5, the second
//! holding element 4 alone) and computes rows 0–3 as `Σⱼ xⱼ·(column j)` and row 4 as the lane
//! sum of `x·(row 4)`, two products instead of five. A partial round broadcasts element 0 to all
//! lanes of `y` (its S-box is a chain of three dependent products; three lanes idle) and keeps
//! elements 1.. in the lanes of `x` (the sparse row and column, eight products in two
//! registers). Running that S-box on the scalar multiplier instead (arkworks, 19 ns a product)
//! with the vector products a round ahead was tried and measured slower here
//! (docs/performance.md).
//!
//! Width 7 (a registry leaf, once per enrollment) has six sparse lanes and stays portable.
//!
//! The AVX-512 intrinsics and safe `#[target_feature]` functions need Rust 1.89 or later.

use std::arch::x86_64::*;
use std::sync::OnceLock;

use ark_bls12_381::Fr;
use ark_ff::{BigInt, PrimeField};

use super::{Optimized, HALF};

/// Limb mask: 52 bits.
const MASK: u64 = (1 << 52) - 1;

/// A partial round reduces its sparse lanes every this many rounds (see the bounds above).
const REDUCE_EVERY: usize = 16;

// `run` gives the first tail round the post-partial matrix and the last one the matrix in
// arkworks' form: they must be different rounds.
const _: () = assert!(
    HALF >= 2,
    "two full rounds after the partial rounds at least"
);

/// Whether this CPU runs the IFMA permutation (checked once; the standard library caches it).
pub(super) fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("avx512ifma")
    })
}

/// Applies the permutation of width `W` with IFMA and returns `true`, or returns `false` (and
/// leaves `state` alone) if this CPU lacks IFMA or `W` is not 3 or 5.
pub(super) fn permute<const W: usize>(state: &mut [Fr; W]) -> bool {
    if !available() {
        return false;
    }
    let state: &mut [Fr] = state;
    match W {
        3 => {
            let state: &mut [Fr; 3] = state.try_into().expect("W is 3");
            let tables = Tables::<3, 1>::get();
            // SAFETY: `available()` checked that the CPU has every feature `run` enables.
            unsafe { run(tables, state) };
        }
        5 => {
            let state: &mut [Fr; 5] = state.try_into().expect("W is 5");
            let tables = Tables::<5, 2>::get();
            // SAFETY: as above.
            unsafe { run(tables, state) };
        }
        _ => return false,
    }
    true
}

/// Four field elements as stored in memory, `limbs[k][lane]` (limb-major, like an [`F4`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(32))]
struct Packed([[u64; 4]; 5]);

impl Packed {
    /// Four 256-bit integers, given as four 64-bit limbs each, split into 52-bit limbs (the
    /// fifth limb below `2^48`).
    fn from_u256(values: [[u64; 4]; 4]) -> Packed {
        let mut out = [[0u64; 4]; 5];
        for (lane, a) in values.iter().enumerate() {
            let limbs = [
                a[0] & MASK,
                ((a[0] >> 52) | (a[1] << 12)) & MASK,
                ((a[1] >> 40) | (a[2] << 24)) & MASK,
                ((a[2] >> 28) | (a[3] << 36)) & MASK,
                a[3] >> 16,
            ];
            for (k, limb) in limbs.into_iter().enumerate() {
                out[k][lane] = limb;
            }
        }
        Packed(out)
    }

    /// The integer in `lane` as four 64-bit limbs; the limbs must be normalised and the value
    /// below `2^256`.
    fn lane_u256(&self, lane: usize) -> [u64; 4] {
        let l: [u64; 5] = std::array::from_fn(|k| self.0[k][lane]);
        debug_assert!(l.iter().all(|&x| x <= MASK) && l[4] >> 48 == 0);
        #[cfg(test)]
        assert!(
            l.iter().all(|&x| x <= MASK) && l[4] >> 48 == 0,
            "{l:x?} is not below 2^256"
        );
        [
            l[0] | (l[1] << 52),
            (l[1] >> 12) | (l[2] << 40),
            (l[2] >> 24) | (l[3] << 28),
            (l[3] >> 36) | (l[4] << 16),
        ]
    }

    /// Up to four constants in IFMA Montgomery form (`c·2^260 mod r`, canonical), the lanes
    /// beyond `cs` zero. arkworks' form of `16·c` is exactly that integer.
    fn constants(cs: &[Fr]) -> Packed {
        let sixteen = Fr::from(16u64);
        Packed::arkworks(&cs.iter().map(|c| *c * sixteen).collect::<Vec<_>>())
    }

    /// Up to four constants in arkworks' form (`c·2^256 mod r`), the lanes beyond `cs` zero: a
    /// product of an IFMA residue by one of them is arkworks' residue of the product.
    fn arkworks(cs: &[Fr]) -> Packed {
        assert!(cs.len() <= 4, "four lanes");
        Packed::from_u256(std::array::from_fn(|i| {
            cs.get(i).map_or([0; 4], |c| c.0 .0)
        }))
    }

    /// Each lane's integer times 16 (below `2^260` if it was below `2^256`): arkworks' residue
    /// `a·2^256` becomes `a·2^260`, the IFMA residue, with a shift instead of a product.
    fn times_16(self) -> Packed {
        let l = self.0;
        Packed(std::array::from_fn(|k| {
            std::array::from_fn(|lane| {
                let low = if k == 0 { 0 } else { l[k - 1][lane] >> 48 };
                ((l[k][lane] << 4) & MASK) | low
            })
        }))
    }
}

/// Four field elements in registers (see the module documentation).
#[derive(Clone, Copy)]
struct F4([__m256i; 5]);

/// The constants of the IFMA permutation of width `W` (`G` registers hold a full state), all
/// converted from the portable permutation's [`Optimized`] constants.
struct Tables<const W: usize, const G: usize> {
    head_ark: [[Packed; G]; HALF],
    /// The MDS matrix, and the two matrices the optimization puts around the partial rounds.
    mds: Matrix<W>,
    pre_mds: Matrix<W>,
    post_mds: Matrix<W>,
    /// The MDS matrix in arkworks' form, for the last round: its output leaves in arkworks'
    /// form with no conversion.
    last_mds: Matrix<W>,
    tail_ark: [[Packed; G]; HALF],
    /// Per partial round: `k` in every lane, then `v` and `w` (lane `j − 1` holds `vⱼ`, `wⱼ`).
    partial: Vec<[Packed; 3]>,
    /// The modulus, `−r⁻¹ mod 2^52` and `R mod r` in IFMA form (reduction by multiplication).
    modulus: Packed,
    minus_r_inv: Packed,
    one: Packed,
}

impl<const W: usize, const G: usize> Tables<W, G> {
    fn get() -> &'static Tables<W, G> {
        static T3: OnceLock<Tables<3, 1>> = OnceLock::new();
        static T5: OnceLock<Tables<5, 2>> = OnceLock::new();
        let cell: &'static (dyn std::any::Any + Send + Sync) = match (W, G) {
            (3, 1) => T3.get_or_init(Tables::derive),
            (5, 2) => T5.get_or_init(Tables::derive),
            _ => unreachable!("IFMA tables exist for widths 3 and 5 only"),
        };
        cell.downcast_ref()
            .expect("the cell of (W, G) holds the tables of (W, G)")
    }

    fn derive() -> Tables<W, G> {
        assert!(
            G * 4 >= W && W >= 2 && W - 1 <= 4,
            "a state fits G registers"
        );
        let o = Optimized::<W>::get();
        let spread = |row: &[Fr; W]| -> [Packed; G] {
            std::array::from_fn(|g| Packed::constants(&row[(4 * g).min(W)..(4 * g + 4).min(W)]))
        };
        let matrix = |m: &[[Fr; W]; W], form: fn(&[Fr]) -> Packed| -> Matrix<W> {
            let row = &m[W - 1];
            Matrix {
                columns: std::array::from_fn(|j| {
                    form(&(0..W.min(4)).map(|i| m[i][j]).collect::<Vec<_>>())
                }),
                last_row: [form(&row[..4.min(W)]), form(&row[4.min(W)..])],
            }
        };
        let modulus = Packed::from_u256([Fr::MODULUS.0; 4]);
        // −r⁻¹ mod 2^64 by Newton's iteration (r is odd), then its low 52 bits.
        let r0 = Fr::MODULUS.0[0];
        let mut inv = 1u64;
        for _ in 0..7 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(r0.wrapping_mul(inv)));
        }
        assert_eq!(r0.wrapping_mul(inv), 1, "r⁻¹ mod 2^64");
        let minus_r_inv = inv.wrapping_neg() & MASK;
        Tables {
            head_ark: std::array::from_fn(|r| spread(&o.head_ark[r])),
            mds: matrix(&o.mds, Packed::constants),
            pre_mds: matrix(&o.pre_mds, Packed::constants),
            post_mds: matrix(&o.post_mds, Packed::constants),
            last_mds: matrix(&o.mds, Packed::arkworks),
            tail_ark: std::array::from_fn(|r| spread(&o.tail_ark[r])),
            partial: o
                .partial
                .iter()
                .map(|p| {
                    [
                        Packed::constants(&[p.k; 4]),
                        Packed::constants(&p.v[1..]),
                        Packed::constants(&p.w[1..]),
                    ]
                })
                .collect(),
            modulus,
            minus_r_inv: Packed([[minus_r_inv; 4]; 5]),
            one: Packed::constants(&[Fr::from(1u64); 4]),
        }
    }
}

/// A `W × W` matrix as the full rounds use it: for rows 0 to 3 (the first register), column
/// `j` in the lanes; for width 5 also row 4 (the second register's one element), its first four
/// entries in the lanes of one constant and the fifth in lane 0 of another.
struct Matrix<const W: usize> {
    columns: [Packed; W],
    last_row: [Packed; 2],
}

/// The modulus in registers, for [`mul`].
#[derive(Clone, Copy)]
struct Modulus {
    r: F4,
    minus_r_inv: __m256i,
}

#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn load(p: &Packed) -> F4 {
    // SAFETY: `Packed` is 5 × 4 initialised `u64`s, the size of five `__m256i`; every bit
    // pattern is a valid `__m256i`.
    F4(unsafe { std::mem::transmute::<[[u64; 4]; 5], [__m256i; 5]>(p.0) })
}

#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn store(x: F4) -> Packed {
    // SAFETY: the reverse of `load`.
    Packed(unsafe { std::mem::transmute::<[__m256i; 5], [[u64; 4]; 5]>(x.0) })
}

#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn zero() -> F4 {
    F4([_mm256_setzero_si256(); 5])
}

/// Limb-wise sum; the result's limbs may exceed 52 bits ([`normalize`] before a product).
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn add(a: F4, b: F4) -> F4 {
    F4(std::array::from_fn(|k| _mm256_add_epi64(a.0[k], b.0[k])))
}

/// Propagates carries so that limbs 0 to 3 are below `2^52` (the value is unchanged; it must be
/// below `2^260` for limb 4 to be too).
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn normalize(mut a: F4) -> F4 {
    let mask = _mm256_set1_epi64x(MASK as i64);
    for k in 0..4 {
        let carry = _mm256_srli_epi64::<52>(a.0[k]);
        a.0[k] = _mm256_and_si256(a.0[k], mask);
        a.0[k + 1] = _mm256_add_epi64(a.0[k + 1], carry);
    }
    a
}

/// The Montgomery product `a·b·2^-260 mod r` of each lane, normalised and below
/// `a·b/2^260 + r`. Inputs must be normalised (IFMA reads the low 52 bits of each limb).
///
/// The product is formed first ([`Wide::product`]) and reduced once ([`Wide::reduce`]), not
/// digit by digit (CIOS): the reduction's chain of dependent steps then starts as soon as the
/// low columns are ready and does not wait for each digit's products. 85 against 120 cycles of
/// latency here, the same number of instructions.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn mul(a: F4, b: F4, m: &Modulus) -> F4 {
    Wide::product(a, b).reduce(m)
}

/// Four lanes of unreduced sums of products: ten 52-bit columns, each a 64-bit accumulator.
///
/// A product adds at most ten 52-bit terms to a column, so about 400 products would fit before a
/// column could overflow; the permutation sums at most eight products' worth (a lane sum of two
/// products over four lanes) and a reduction adds ten more terms.
#[derive(Clone, Copy)]
struct Wide([__m256i; 10]);

impl Wide {
    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
    fn zero() -> Wide {
        Wide([_mm256_setzero_si256(); 10])
    }

    /// `a·b` (both normalised), unreduced. The low and high halves of the partial products go
    /// to separate accumulators so that each column's chain of additions is half as long.
    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
    fn product(a: F4, b: F4) -> Wide {
        #[cfg(test)]
        bounds::check_input(&a, &b);
        let z = _mm256_setzero_si256();
        let (mut lo, mut hi) = ([z; 10], [z; 10]);
        for (i, bi) in b.0.into_iter().enumerate() {
            for (j, aj) in a.0.into_iter().enumerate() {
                lo[i + j] = _mm256_madd52lo_epu64(lo[i + j], aj, bi);
                hi[i + j + 1] = _mm256_madd52hi_epu64(hi[i + j + 1], aj, bi);
            }
        }
        Wide(std::array::from_fn(|k| _mm256_add_epi64(lo[k], hi[k])))
    }

    /// `a²` (normalised), unreduced: each cross product `aᵢ·aⱼ` (`i < j`) once and doubled, so
    /// 15 partial products instead of 25.
    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
    fn square(a: F4) -> Wide {
        #[cfg(test)]
        bounds::check_input(&a, &a);
        let z = _mm256_setzero_si256();
        let (mut lo, mut hi) = ([z; 10], [z; 10]);
        for i in 0..5 {
            for j in i + 1..5 {
                lo[i + j] = _mm256_madd52lo_epu64(lo[i + j], a.0[i], a.0[j]);
                hi[i + j + 1] = _mm256_madd52hi_epu64(hi[i + j + 1], a.0[i], a.0[j]);
            }
        }
        let mut t: [__m256i; 10] = std::array::from_fn(|k| {
            let cross = _mm256_add_epi64(lo[k], hi[k]);
            _mm256_add_epi64(cross, cross)
        });
        for (i, ai) in a.0.into_iter().enumerate() {
            t[2 * i] = _mm256_madd52lo_epu64(t[2 * i], ai, ai);
            t[2 * i + 1] = _mm256_madd52hi_epu64(t[2 * i + 1], ai, ai);
        }
        Wide(t)
    }

    /// The column-wise sum of two accumulators.
    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
    fn plus(self, other: Wide) -> Wide {
        Wide(std::array::from_fn(|k| {
            _mm256_add_epi64(self.0[k], other.0[k])
        }))
    }

    /// The sum of the four lanes, in every lane.
    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
    fn lane_sum(self) -> Wide {
        Wide(self.0.map(|column| lanes_summed(column)))
    }

    /// Montgomery reduction of the sum `T`: `T·2^-260 mod r`, below `T/2^260 + r`, normalised.
    ///
    /// Step `i` adds `qᵢ·r·2^(52i)` with `qᵢ = tᵢ·(−r⁻¹) mod 2^52`, which clears column `i`'s
    /// low 52 bits, and carries the rest into column `i + 1`. Only column `i + 1` is on the
    /// chain to `qᵢ₊₁`, so its three additions are formed side by side; the other columns'
    /// additions wait for no one.
    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
    fn reduce(mut self, m: &Modulus) -> F4 {
        let z = _mm256_setzero_si256();
        let r = &m.r.0;
        let t = &mut self.0;
        for i in 0..5 {
            let q = _mm256_madd52lo_epu64(z, t[i], m.minus_r_inv);
            let cleared = _mm256_madd52lo_epu64(t[i], q, r[0]);
            let next = _mm256_madd52lo_epu64(t[i + 1], q, r[1]);
            let high = _mm256_madd52hi_epu64(z, q, r[0]);
            t[i + 1] = _mm256_add_epi64(
                _mm256_add_epi64(next, high),
                _mm256_srli_epi64::<52>(cleared),
            );
            t[i + 2] = _mm256_madd52hi_epu64(t[i + 2], q, r[1]);
            for j in 2..5 {
                t[i + j] = _mm256_madd52lo_epu64(t[i + j], q, r[j]);
                t[i + j + 1] = _mm256_madd52hi_epu64(t[i + j + 1], q, r[j]);
            }
        }
        normalize(F4([t[5], t[6], t[7], t[8], t[9]]))
    }
}

/// `x⁵` as square, square, multiply.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn sbox(x: F4, m: &Modulus) -> F4 {
    let x2 = Wide::square(x).reduce(m);
    let x4 = Wide::square(x2).reduce(m);
    mul(x4, x, m)
}

/// Lane `lane` of `a` in every lane.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn broadcast(a: F4, lane: usize) -> F4 {
    let idx = _mm256_set1_epi64x(lane as i64);
    F4(a.0.map(|limb| _mm256_permutexvar_epi64(idx, limb)))
}

/// Per limb, lane `i` of the result is lane `idx[i]` of `a` (0–3) or of `b` (4–7).
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn select(a: F4, idx: [i64; 4], b: F4) -> F4 {
    let idx = _mm256_set_epi64x(idx[3], idx[2], idx[1], idx[0]);
    F4(std::array::from_fn(|k| {
        _mm256_permutex2var_epi64(a.0[k], idx, b.0[k])
    }))
}

/// The sum of the four lanes, in every lane (limbs up to four times larger: not normalised).
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn lane_sum(a: F4) -> F4 {
    F4(a.0.map(|limb| lanes_summed(limb)))
}

/// The sum of one register's four 64-bit lanes, in every lane: the halves swapped and added,
/// then the neighbours.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn lanes_summed(x: __m256i) -> __m256i {
    let x = _mm256_add_epi64(x, _mm256_permute4x64_epi64::<0b01_00_11_10>(x));
    _mm256_add_epi64(x, _mm256_permute4x64_epi64::<0b10_11_00_01>(x))
}

/// A full round: add the constants, S-box every element, multiply by the matrix. Each output
/// register is one reduction of a sum of products: rows 0 to 3 as `Σⱼ xⱼ·column j`, row 4 (width
/// 5) as the lane sum of `x·row 4`, so the second register costs two products, not five. The
/// result is normalised and below `3.3B`.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn full_round<const W: usize, const G: usize>(
    state: &mut [F4; G],
    ark: &[Packed; G],
    matrix: &Matrix<W>,
    m: &Modulus,
) {
    let x: [F4; G] = std::array::from_fn(|g| sbox(normalize(add(state[g], load(&ark[g]))), m));
    let (mut even, mut odd) = (Wide::zero(), Wide::zero());
    for (j, column) in matrix.columns.iter().enumerate() {
        let p = Wide::product(broadcast(x[j / 4], j % 4), load(column));
        if j % 2 == 0 {
            even = even.plus(p);
        } else {
            odd = odd.plus(p);
        }
    }
    state[0] = even.plus(odd).reduce(m);
    if G > 1 {
        let row = Wide::product(x[0], load(&matrix.last_row[0]))
            .plus(Wide::product(x[G - 1], load(&matrix.last_row[1])));
        state[G - 1] = row.lane_sum().reduce(m);
    }
}

/// The permutation of width `W` on `state`, in place.
///
/// # Safety
/// The CPU must support AVX2, AVX-512F, AVX-512VL and AVX-512 IFMA ([`available`]).
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
unsafe fn run<const W: usize, const G: usize>(t: &Tables<W, G>, state: &mut [Fr; W]) {
    let m = Modulus {
        r: load(&t.modulus),
        minus_r_inv: load(&t.minus_r_inv).0[0],
    };
    let zero = zero();

    // In: arkworks' residues (`a·2^256`, canonical) times 16 → `a·2^260`, below `16r`.
    let mut s: [F4; G] = std::array::from_fn(|g| {
        let lanes = std::array::from_fn(|i| state.get(4 * g + i).map_or([0; 4], |x| x.0 .0));
        load(&Packed::from_u256(lanes).times_16())
    });

    for (r, ark) in t.head_ark.iter().enumerate() {
        let matrix = if r + 1 == HALF { &t.pre_mds } else { &t.mds };
        full_round(&mut s, ark, matrix, &m);
    }

    // Partial rounds: element 0 in every lane of `y`, elements 1.. in the lanes of `x`.
    let rest = if G > 1 { s[G - 1] } else { zero };
    let mut x = select(s[0], [1, 2, 3, 4], rest);
    let mut y = broadcast(s[0], 0);
    let one = load(&t.one);
    for (r, [k, v, w]) in t.partial.iter().enumerate() {
        if r > 0 && r % REDUCE_EVERY == 0 {
            x = mul(x, one, &m);
        }
        let tt = sbox(normalize(add(y, load(k))), &m);
        y = add(tt, lane_sum(mul(x, load(v), &m)));
        x = normalize(add(x, mul(load(w), tt, &m)));
    }
    let y = normalize(y);
    s[0] = select(y, [0, 4, 5, 6], x);
    if G > 1 {
        s[G - 1] = select(x, [3, 4, 4, 4], zero);
    }

    for (r, ark) in t.tail_ark.iter().enumerate() {
        let matrix = match r {
            0 => &t.post_mds,
            _ if r + 1 == HALF => &t.last_mds,
            _ => &t.mds,
        };
        full_round(&mut s, ark, matrix, &m);
    }

    // Out: the last round's matrix left arkworks' residues below 2r; make them canonical.
    for (g, reg) in s.iter().enumerate() {
        let packed = store(*reg);
        for (i, x) in state.iter_mut().enumerate().skip(4 * g).take(4) {
            *x = canonical(packed.lane_u256(i - 4 * g));
        }
    }
}

/// The field element whose arkworks form is `limbs` (below `2r`): one subtraction of `r` if
/// needed, selected with a mask rather than an `if`. (Not a constant-time guarantee: the
/// compiler chooses the instructions, and the rest of the arithmetic, like arkworks', is not
/// constant-time either.)
fn canonical(limbs: [u64; 4]) -> Fr {
    let r = Fr::MODULUS.0;
    let mut diff = [0u64; 4];
    let mut borrow = false;
    for i in 0..4 {
        let (d, b1) = limbs[i].overflowing_sub(r[i]);
        let (d, b2) = d.overflowing_sub(borrow as u64);
        diff[i] = d;
        borrow = b1 | b2;
    }
    // `borrow` set: limbs < r, keep them; clear: take the difference.
    let keep = 0u64.wrapping_sub(borrow as u64);
    let out = std::array::from_fn(|i| (limbs[i] & keep) | (diff[i] & !keep));
    Fr::new_unchecked(BigInt(out))
}

/// Test-build checks of the invariants the module documentation states.
#[cfg(test)]
mod bounds {
    use super::*;

    /// Every limb of both factors below `2^52` (so each factor below `2^260`).
    pub(super) fn check_input(a: &F4, b: &F4) {
        for x in [a, b] {
            // SAFETY: see `load`.
            let limbs = unsafe { std::mem::transmute::<[__m256i; 5], [[u64; 4]; 5]>(x.0) };
            assert!(
                limbs.iter().flatten().all(|&l| l <= MASK),
                "a factor of an IFMA product is not normalised: {limbs:x?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{BigInteger, Field, UniformRand};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    /// The modulus in registers.
    ///
    /// # Safety
    /// Only after `available()`.
    unsafe fn modulus() -> (Modulus, &'static Tables<5, 2>) {
        let t = Tables::<5, 2>::get();
        // SAFETY: the caller checked `available()`.
        let m = unsafe {
            Modulus {
                r: load(&t.modulus),
                minus_r_inv: load(&t.minus_r_inv).0[0],
            }
        };
        (m, t)
    }

    /// arkworks' residue of `a·b·2^-4`, what `mul` of two arkworks residues gives.
    fn expected(a: Fr, b: Fr) -> Fr {
        a * b * Fr::from(16u64).inverse().unwrap()
    }

    #[test]
    fn products_match_arkworks_on_random_and_edge_values() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512 IFMA");
            return;
        }
        // SAFETY: `available()` checked above.
        let (m, _) = unsafe { modulus() };
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let mut values: Vec<Fr> = vec![Fr::from(0u64), Fr::from(1u64), -Fr::from(1u64)];
        values.extend((0..61).map(|_| Fr::rand(&mut rng)));
        for pair in values.chunks(4).zip(values.chunks(4).rev()) {
            let (xs, ys) = pair;
            let a = Packed::from_u256(std::array::from_fn(|i| xs[i % xs.len()].0 .0));
            let b = Packed::from_u256(std::array::from_fn(|i| ys[i % ys.len()].0 .0));
            // SAFETY: `available()` checked above.
            let p = unsafe { store(mul(load(&a), load(&b), &m)) };
            for i in 0..4 {
                let got = canonical(p.lane_u256(i));
                assert_eq!(
                    got,
                    expected(xs[i % xs.len()], ys[i % ys.len()]),
                    "lane {i}"
                );
            }
        }
    }

    /// A lane value just below `tenths/10 · B` (B = 2^254) in every lane: limb 4 (bits 208 and
    /// up) at its largest, the lower limbs all ones.
    fn just_below(tenths: u64) -> Packed {
        let mut p = Packed([[MASK; 4]; 5]);
        p.0[4] = [(tenths << 46) / 10 - 1; 4];
        p
    }

    /// Whether every lane of `p` is below `tenths/10 · B`.
    fn below(p: &Packed, tenths: u64) -> bool {
        p.0[4].iter().all(|&l| l < (tenths << 46) / 10)
    }

    #[test]
    fn the_bounds_of_the_module_documentation_hold_at_their_extremes() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512 IFMA");
            return;
        }
        // SAFETY: `available()` checked above.
        let (m, _) = unsafe { modulus() };
        let c = Packed::constants(&[-Fr::from(1u64); 4]);
        // SAFETY: `available()` checked above.
        unsafe {
            // The largest factor (2^260 − 1) times a constant below r: below 2r.
            let p = store(mul(load(&Packed([[MASK; 4]; 5])), load(&c), &m));
            let mut two_r = Fr::MODULUS;
            two_r.mul2();
            assert!((0..4).all(|i| BigInt(p.lane_u256(i)) < two_r), "{p:x?}");
            // The S-box steps for the largest input the module allows (40B).
            let u = load(&just_below(400));
            let u2 = Wide::square(u).reduce(&m);
            let u4 = Wide::square(u2).reduce(&m);
            let u5 = mul(u4, u, &m);
            assert!(below(&store(u2), 270) && below(&store(u4), 133) && below(&store(u5), 102));
            // A full round's row: five S-box outputs (10.2B) times constants below r: 3.3B,
            // below 2r (the last round's output, made canonical by one subtraction).
            let x = load(&just_below(102));
            let mut row = Wide::product(x, load(&c));
            for _ in 0..4 {
                row = row.plus(Wide::product(x, load(&c)));
            }
            let row = store(row.reduce(&m));
            assert!(below(&row, 33), "{row:x?}");
            assert!((0..4).all(|i| BigInt(row.lane_u256(i)) < two_r));
        }
    }

    #[test]
    fn a_square_is_the_product_of_a_value_by_itself() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512 IFMA");
            return;
        }
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        for extreme in [false, true] {
            let a = if extreme {
                Packed([[MASK; 4]; 5])
            } else {
                Packed::from_u256(std::array::from_fn(|_| Fr::rand(&mut rng).0 .0))
            };
            // SAFETY: `available()` checked above.
            let (sq, prod) = unsafe {
                let a = load(&a);
                (Wide::square(a).0, Wide::product(a, a).0)
            };
            // SAFETY: see `load`.
            let columns = |w: [__m256i; 10]| unsafe {
                std::mem::transmute::<[__m256i; 10], [[u64; 4]; 10]>(w)
            };
            assert_eq!(columns(sq), columns(prod));
        }
    }

    #[test]
    fn times_16_shifts_the_integer_and_canonical_subtracts_r_once() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let xs: [Fr; 4] = std::array::from_fn(|_| Fr::rand(&mut rng));
        let shifted = Packed::from_u256(xs.map(|x| x.0 .0)).times_16();
        for (lane, x) in xs.iter().enumerate() {
            // The lane's value, limb by limb, against 16·x computed on 64-bit words.
            let a = x.0 .0;
            let mut want = [0u64; 5];
            for i in 0..4 {
                want[i] |= a[i] << 4;
                want[i + 1] = a[i] >> 60;
            }
            let limbs: [u64; 5] = std::array::from_fn(|k| shifted.0[k][lane]);
            let mut got = [0u64; 5];
            for (k, l) in limbs.iter().enumerate() {
                let bit = 52 * k;
                got[bit / 64] |= l << (bit % 64);
                if bit % 64 > 12 {
                    got[bit / 64 + 1] |= l >> (64 - bit % 64);
                }
            }
            assert_eq!(got, want, "lane {lane}");
        }
        let r = Fr::MODULUS;
        let plus = |k: u64| {
            let mut v = r;
            v.add_with_carry(&BigInt::from(k));
            v.0
        };
        let below_r = {
            let mut v = r;
            v.sub_with_borrow(&BigInt::from(1u64));
            v
        };
        assert_eq!(canonical(below_r.0), Fr::new_unchecked(below_r));
        assert_eq!(canonical(r.0), Fr::from(0u64));
        assert_eq!(canonical(plus(5)), Fr::new_unchecked(BigInt::from(5u64)));
        assert_eq!(canonical([0; 4]), Fr::from(0u64));
    }
}
