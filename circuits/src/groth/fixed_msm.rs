//! Multi-scalar multiplication over fixed bases: the proving key's queries, which are most of
//! the prover's time.
//!
//! Two preparations ([`Preparation`]): blst's own Pippenger MSM on the points as they are
//! (nothing to build), or window tables for a long-lived prover. The tables are Pippenger's
//! bucket method with two well-known refinements that blst's general-purpose MSM does not
//! have, both possible only because the bases never change:
//!
//! * **Precomputed windows.** For every base `P` the table holds `2^(c·j)·P` for each of the
//!   `w` windows of `c` bits of a scalar. All of a scalar's signed digits then fall into one
//!   set of `2^(c-1)` buckets: each MSM is one pass over `n·w` table points and a single
//!   bucket reduction, with no doubling, instead of a pass and a reduction per window. The
//!   table costs memory (`n·w` affine points, about 36 MB for `C` at depth 20) and is built
//!   once, when the prover is made.
//! * **Batch-affine bucket additions.** Buckets are kept in affine form and updated a batch
//!   at a time, with one field inversion per batch (Montgomery's trick): about six field
//!   multiplications per addition instead of the ten of the mixed additions blst uses.
//!
//! The field arithmetic is blst's (assembly, Montgomery form); this module only schedules it.
//! Exceptional additions (a bucket meeting its own point, or that point's negation) take the
//! doubling or cancelling path, so the result is exact for any bases and scalars. Tests
//! compare it with arkworks' MSM, those cases included, and the prover's own test pins the
//! proof bit for bit to arkworks'.
//!
//! A point whose bucket already has an addition in the pending batch goes to that bucket's
//! Jacobian overflow sum instead of waiting, so concentrated digits (small scalars, the top
//! window's few bits) cost one ordinary addition each and never serialise the batches.
//!
//! Sums over a few of the bases ([`FixedBases::msm_sparse`], the prover's repeat proofs) use
//! the same tables: a job of a few hundred bases would spend most of its time reducing
//! `2^(c-1)` buckets, so it cuts each digit into smaller sub-digits, each with its own small
//! set of buckets (`Tables::job`).
//!
//! Timing depends on the scalars, that is on the witness: bucket choice and batching follow
//! them, as in every Pippenger MSM (arkworks' and blst's included). The prover runs on the
//! institution's own machine, where the witness comes from; the proof reveals nothing of it.

use ark_bls12_381::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::AffineRepr;
use ark_ff::PrimeField;
use blst::{blst_fp, blst_fp2, blst_p1, blst_p1_affine, blst_p2, blst_p2_affine};
use rayon::prelude::*;
use zeroize::{Zeroize, Zeroizing};

use super::blst_bridge::{g1_from_blst, g1_to_blst, g2_from_blst, g2_to_blst};

/// Bits of a canonical `Fr` scalar (`r < 2^255`).
const SCALAR_BITS: usize = 255;
/// Pending bucket additions that share one field inversion, at most. Large enough that the
/// inversion is a small share of each addition, small enough that few points find their
/// bucket already in the batch (they go to its overflow sum). A job with few buckets uses a
/// quarter of their number, so that its batches still fill.
const MAX_BATCH: usize = 256;

/// A coordinate field (Fp for G1, Fp2 for G2) as blst stores it: Montgomery form, always fully
/// reduced, so equal elements have equal limbs.
pub(super) trait Coordinate: Copy + Default + Eq + Send + Sync {
    /// `self + b`.
    fn add(&self, b: &Self) -> Self;
    /// `self - b`.
    fn sub(&self, b: &Self) -> Self;
    /// `self · b`.
    fn mul(&self, b: &Self) -> Self;
    /// `self²`.
    fn square(&self) -> Self;
    /// `1 / self`; only called on non-zero elements.
    fn inverse(&self) -> Self;
    /// `-self`.
    fn neg(&self) -> Self;
    /// `3 · self`.
    fn triple(&self) -> Self;
    /// The element 1.
    fn one() -> Self;
    /// `self == b`, limb by limb without a call to `memcmp` (the derived `==` makes one, a
    /// measurable share of the bucket loop).
    fn equals(&self, b: &Self) -> bool;
}

macro_rules! coordinate {
    ($t:ty, $add:ident, $sub:ident, $mul:ident, $sqr:ident, $inv:ident, $cneg:ident, $mul3:ident, $one:expr, $eq:expr) => {
        // SAFETY (every call below): blst reads and writes exactly one initialised element
        // through each pointer, and accepts an output aliasing an input.
        impl Coordinate for $t {
            #[inline]
            fn add(&self, b: &Self) -> Self {
                let mut r = Self::default();
                unsafe { blst::$add(&mut r, self, b) };
                r
            }
            #[inline]
            fn sub(&self, b: &Self) -> Self {
                let mut r = Self::default();
                unsafe { blst::$sub(&mut r, self, b) };
                r
            }
            #[inline]
            fn mul(&self, b: &Self) -> Self {
                let mut r = Self::default();
                unsafe { blst::$mul(&mut r, self, b) };
                r
            }
            #[inline]
            fn square(&self) -> Self {
                let mut r = Self::default();
                unsafe { blst::$sqr(&mut r, self) };
                r
            }
            #[inline]
            fn inverse(&self) -> Self {
                let mut r = Self::default();
                unsafe { blst::$inv(&mut r, self) };
                r
            }
            #[inline]
            fn neg(&self) -> Self {
                let mut r = Self::default();
                unsafe { blst::$cneg(&mut r, self, true) };
                r
            }
            #[inline]
            fn triple(&self) -> Self {
                let mut r = Self::default();
                unsafe { blst::$mul3(&mut r, self) };
                r
            }
            fn one() -> Self {
                $one
            }
            #[inline]
            fn equals(&self, b: &Self) -> bool {
                $eq(self, b)
            }
        }
    };
}

