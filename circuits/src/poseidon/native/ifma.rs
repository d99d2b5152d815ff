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
//! register: measured here 18 ns for four (throughput) and 30 ns latency. The permutation
//! maps onto it: a full round's S-boxes and matrix products, and a partial round's eight
//! products (the sparse row and column), are independent of each other.
//!
//! # Representation
//!
//! An [`F4`] holds four field elements, one per 64-bit lane, each as five 52-bit limbs (register
//! `k` holds limb `k` of all four). A value is a Montgomery residue with radix `R = 2^260` (five
//! 52-bit digits): the integer `â ≡ a·2^260 (mod r)`. Residues are kept *loosely reduced*: `â`
//! may be any integer below a bound stated below, not only below `r`, so no product needs a
//! conditional subtraction. The 260-bit radix leaves five bits above `r < 2^254 = B`, enough
//! for every sum the permutation forms.
//!
//! [`mul`] computes `a·b·R⁻¹ mod r` by interleaved (CIOS) Montgomery reduction on 52-bit digits,
//! as in Drucker and Gueron, "Fast modular squaring with AVX512IFMA" (2019) and Intel's IPP.
//! For inputs with normalised limbs (each below `2^52`, so `a, b < 2^260`) its result is below
//! `a·b/2^260 + r` and normalised. In units of `B = 2^254` (`r ≈ 0.905·B`):
//!
//! | value | bound | why |
//! | --- | --- | --- |
//! | a state element entering (from arkworks, `â = mul(ã, 2^264 mod r)`) | `< 2B` | `ã < r` |
//! | product of anything `< 2^260` and a constant `< r` | `< 2B` | `2^260·B/2^260 + r` |
//! | S-box output for an input `u < 40B` | `< 26B` at every step, `< 9B` at the end | `u² < 40²/64·B + r`, `u⁴ < 26²/64·B + r`, `u⁵ < 11.6·40/64·B + r` |
//! | a full round's output (a sum of `W ≤ 5` products by constants) | `< 10B` | |
//! | a full round's S-box input (output plus a constant) | `< 11B` | |
//! | a partial round's `y = t + Σ vⱼ·xⱼ` (four products) | `< 9B + 8B = 17B` | |
//! | a partial round's S-box input `y + k` | `< 18B` | |
//! | a partial round's `xⱼ` after `n` rounds since its last reduction | `< x₀ + 2n·B` | each round adds one product by a constant |
//!
//! So `xⱼ` is reduced (multiplied by `R mod r`, which gives a residue `< 2B`) every
//! [`REDUCE_EVERY`] = 16 rounds: it starts below `10B`, stays below `10B + 32B` within the first
//! 16 rounds, and leaves the partial rounds below `2B + 30B`, so the first full round after
//! them sees an S-box input below `33B < 40B`, and every multiplication input stays below
//! `2^260 = 64B`. A sum of normalised limbs is normalised (carries propagated) before it is
//! multiplied, because IFMA reads only the low 52 bits of each limb. The tests check every
//! product's inputs against these bounds in the test build, and compare the permutation with the
//! portable one on random, edge and all-extreme states.
//!
//! Leaving: `mul(â, 2^256 mod r)` is `a·2^256 mod r`, arkworks' own Montgomery form, below
//! `10B·B/2^260 + r < 1.3r`; one conditional subtraction makes it canonical.
//!
//! Width 7 (a registry leaf, once per enrollment) has six sparse lanes and stays portable.

use std::arch::x86_64::*;
use std::sync::OnceLock;

use ark_bls12_381::Fr;
use ark_ff::{BigInt, PrimeField};

use super::{Optimized, HALF};

/// Limb mask: 52 bits.
const MASK: u64 = (1 << 52) - 1;