/// 1 in Montgomery form: `2^384 mod p`, blst's `BLS12_381_Rx.p`.
const FP_ONE: blst_fp = blst_fp {
    l: [
        0x7609_0000_0002_fffd,
        0xebf4_000b_c40c_0002,
        0x5f48_9857_53c7_58ba,
        0x77ce_5853_7052_5745,
        0x5c07_1a97_a256_ec6d,
        0x15f6_5ec3_fa80_e493,
    ],
};

#[inline]
fn fp_equals(a: &blst_fp, b: &blst_fp) -> bool {
    a.l.iter().zip(&b.l).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

coordinate!(
    blst_fp,
    blst_fp_add,
    blst_fp_sub,
    blst_fp_mul,
    blst_fp_sqr,
    blst_fp_eucl_inverse,
    blst_fp_cneg,
    blst_fp_mul_by_3,
    FP_ONE,
    fp_equals
);
coordinate!(
    blst_fp2,
    blst_fp2_add,
    blst_fp2_sub,
    blst_fp2_mul,
    blst_fp2_sqr,
    blst_fp2_eucl_inverse,
    blst_fp2_cneg,
    blst_fp2_mul_by_3,
    blst_fp2 {
        fp: [FP_ONE, blst_fp { l: [0; 6] }]
    },
    |a: &blst_fp2, b: &blst_fp2| fp_equals(&a.fp[0], &b.fp[0]) & fp_equals(&a.fp[1], &b.fp[1])
);

/// A finite affine point. Table points and buckets are never the point at infinity: a bucket
/// that cancels out is marked empty instead.
#[derive(Clone, Copy, Default)]
pub(super) struct Point<F> {
    x: F,
    y: F,
}

/// A group (G1 or G2) as blst computes in it; the arkworks types are at the edges only.
pub(super) trait Group {
    /// The field of the coordinates.
    type Coord: Coordinate;
    /// blst's affine point.
    type Affine: Copy + Default + Send + Sync;
    /// blst's Jacobian point (all-zero is the point at infinity).
    type Jacobian: Copy + Default + Send + Sync;
    /// arkworks' affine point, the input.
    type ArkAffine: AffineRepr;
    /// arkworks' projective point, the output.
    type ArkProjective: Default;

    /// The arkworks point (already validated by arkworks) in blst's form.
    fn from_ark(p: &Self::ArkAffine) -> Self::Affine;
    /// The blst point in arkworks' form.
    fn to_ark(p: &Self::Jacobian) -> Self::ArkProjective;
    /// The coordinates of a finite affine point.
    fn coordinates(p: &Self::Affine) -> Point<Self::Coord>;
    /// The affine point with these coordinates, in Jacobian form.
    fn jacobian(p: &Point<Self::Coord>) -> Self::Jacobian;
    /// `acc += p` (any points, including equal ones and infinity).
    fn add(acc: &mut Self::Jacobian, p: &Self::Jacobian);
    /// `acc += p` for an affine `p`.
    fn add_affine(acc: &mut Self::Jacobian, p: &Point<Self::Coord>);
    /// `p = 2p`.
    fn double(p: &mut Self::Jacobian);
    /// The affine forms of finite points (one shared inversion).
    fn normalize(points: &[Self::Jacobian]) -> Vec<Self::Affine>;
    /// blst's prepared bases for its own Pippenger MSM.
    type Pippenger: Send + Sync;
    /// Prepares finite points for [`Group::pippenger`].
    fn pippenger_bases(points: &[Self::Affine]) -> Self::Pippenger;
    /// blst's Pippenger MSM; `scalars` are 32 little-endian bytes each, canonical form.
    fn pippenger(bases: &Self::Pippenger, scalars: &[u8]) -> Self::Jacobian;
}

/// G1, coordinates in Fp.
pub(super) enum G1 {}
/// G2, coordinates in Fp2.
pub(super) enum G2 {}

macro_rules! group {
    ($g:ty, $coord:ty, $affine:ident, $jac:ty, $ark_a:ty, $ark_p:ty, $to_blst:ident, $from_blst:ident,
     $from_affine:ident, $add:ident, $add_affine:ident, $double:ident, $to_affines:ident,
     $pippenger:ty) => {
        // SAFETY (every call below): blst reads and writes initialised points of the declared
        // types; `$to_affines` reads `points.len()` contiguous points (the second array entry
        // is null) and writes as many.
        impl Group for $g {
            type Coord = $coord;
            type Affine = $affine;
            type Jacobian = $jac;
            type ArkAffine = $ark_a;
            type ArkProjective = $ark_p;

            fn from_ark(p: &$ark_a) -> $affine {
                $to_blst(p)
            }
            fn to_ark(p: &$jac) -> $ark_p {
                $from_blst(p)
            }
            fn coordinates(p: &$affine) -> Point<$coord> {
                Point { x: p.x, y: p.y }
            }
            fn jacobian(p: &Point<$coord>) -> $jac {
                let mut r = <$jac>::default();
                unsafe { blst::$from_affine(&mut r, &$affine { x: p.x, y: p.y }) };
                r
            }
            #[inline]
            fn add(acc: &mut $jac, p: &$jac) {
                unsafe { blst::$add(acc, acc, p) };
            }
            #[inline]
            fn add_affine(acc: &mut $jac, p: &Point<$coord>) {
                unsafe { blst::$add_affine(acc, acc, &$affine { x: p.x, y: p.y }) };
            }
            #[inline]
            fn double(p: &mut $jac) {
                unsafe { blst::$double(p, p) };
            }
            type Pippenger = $pippenger;
            fn pippenger_bases(points: &[$affine]) -> $pippenger {
                let points: Vec<$jac> = points
                    .iter()
                    .map(|p| Self::jacobian(&Self::coordinates(p)))
                    .collect();
                <$pippenger>::from(&points)
            }
            fn pippenger(bases: &$pippenger, scalars: &[u8]) -> $jac {
                bases.mult(scalars, SCALAR_BITS)
            }
            fn normalize(points: &[$jac]) -> Vec<$affine> {
                let mut out = vec![<$affine>::default(); points.len()];
                if !points.is_empty() {
                    let list: [*const $jac; 2] = [points.as_ptr(), std::ptr::null()];
                    unsafe { blst::$to_affines(out.as_mut_ptr(), list.as_ptr(), points.len()) };
                }
                out
            }
        }
    };
}

group!(
    G1,
    blst_fp,
    blst_p1_affine,
    blst_p1,
    G1Affine,
    G1Projective,
    g1_to_blst,
    g1_from_blst,
    blst_p1_from_affine,
    blst_p1_add_or_double,
    blst_p1_add_or_double_affine,
    blst_p1_double,
    blst_p1s_to_affine,
    blst::p1_affines
);
group!(
    G2,
    blst_fp2,
    blst_p2_affine,
    blst_p2,
    G2Affine,
    G2Projective,
    g2_to_blst,
    g2_from_blst,
    blst_p2_from_affine,
    blst_p2_add_or_double,
    blst_p2_add_or_double_affine,
    blst_p2_double,
    blst_p2s_to_affine,
    blst::p2_affines
);

/// How the prover prepares the proving key's bases, a trade between start-up and proof time.
///
/// The tables cost about `n·255` point doublings to build (about 2 s and 65 MB at depth 20 on
/// the 2-core machine of the README) and save a third of each proof (60–90 ms there): they
/// pay off after a few dozen proofs. A process that makes one proof (the CLI's `access`) is
/// faster without them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preparation {
    /// blst's Pippenger MSM on the key's points as they are: ready at once.
    Direct,
    /// Window tables with batch-affine bucket additions (the module documentation): for
    /// services that prove many tokens, and for benchmarks.
    Tables,
}

/// Fixed bases (a query of the proving key), prepared once.
pub(super) struct FixedBases<G: Group> {
    /// Position in the query of each finite base (points at infinity are dropped: a third of
    /// `B`'s, the variables `B` does not use).
    positions: Vec<usize>,
    /// The inverse of `positions`: for each position in the query, the index of its finite
    /// base, or `None` for a point at infinity.
    finite_index: Vec<Option<usize>>,
    /// `None` when every base is at infinity.
    prepared: Option<Prepared<G>>,
}

enum Prepared<G: Group> {
    /// blst's prepared bases, and the finite points for sparse sums.
    Direct(G::Pippenger, Vec<G::Affine>),
    Tables(Tables<G>),
}

/// The window tables of the finite bases.
struct Tables<G: Group> {
    /// `table[k·windows + j] = 2^(c·j) · P_k` for the `k`-th finite base.
    table: Vec<Point<G::Coord>>,
    /// Window width `c` in bits.
    bits: usize,
    /// Windows per scalar, `w`.
    windows: usize,
    /// Bases per parallel job (each job has its own buckets).
    chunk: usize,
}

/// The window width minimising the estimated cost of one job of `per_job` bases: `w` table
/// additions per base (batch-affine, about ten multiplications each with the bookkeeping)
/// plus the bucket reduction (two Jacobian additions, about 24 multiplications, for each of
/// the `2^(c-1)` buckets). Measured on the depth-20 key, the choice is the fastest width or
/// within 3% of it for the three queries.
fn window_bits(per_job: usize) -> usize {
    (4..=16)
        .min_by_key(|&c| per_job * windows_for(c) * 10 + (1usize << c) * 12)
        .expect("a non-empty range")
}