/// A partial round reduces its sparse lanes every this many rounds (see the bounds above).
const REDUCE_EVERY: usize = 16;

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
    /// Four integers below `2^260` given as four 64-bit limbs each (the top one below `2^4`
    /// beyond the 256 bits is implied zero), split into 52-bit limbs.
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
        assert!(cs.len() <= 4, "four lanes");
        let sixteen = Fr::from(16u64);
        Packed::from_u256(std::array::from_fn(|i| {
            cs.get(i).map_or([0; 4], |c| (*c * sixteen).0 .0)
        }))
    }

    /// The same raw integer (not a field element's form) in all four lanes.
    fn splat_raw(value: BigInt<4>) -> Packed {
        Packed::from_u256([value.0; 4])
    }
}

/// Four field elements in registers (see the module documentation).
#[derive(Clone, Copy)]
struct F4([__m256i; 5]);

/// The constants of the IFMA permutation of width `W` (`G` registers hold a full state), all
/// converted from the portable permutation's [`Optimized`] constants.
struct Tables<const W: usize, const G: usize> {
    head_ark: [[Packed; G]; HALF],
    /// Column `j` of the MDS matrix, its rows spread over the `G` registers' lanes.
    mds: [[Packed; G]; W],
    pre_mds: [[Packed; G]; W],
    post_mds: [[Packed; G]; W],
    tail_ark: [[Packed; G]; HALF],
    /// Per partial round: `k` in every lane, then `v` and `w` (lane `j − 1` holds `vⱼ`, `wⱼ`).
    partial: Vec<[Packed; 3]>,
    /// The modulus, `−r⁻¹ mod 2^52`, `R mod r` in IFMA form (reduction by multiplication),
    /// `2^264 mod r` (arkworks' form in, IFMA form out) and `2^256 mod r` (the reverse).
    modulus: Packed,
    minus_r_inv: Packed,
    one: Packed,
    to_ifma: Packed,
    to_arkworks: Packed,
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
        let columns = |m: &[[Fr; W]; W]| -> [[Packed; G]; W] {
            std::array::from_fn(|j| spread(&std::array::from_fn(|i| m[i][j])))
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
            mds: columns(&o.mds),
            pre_mds: columns(&o.pre_mds),
            post_mds: columns(&o.post_mds),
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
            to_ifma: Packed::splat_raw(Fr::from(256u64).0),
            to_arkworks: Packed::splat_raw(Fr::from(1u64).0),
        }
    }
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
/// Each of the five digit steps adds `a·bᵢ` and `m·r` to a six-limb accumulator, with
/// `m = t₀·(−r⁻¹) mod 2^52` chosen so that the low limb becomes divisible by `2^52`, then shifts
/// it down one limb. An accumulator limb receives at most four 52-bit terms per step for five
/// steps, so it stays below `2^57`: no 64-bit lane overflows.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn mul(a: F4, b: F4, m: &Modulus) -> F4 {
    #[cfg(test)]
    bounds::check_input(&a, &b);
    let z = _mm256_setzero_si256();
    let mut t = [z; 6];
    for bi in b.0 {
        for j in 0..5 {
            t[j] = _mm256_madd52lo_epu64(t[j], a.0[j], bi);
            t[j + 1] = _mm256_madd52hi_epu64(t[j + 1], a.0[j], bi);
        }
        let q = _mm256_madd52lo_epu64(z, t[0], m.minus_r_inv);
        for j in 0..5 {
            t[j] = _mm256_madd52lo_epu64(t[j], q, m.r.0[j]);
            t[j + 1] = _mm256_madd52hi_epu64(t[j + 1], q, m.r.0[j]);
        }
        let carry = _mm256_srli_epi64::<52>(t[0]);
        t = [_mm256_add_epi64(t[1], carry), t[2], t[3], t[4], t[5], z];
    }
    normalize(F4([t[0], t[1], t[2], t[3], t[4]]))
}