/// Windows of `c` bits for a signed-digit expansion of a scalar below `2^255`: one more than
/// the bits need, so the top digit never carries out.
fn windows_for(c: usize) -> usize {
    SCALAR_BITS / c + 1
}

impl<G: Group> FixedBases<G> {
    /// Prepares `points` (already validated by arkworks): drops the points at infinity, then
    /// prepares the others as `preparation` says (tables are built in parallel).
    pub(super) fn new(points: &[G::ArkAffine], preparation: Preparation) -> Self {
        let (positions, finite): (Vec<usize>, Vec<G::Affine>) = points
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_zero())
            .map(|(i, p)| (i, G::from_ark(p)))
            .unzip();
        let mut finite_index = vec![None; points.len()];
        for (k, &position) in positions.iter().enumerate() {
            finite_index[position] = Some(k);
        }
        let prepared = (!finite.is_empty()).then(|| match preparation {
            Preparation::Direct => Prepared::Direct(G::pippenger_bases(&finite), finite),
            Preparation::Tables => {
                let jobs = rayon::current_num_threads().max(1);
                let chunk = finite.len().div_ceil(jobs);
                Prepared::Tables(Tables::new(&finite, chunk, window_bits(chunk)))
            }
        });
        FixedBases {
            positions,
            finite_index,
            prepared,
        }
    }

    /// `sum scalars[i] · points[i]` (a missing scalar counts as zero).
    pub(super) fn msm(&self, scalars: &[Fr]) -> G::ArkProjective {
        let sum = match &self.prepared {
            None => return G::ArkProjective::default(),
            Some(Prepared::Direct(bases, _)) => {
                let bytes = scalar_bytes(self.positions.iter().map(|&i| scalars.get(i)));
                G::pippenger(bases, &bytes)
            }
            Some(Prepared::Tables(tables)) => tables.msm(&self.positions, scalars),
        };
        G::to_ark(&sum)
    }

    /// `sum s · points[i]` over the `(i, s)` of `entries`, which name positions in the query
    /// (a position past its end, or of a point at infinity, adds nothing). Its cost follows
    /// the number of entries, not the query's length: the prover uses it for the few
    /// variables that changed since a previous proof, and for one part of a concatenated
    /// query.
    pub(super) fn msm_sparse(&self, entries: &[(usize, Fr)]) -> G::ArkProjective {
        // The scalars are secret (the prover's differences and quotient): the copy is sized up
        // front and wiped after use.
        let mut finite = Zeroizing::new(Vec::with_capacity(entries.len()));
        finite.extend(
            entries
                .iter()
                .filter_map(|&(i, s)| Some((self.finite_index.get(i).copied().flatten()?, s))),
        );
        let sum = match &self.prepared {
            None => return G::ArkProjective::default(),
            Some(Prepared::Direct(_, points)) => {
                if finite.is_empty() {
                    return G::ArkProjective::default();
                }
                let subset: Vec<G::Affine> = finite.iter().map(|&(k, _)| points[k]).collect();
                let bytes = scalar_bytes(finite.iter().map(|(_, s)| Some(s)));
                G::pippenger(&G::pippenger_bases(&subset), &bytes)
            }
            Some(Prepared::Tables(tables)) => tables.msm_entries(&finite),
        };
        G::to_ark(&sum)
    }
}

/// The little-endian bytes of `scalars` (a missing one counts as zero), as blst's Pippenger
/// reads them, in a buffer sized up front and wiped on drop: the scalars are the prover's
/// secret values.
fn scalar_bytes<'a>(scalars: impl ExactSizeIterator<Item = Option<&'a Fr>>) -> Zeroizing<Vec<u8>> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(32 * scalars.len()));
    for s in scalars {
        let mut le = s
            .copied()
            .unwrap_or_default()
            .into_bigint()
            .0
            .map(u64::to_le_bytes);
        bytes.extend(le.iter().flatten());
        le.zeroize();
    }
    bytes
}

impl<G: Group> Tables<G> {
    /// Builds the tables of the `finite` bases, with `bits`-bit windows and `chunk` bases per
    /// job.
    fn new(finite: &[G::Affine], chunk: usize, bits: usize) -> Self {
        let windows = windows_for(bits);
        let table = finite
            .par_chunks(64)
            .flat_map_iter(|bases| {
                let mut multiples = Vec::with_capacity(bases.len() * windows);
                for base in bases {
                    let mut p = G::jacobian(&G::coordinates(base));
                    for j in 0..windows {
                        if j > 0 {
                            for _ in 0..bits {
                                G::double(&mut p);
                            }
                        }
                        multiples.push(p);
                    }
                }
                G::normalize(&multiples)
                    .into_iter()
                    .map(|a| G::coordinates(&a))
            })
            .collect();
        Tables {
            table,
            bits,
            windows,
            chunk,
        }
    }

    /// `sum scalars[positions[k]] · P_k`, one job per chunk of bases.
    fn msm(&self, positions: &[usize], scalars: &[Fr]) -> G::Jacobian {
        let partial: Vec<G::Jacobian> = positions
            .par_chunks(self.chunk)
            .enumerate()
            .map(|(job, positions)| {
                let first = job * self.chunk;
                let entries = positions
                    .iter()
                    .enumerate()
                    .filter_map(|(i, &position)| Some((first + i, scalars.get(position)?)));
                self.job(entries, self.bits)
            })
            .collect();
        sum::<G>(&partial)
    }

    /// `sum s · P_k` over the `(k, s)` of `entries` (`k` indexes the finite bases), one job
    /// per thread, each with the sub-digit width its share calls for.
    fn msm_entries(&self, entries: &[(usize, Fr)]) -> G::Jacobian {
        if entries.is_empty() {
            return G::Jacobian::default();
        }
        let per_job = entries.len().div_ceil(rayon::current_num_threads().max(1));
        let sub_bits = sub_digit_bits(per_job, self.windows, self.bits);
        let partial: Vec<G::Jacobian> = entries
            .par_chunks(per_job)
            .map(|entries| self.job(entries.iter().map(|(k, s)| (*k, s)), sub_bits))
            .collect();
        sum::<G>(&partial)
    }

    /// One job's share: its bases' digits into its own buckets, then the bucket reduction.
    ///
    /// Each signed `c`-bit digit `d` picks the table point `±2^(c·j)·P`. With `sub_bits = c`
    /// the point goes to bucket `|d|` of a single set of `2^(c-1)` buckets. A job with few
    /// bases would spend most of its time reducing those buckets, so `|d|` can instead be cut
    /// into sub-digits of `sub_bits` bits, each adding the point to its own, much smaller,
    /// set: `sum |d|·Q = sum_t 2^(sub_bits·t) · (sum sub_t·Q)`. More additions, far fewer
    /// buckets ([`sub_digit_bits`] weighs the two). The sets lie side by side in one bucket
    /// array, so a batch of additions fills from all of them and small sets still share each
    /// inversion among many additions.
    fn job<'a>(
        &self,
        entries: impl Iterator<Item = (usize, &'a Fr)>,
        sub_bits: usize,
    ) -> G::Jacobian {
        let sets = self.bits.div_ceil(sub_bits);
        let mask = (1usize << sub_bits) - 1;
        let len = bucket_count(sub_bits, self.bits);
        let mut buckets = Buckets::<G>::new(sets * len);
        let half = 1i64 << (self.bits - 1);
        for (k, scalar) in entries {
            let limbs = scalar.into_bigint().0;
            let mut carry = 0i64;
            for j in 0..self.windows {
                let mut digit = window(&limbs, j * self.bits, self.bits) as i64 + carry;
                carry = 0;
                if digit > half {
                    digit -= 1 << self.bits;
                    carry = 1;
                }
                if digit != 0 {
                    let mut p = self.table[k * self.windows + j];
                    if digit < 0 {
                        p.y = p.y.neg();
                    }
                    let mut magnitude = digit.unsigned_abs() as usize;
                    for set in 0..sets {
                        let sub = magnitude & mask;
                        if sub != 0 {
                            buckets.add(set * len + sub - 1, p);
                        }
                        magnitude >>= sub_bits;
                    }
                }
            }
            debug_assert_eq!(carry, 0, "the top window never carries");
        }
        buckets.finish();
        let mut total = G::Jacobian::default();
        for set in (0..sets).rev() {
            if set + 1 < sets {
                for _ in 0..sub_bits {
                    G::double(&mut total);
                }
            }
            G::add(&mut total, &buckets.reduce(set * len..(set + 1) * len));
        }
        total
    }
}

/// The sum of a job's partial results.
fn sum<G: Group>(partial: &[G::Jacobian]) -> G::Jacobian {
    let mut sum = G::Jacobian::default();
    for p in partial {
        G::add(&mut sum, p);
    }
    sum
}

/// Buckets per set for sub-digits of `sub_bits` bits of a `bits`-bit window's signed digit,
/// whose magnitude is at most `2^(bits-1)`.
fn bucket_count(sub_bits: usize, bits: usize) -> usize {
    ((1usize << sub_bits) - 1).min(1 << (bits - 1))
}

/// The sub-digit width minimising the estimated cost of a job of `per_job` bases with
/// `windows` windows of `bits` bits, in the units of [`window_bits`]: each set of sub-digits
/// costs a table addition per window and base, and the reduction of its buckets. A large job
/// keeps whole digits (one set); a job of a few hundred bases, a handful of bits.
fn sub_digit_bits(per_job: usize, windows: usize, bits: usize) -> usize {
    (1..=bits)
        .min_by_key(|&b| {
            let sets = bits.div_ceil(b);
            sets * (per_job * windows * 10 + bucket_count(b, bits) * 24)
        })
        .expect("a non-empty range")
}

/// Bits `start..start + bits` of a little-endian 256-bit number (`bits` < 64).
fn window(limbs: &[u64; 4], start: usize, bits: usize) -> u64 {
    let (limb, shift) = (start / 64, start % 64);
    if limb >= limbs.len() {
        return 0;
    }
    let mut v = limbs[limb] >> shift;
    if shift + bits > 64 && limb + 1 < limbs.len() {
        v |= limbs[limb + 1] << (64 - shift);
    }
    v & ((1u64 << bits) - 1)
}