/// `x⁵` as square, square, multiply.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn sbox(x: F4, m: &Modulus) -> F4 {
    let x2 = mul(x, x, m);
    let x4 = mul(x2, x2, m);
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
    F4(a.0.map(|x| {
        let x = _mm256_add_epi64(x, _mm256_permute4x64_epi64::<0b01_00_11_10>(x));
        _mm256_add_epi64(x, _mm256_permute4x64_epi64::<0b10_11_00_01>(x))
    }))
}

/// A full round: add the constants, S-box every element, multiply by the matrix given by its
/// columns. The result is normalised and below `10B`.
#[inline]
#[target_feature(enable = "avx2,avx512f,avx512vl,avx512ifma")]
fn full_round<const W: usize, const G: usize>(
    state: &mut [F4; G],
    ark: &[Packed; G],
    columns: &[[Packed; G]; W],
    m: &Modulus,
) {
    let x: [F4; G] = std::array::from_fn(|g| sbox(normalize(add(state[g], load(&ark[g]))), m));
    let mut out = [zero(); G];
    for (j, column) in columns.iter().enumerate() {
        let xj = broadcast(x[j / 4], j % 4);
        for (o, c) in out.iter_mut().zip(column) {
            *o = add(*o, mul(xj, load(c), m));
        }
    }
    *state = out.map(|o| normalize(o));
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

    // In: arkworks' residues (`a·2^256`, canonical) times 2^264 → `a·2^260`.
    let to_ifma = load(&t.to_ifma);
    let mut s: [F4; G] = std::array::from_fn(|g| {
        let lanes = std::array::from_fn(|i| state.get(4 * g + i).map_or([0; 4], |x| x.0 .0));
        mul(load(&Packed::from_u256(lanes)), to_ifma, &m)
    });

    for (r, ark) in t.head_ark.iter().enumerate() {
        let columns = if r + 1 == HALF { &t.pre_mds } else { &t.mds };
        full_round(&mut s, ark, columns, &m);
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
        let columns = if r == 0 { &t.post_mds } else { &t.mds };
        full_round(&mut s, ark, columns, &m);
    }

    // Out: `a·2^260` times 2^256 → `a·2^256` below 1.3r, then canonical.
    let to_arkworks = load(&t.to_arkworks);
    for (g, reg) in s.iter().enumerate() {
        let packed = store(mul(*reg, to_arkworks, &m));
        for (i, x) in state.iter_mut().enumerate().skip(4 * g).take(4) {
            *x = canonical(packed.lane_u256(i - 4 * g));
        }
    }
}

/// The field element whose arkworks form is `limbs` (below `2r`): one subtraction of `r` if
/// needed, without a branch on the value.
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
    use ark_ff::{Field, UniformRand};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn modulus() -> (Modulus, &'static Tables<5, 2>) {
        let t = Tables::<5, 2>::get();
        // SAFETY: only called after `available()`.
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
        let (m, _) = modulus();
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

    #[test]
    fn products_of_the_largest_inputs_stay_in_range() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512 IFMA");
            return;
        }
        let (m, _) = modulus();
        // In units of B = 2^254, limb 4 (bits 208 and up) of a value below kB is below k·2^46.
        let below = |p: &Packed, k: u64| p.0[4].iter().all(|&l| l < k << 46);
        // The largest factor (2^260 − 1) times a constant below r, and a constant squared.
        let max = Packed([[MASK; 4]; 5]);
        let c = Packed::constants(&[-Fr::from(1u64); 4]);
        // The largest S-box input the module allows: 40B − 1.
        let mut u = Packed([[MASK; 4]; 5]);
        u.0[4] = [(40 << 46) - 1; 4];
        // SAFETY: `available()` checked above.
        let (p, q, s) = unsafe {
            (
                store(mul(load(&max), load(&c), &m)),
                store(mul(load(&c), load(&c), &m)),
                store(sbox(load(&u), &m)),
            )
        };
        assert!(below(&p, 2) && below(&q, 2), "{p:x?} {q:x?}");
        assert!(below(&s, 9), "{s:x?}");
    }
}