/// Buckets `1..=len` of one job: affine, with the pending batch of additions, plus a
/// Jacobian overflow bucket each for the points that find their bucket already in the batch.
///
/// The overflow keeps every point to one addition whatever the scalars: waiting for the next
/// batch instead would serialise the many points that share a bucket when digits are
/// concentrated (small scalars, the top window's few bits), one inversion per point.
struct Buckets<G: Group> {
    points: Vec<Point<G::Coord>>,
    filled: Vec<bool>,
    /// Buckets with an addition in the pending batch.
    busy: Vec<bool>,
    /// The pending batch: bucket and point to add to it.
    batch: Vec<(usize, Point<G::Coord>)>,
    /// Overflow sums (all-zero, the point at infinity, until used).
    overflow: Vec<G::Jacobian>,
    overflowed: Vec<bool>,
    /// Additions per batch: [`MAX_BATCH`], or a quarter of the buckets if that is less.
    batch_len: usize,
    /// Scratch for the batch: denominators, then their inverses; running products;
    /// numerators of the slopes.
    inverses: Vec<G::Coord>,
    products: Vec<G::Coord>,
    numerators: Vec<G::Coord>,
}

impl<G: Group> Buckets<G> {
    fn new(len: usize) -> Self {
        Buckets {
            points: vec![Point::default(); len],
            filled: vec![false; len],
            busy: vec![false; len],
            batch_len: (len / 4).clamp(1, MAX_BATCH),
            batch: Vec::with_capacity(MAX_BATCH),
            overflow: vec![G::Jacobian::default(); len],
            overflowed: vec![false; len],
            inverses: Vec::with_capacity(MAX_BATCH),
            products: Vec::with_capacity(MAX_BATCH),
            numerators: Vec::with_capacity(MAX_BATCH),
        }
    }

    /// Adds `p` to bucket `b`.
    fn add(&mut self, b: usize, p: Point<G::Coord>) {
        if self.busy[b] {
            G::add_affine(&mut self.overflow[b], &p);
            self.overflowed[b] = true;
        } else if !self.filled[b] {
            self.points[b] = p;
            self.filled[b] = true;
        } else {
            self.busy[b] = true;
            self.batch.push((b, p));
            if self.batch.len() == self.batch_len {
                self.flush();
            }
        }
    }

    /// Runs the pending additions.
    fn finish(&mut self) {
        self.flush();
    }

    /// The pending batch, with one inversion: `λ = (y2 - y1) / (x2 - x1)`, or the tangent
    /// slope `3x² / 2y` when the point equals its bucket; a point meeting its negation empties
    /// the bucket. (`y ≠ 0` on prime-order points, so `2y` is invertible.)
    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        self.inverses.clear();
        self.products.clear();
        self.numerators.clear();
        let mut product = G::Coord::one();
        for &(b, p) in &self.batch {
            let q = &self.points[b];
            let (numerator, denominator) = if !q.x.equals(&p.x) {
                (p.y.sub(&q.y), p.x.sub(&q.x))
            } else if q.y.equals(&p.y) {
                (q.x.square().triple(), q.y.add(&q.y))
            } else {
                (G::Coord::default(), G::Coord::one()) // cancels: nothing to divide
            };
            self.products.push(product);
            product = product.mul(&denominator);
            self.inverses.push(denominator);
            self.numerators.push(numerator);
        }
        let mut inverse = product.inverse();
        for i in (0..self.batch.len()).rev() {
            let denominator = self.inverses[i];
            self.inverses[i] = inverse.mul(&self.products[i]);
            inverse = inverse.mul(&denominator);
        }
        for ((&(b, p), inverse), numerator) in
            self.batch.iter().zip(&self.inverses).zip(&self.numerators)
        {
            self.busy[b] = false;
            let q = &mut self.points[b];
            if q.x.equals(&p.x) && !q.y.equals(&p.y) {
                self.filled[b] = false;
                continue;
            }
            let lambda = numerator.mul(inverse);
            let x = lambda.square().sub(&q.x).sub(&p.x);
            q.y = lambda.mul(&q.x.sub(&x)).sub(&q.y);
            q.x = x;
        }
        self.batch.clear();
    }

    /// `sum (b - range.start + 1) · bucket[b]` over `range`, by running sums from its top
    /// bucket down.
    fn reduce(&self, range: std::ops::Range<usize>) -> G::Jacobian {
        let mut running = G::Jacobian::default();
        let mut total = G::Jacobian::default();
        for b in range.rev() {
            if self.filled[b] {
                G::add_affine(&mut running, &self.points[b]);
            }
            if self.overflowed[b] {
                G::add(&mut running, &self.overflow[b]);
            }
            G::add(&mut total, &running);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{CurveGroup, VariableBaseMSM};
    use ark_ff::{One, UniformRand, Zero};
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn check_g1(bases: &[G1Affine], scalars: &[Fr]) {
        let n = bases.len().min(scalars.len());
        let theirs = G1Projective::msm(&bases[..n], &scalars[..n]).unwrap();
        for preparation in [Preparation::Direct, Preparation::Tables] {
            assert_eq!(
                FixedBases::<G1>::new(bases, preparation).msm(scalars),
                theirs
            );
        }
    }

    fn check_g2(bases: &[G2Affine], scalars: &[Fr]) {
        let n = bases.len().min(scalars.len());
        let theirs = G2Projective::msm(&bases[..n], &scalars[..n]).unwrap();
        for preparation in [Preparation::Direct, Preparation::Tables] {
            assert_eq!(
                FixedBases::<G2>::new(bases, preparation).msm(scalars),
                theirs
            );
        }
    }

    #[test]
    fn montgomery_one_is_blsts() {
        let mut one = blst_fp::default();
        // SAFETY: reads six limbs, writes one element.
        unsafe { blst::blst_fp_from_uint64(&mut one, [1u64, 0, 0, 0, 0, 0].as_ptr()) };
        assert!(one == FP_ONE);
    }

    fn random_g1(n: usize, seed: u64) -> (Vec<G1Affine>, Vec<Fr>) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let points: Vec<G1Projective> = (0..n).map(|_| G1Projective::rand(&mut rng)).collect();
        let scalars = (0..n).map(|_| Fr::rand(&mut rng)).collect();
        (G1Projective::normalize_batch(&points), scalars)
    }

    #[test]
    fn random_g1_and_g2_match_arkworks() {
        for n in [1, 2, 7, 300, 3000] {
            let (bases, scalars) = random_g1(n, n as u64);
            check_g1(&bases, &scalars);
        }
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        let bases: Vec<G2Affine> = (0..500).map(|_| G2Affine::rand(&mut rng)).collect();
        let scalars: Vec<Fr> = (0..500).map(|_| Fr::rand(&mut rng)).collect();
        check_g2(&bases, &scalars);
    }

    #[test]
    fn any_number_of_jobs_gives_the_same_sum() {
        // The tables split the bases into one job per rayon thread: one job (`--threads 1`)
        // and uneven ones must agree with arkworks too.
        let (bases, scalars) = random_g1(1001, 4);
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| check_g1(&bases, &scalars));
        }
    }

    /// One job, so the order of additions is known. With the scalar 1 every base goes to
    /// bucket 1 of window 0: `q` fills it, then `-q` meets it in the batch and cancels it, or
    /// `q` doubles it; further points find it busy and go to its overflow sum. A random scalar
    /// spreads the same over many buckets.
    #[test]
    fn cancelling_and_doubling_inside_one_batch() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let s = Fr::rand(&mut rng);
        let q1 = G1Projective::rand(&mut rng).into_affine();
        let q2 = G2Affine::rand(&mut rng);
        pool.install(|| {
            for s in [Fr::one(), s] {
                check_g1(&[q1, -q1], &[s, s]);
                check_g1(&[q1, q1], &[s, s]);
                check_g1(&[q1, -q1, q1, q1], &[s; 4]);
                check_g2(&[q2, -q2], &[s, s]);
                check_g2(&[q2, q2], &[s, s]);
                check_g2(&[q2, -q2, q2, q2], &[s; 4]);
            }
        });
    }

    /// The window widths the depth-20 key uses (13 and 14 bits), built directly.
    #[test]
    fn production_window_widths_match_arkworks() {
        let (bases, scalars) = random_g1(400, 8);
        let finite: Vec<blst_p1_affine> = bases.iter().map(g1_to_blst).collect();
        let positions: Vec<usize> = (0..bases.len()).collect();
        let theirs = G1Projective::msm(&bases, &scalars).unwrap();
        for (bits, chunk) in [(13, 400), (14, 150)] {
            let tables = Tables::<G1>::new(&finite, chunk, bits);
            let ours = G1::to_ark(&tables.msm(&positions, &scalars));
            assert_eq!(ours, theirs, "{bits}-bit windows");
        }
    }

    /// `msm_sparse` against arkworks' MSM over the named subset: empty, one, a few hundred
    /// (the prover's repeat case) and most of the bases; positions of points at infinity and
    /// past the end add nothing; G2 too.
    #[test]
    fn sparse_sums_match_arkworks_over_the_subset() {
        let (mut bases, scalars) = random_g1(2500, 11);
        bases[7] = G1Affine::zero();
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let g2: Vec<G2Affine> = (0..300).map(|_| G2Affine::rand(&mut rng)).collect();
        // The jobs, and so the sub-digit widths, follow the thread count.
        for (threads, preparation) in [
            (2, Preparation::Direct),
            (1, Preparation::Tables),
            (2, Preparation::Tables),
            (3, Preparation::Tables),
        ] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let fixed = pool.install(|| FixedBases::<G1>::new(&bases, preparation));
            for n in [0usize, 1, 240, 2400] {
                let mut entries: Vec<(usize, Fr)> = rand::seq::index::sample(&mut rng, 2500, n)
                    .into_iter()
                    .map(|i| (i, scalars[i]))
                    .collect();
                entries.sort();
                entries.push((7, Fr::from(3u64)));
                entries.push((2500, Fr::from(5u64)));
                let (points, values): (Vec<G1Affine>, Vec<Fr>) = entries
                    .iter()
                    .filter(|(i, _)| *i < bases.len())
                    .map(|&(i, s)| (bases[i], s))
                    .unzip();
                let theirs = G1Projective::msm(&points, &values).unwrap();
                let ours = pool.install(|| fixed.msm_sparse(&entries));
                assert_eq!(ours, theirs, "{n}, {threads} threads, {preparation:?}");
            }
            // A position named twice counts twice.
            let twice = [(5, scalars[5]), (5, scalars[6])];
            let ours = pool.install(|| fixed.msm_sparse(&twice));
            assert_eq!(ours, bases[5] * (scalars[5] + scalars[6]));
            let entries: Vec<(usize, Fr)> = (0..300).step_by(7).map(|i| (i, scalars[i])).collect();
            let (points, values): (Vec<G2Affine>, Vec<Fr>) =
                entries.iter().map(|&(i, s)| (g2[i], s)).unzip();
            let ours =
                pool.install(|| FixedBases::<G2>::new(&g2, preparation).msm_sparse(&entries));
            assert_eq!(ours, G2Projective::msm(&points, &values).unwrap());
        }
    }

    /// Every sub-digit width, from one bit to the whole window, gives the same sum, small
    /// and repeated scalars included; the cost model keeps whole digits for a large job and
    /// cuts them for a small one.
    #[test]
    fn every_sub_digit_width_gives_the_same_sum() {
        let (mut bases, mut scalars) = random_g1(60, 13);
        // Repeated and negated bases with equal scalars: doubling and cancelling inside the
        // small sub-digit bucket sets.
        let q = bases[0];
        bases.extend([q, q, -q, q]);
        scalars.extend([Fr::from(77u64); 4]);
        scalars[0] = Fr::one();
        scalars[1] = -Fr::one();
        let finite: Vec<blst_p1_affine> = bases.iter().map(g1_to_blst).collect();
        for bits in [4, 13, 14, 16] {
            // The largest digit magnitude of the window, 2^(bits-1).
            scalars[2] = Fr::from(1u64 << (bits - 1));
            let theirs = G1Projective::msm(&bases, &scalars).unwrap();
            let tables = Tables::<G1>::new(&finite, bases.len(), bits);
            for sub_bits in 1..=bits {
                let entries = scalars.iter().enumerate();
                let ours = G1::to_ark(&tables.job(entries, sub_bits));
                assert_eq!(
                    ours, theirs,
                    "{bits}-bit windows, {sub_bits}-bit sub-digits"
                );
            }
        }
        assert_eq!(sub_digit_bits(5000, 20, 13), 13);
        assert!(sub_digit_bits(120, 20, 13) < 13);
    }

    #[test]
    fn exceptional_additions_are_exact() {
        // Repeated bases with equal scalars double in their buckets; a base next to its
        // negation with the same scalar cancels; extreme scalars use every digit.
        let (mut bases, mut scalars) = random_g1(40, 1);
        let p = bases[0];
        for _ in 0..600 {
            bases.push(p);
            scalars.push(Fr::from(5u64));
            bases.push(-p);
            scalars.push(Fr::from(5u64));
            bases.push(p);
            scalars.push(-Fr::one());
        }
        bases.push(G1Affine::zero());
        scalars.push(Fr::from(3u64));
        scalars[3] = Fr::zero();
        scalars[4] = Fr::one();
        scalars[5] = -Fr::one();
        check_g1(&bases, &scalars);
        let q = G2Affine::rand(&mut ChaCha20Rng::seed_from_u64(2));
        let g2 = vec![q, q, -q, q, G2Affine::zero()];
        check_g2(&g2, &[Fr::from(7u64); 5]);
    }

    #[test]
    fn missing_scalars_count_as_zero_and_empty_sets_give_zero() {
        let (bases, scalars) = random_g1(50, 3);
        check_g1(&bases, &scalars[..20]);
        for preparation in [Preparation::Direct, Preparation::Tables] {
            let none = FixedBases::<G1>::new(&[G1Affine::zero(), G1Affine::zero()], preparation);
            assert!(none.msm(&scalars).is_zero());
            assert!(FixedBases::<G1>::new(&[], preparation).msm(&[]).is_zero());
            let none = FixedBases::<G2>::new(&[G2Affine::zero()], preparation);
            assert!(none.msm(&scalars).is_zero());
        }
    }

    #[test]
    fn windows_are_read_across_limbs() {
        let limbs = [u64::MAX, 0, 0x8000_0000_0000_0000, 1];
        assert_eq!(window(&limbs, 60, 8), 0x0f);
        assert_eq!(window(&limbs, 188, 8), 0x18);
        assert_eq!(window(&limbs, 250, 13), 0);
        assert_eq!(window(&limbs, 256, 13), 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn any_scalars_match_arkworks(seed: u64, n in 1usize..200, small in 0u64..4) {
            let (bases, mut scalars) = random_g1(n, seed);
            // Mix in small scalars, which leave most windows empty.
            for s in scalars.iter_mut().step_by(3) {
                *s = Fr::from(small);
            }
            check_g1(&bases, &scalars);
        }
    }
}
