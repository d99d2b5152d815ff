//! The group arithmetic that dominates proving and verifying, done by `blst` (supranational's
//! assembly-optimised BLS12-381 library, used by Ethereum consensus clients and Filecoin).
//!
//! arkworks stays the source of truth for the protocol: keys, proofs, tokens, encodings and
//! every validation of untrusted bytes are arkworks' (a point reaches this module only after
//! arkworks has checked it is on the curve and in the subgroup). This module only computes
//! multi-scalar multiplications and pairing products on those points, about twice as fast as
//! arkworks' generic code on x86-64. Tests pin both backends to each other: the same proof
//! bit for bit (same randomness), the same verdict on valid and tampered tokens.
//!
//! Points cross between the libraries in the uncompressed ZCash encoding both use, so the
//! conversion is a copy of coordinates (plus blst's on-curve check), never a decompression.

use ark_bls12_381::{Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use blst::{
    blst_fp12, blst_p1, blst_p1_affine, blst_p2, blst_p2_affine, p1_affines, p2_affines, BLST_ERROR,
};

/// Bytes of an uncompressed G1 point.
const G1_BYTES: usize = 96;
/// Bytes of an uncompressed G2 point.
const G2_BYTES: usize = 192;
/// Bits of a scalar of `Fr` as blst reads them (little-endian, 32 bytes each).
const SCALAR_BITS: usize = 255;

/// An arkworks G1 point (validated by arkworks) in blst's form.
pub(super) fn g1_to_blst(p: &G1Affine) -> blst_p1_affine {
    let mut bytes = [0u8; G1_BYTES];
    p.serialize_uncompressed(&mut bytes[..])
        .expect("96 bytes hold an uncompressed G1 point");
    let mut out = blst_p1_affine::default();
    // SAFETY: `bytes` is a 96-byte buffer, the length blst reads for an uncompressed point.
    let err = unsafe { blst::blst_p1_deserialize(&mut out, bytes.as_ptr()) };
    assert_eq!(err, BLST_ERROR::BLST_SUCCESS, "arkworks and blst disagree");
    out
}

/// An arkworks G2 point (validated by arkworks) in blst's form.
pub(super) fn g2_to_blst(p: &G2Affine) -> blst_p2_affine {
    let mut bytes = [0u8; G2_BYTES];
    p.serialize_uncompressed(&mut bytes[..])
        .expect("192 bytes hold an uncompressed G2 point");
    let mut out = blst_p2_affine::default();
    // SAFETY: `bytes` is a 192-byte buffer, the length blst reads for an uncompressed point.
    let err = unsafe { blst::blst_p2_deserialize(&mut out, bytes.as_ptr()) };
    assert_eq!(err, BLST_ERROR::BLST_SUCCESS, "arkworks and blst disagree");
    out
}

/// A G1 point computed by blst, back in arkworks' form.
pub(super) fn g1_from_blst(p: &blst_p1) -> G1Projective {
    let mut affine = blst_p1_affine::default();
    let mut bytes = [0u8; G1_BYTES];
    // SAFETY: both pointers are to properly sized, initialised values; `bytes` has 96 bytes.
    unsafe {
        blst::blst_p1_to_affine(&mut affine, p);
        blst::blst_p1_affine_serialize(bytes.as_mut_ptr(), &affine);
    }
    // Our own computation on subgroup points: no need to check the subgroup again.
    G1Affine::deserialize_with_mode(&bytes[..], Compress::No, Validate::No)
        .expect("blst writes valid uncompressed points")
        .into_group()
}

/// A G2 point computed by blst, back in arkworks' form.
pub(super) fn g2_from_blst(p: &blst_p2) -> G2Projective {
    let mut affine = blst_p2_affine::default();
    let mut bytes = [0u8; G2_BYTES];
    // SAFETY: both pointers are to properly sized, initialised values; `bytes` has 192 bytes.
    unsafe {
        blst::blst_p2_to_affine(&mut affine, p);
        blst::blst_p2_affine_serialize(bytes.as_mut_ptr(), &affine);
    }
    G2Affine::deserialize_with_mode(&bytes[..], Compress::No, Validate::No)
        .expect("blst writes valid uncompressed points")
        .into_group()
}

/// Scalars in blst's layout: 32 little-endian bytes each, canonical (not Montgomery) form.
fn scalar_bytes<'a>(scalars: impl Iterator<Item = &'a Fr>) -> Vec<u8> {
    scalars
        .flat_map(|s| s.into_bigint().to_bytes_le())
        .collect()
}

/// Fixed bases of a multi-scalar multiplication (a query of the proving key), prepared once.
/// Points at infinity (variables a query does not use: a third of `B`'s) are dropped, with
/// their positions, so no work is spent on them.
pub(super) struct Bases<P> {
    /// `None` when every point is at infinity (blst refuses an empty set).
    points: Option<P>,
    positions: Vec<usize>,
}

/// Fixed G1 bases.
pub(super) type G1Bases = Bases<p1_affines>;
/// Fixed G2 bases.
pub(super) type G2Bases = Bases<p2_affines>;

impl G1Bases {
    /// Prepares `points` (already validated by arkworks).
    pub(super) fn new(points: &[G1Affine]) -> Self {
        let (positions, points): (Vec<usize>, Vec<blst_p1>) = points
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_zero())
            .map(|(i, p)| {
                let mut q = blst_p1::default();
                // SAFETY: both pointers are to initialised values of the right types.
                unsafe { blst::blst_p1_from_affine(&mut q, &g1_to_blst(p)) };
                (i, q)
            })
            .unzip();
        Bases {
            points: (!points.is_empty()).then(|| p1_affines::from(&points)),
            positions,
        }
    }

    /// `sum scalars[i] * points[i]` (a missing scalar counts as zero).
    pub(super) fn msm(&self, scalars: &[Fr]) -> G1Projective {
        match &self.points {
            None => G1Projective::default(),
            Some(points) => g1_from_blst(&points.mult(&self.scalars(scalars), SCALAR_BITS)),
        }
    }
}

impl G2Bases {
    /// Prepares `points` (already validated by arkworks).
    pub(super) fn new(points: &[G2Affine]) -> Self {
        let (positions, points): (Vec<usize>, Vec<blst_p2>) = points
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_zero())
            .map(|(i, p)| {
                let mut q = blst_p2::default();
                // SAFETY: both pointers are to initialised values of the right types.
                unsafe { blst::blst_p2_from_affine(&mut q, &g2_to_blst(p)) };
                (i, q)
            })
            .unzip();
        Bases {
            points: (!points.is_empty()).then(|| p2_affines::from(&points)),
            positions,
        }
    }

    /// `sum scalars[i] * points[i]` (a missing scalar counts as zero).
    pub(super) fn msm(&self, scalars: &[Fr]) -> G2Projective {
        match &self.points {
            None => G2Projective::default(),
            Some(points) => g2_from_blst(&points.mult(&self.scalars(scalars), SCALAR_BITS)),
        }
    }
}

impl<P> Bases<P> {
    /// The scalars of the kept points, in blst's layout.
    fn scalars(&self, scalars: &[Fr]) -> Vec<u8> {
        let zero = Fr::from(0u64);
        scalar_bytes(
            self.positions
                .iter()
                .map(|&i| scalars.get(i).unwrap_or(&zero)),
        )
    }
}

/// The pairs whose points are both finite. blst's Miller loop requires finite points (at
/// infinity it computes a meaningless value instead of 1), while a token may legitimately
/// or maliciously carry the point at infinity, whose pairing with anything is 1: such pairs
/// are left out, which is exactly their contribution.
fn finite_pairs(
    g1: &[blst_p1_affine],
    g2: &[blst_p2_affine],
) -> (Vec<blst_p1_affine>, Vec<blst_p2_affine>) {
    assert_eq!(g1.len(), g2.len(), "one G2 point per G1 point");
    g1.iter()
        .zip(g2)
        // SAFETY: both functions only read initialised points.
        .filter(|(p, q)| unsafe {
            !blst::blst_p1_affine_is_inf(*p) && !blst::blst_p2_affine_is_inf(*q)
        })
        .map(|(p, q)| (*p, *q))
        .unzip()
}

/// One in the target group (the empty product).
fn fp12_one() -> blst_fp12 {
    // SAFETY: blst returns a pointer to its static constant one.
    unsafe { *blst::blst_fp12_one() }
}

/// The Miller loop of `prod e(g1[i], g2[i])` on the calling thread. blst's `miller_loop_n`
/// hands pairs to its thread pool; for the three pairs of one token the hand-off costs more
/// than it saves, and under concurrent requests tokens would queue behind each other there.
pub(super) fn miller_loop_here(g1: &[blst_p1_affine], g2: &[blst_p2_affine]) -> blst_fp12 {
    let (g1, g2) = finite_pairs(g1, g2);
    if g1.is_empty() {
        return fp12_one();
    }
    let ps: [*const blst_p1_affine; 2] = [g1.as_ptr(), std::ptr::null()];
    let qs: [*const blst_p2_affine; 2] = [g2.as_ptr(), std::ptr::null()];
    let mut out = blst_fp12::default();
    // SAFETY: as blst's own single-threaded path: `qs[0]` and `ps[0]` point to `len`
    // contiguous initialised finite points each (the null entry says they are contiguous).
    unsafe { blst::blst_miller_loop_n(&mut out, qs.as_ptr(), ps.as_ptr(), g1.len()) };
    out
}

/// Whether `prod e(g1[i], g2[i]) = 1`: one multi-Miller loop (blst spreads it over its
/// threads when there are many pairs) and one final exponentiation.
pub(super) fn pairing_product_is_one(g1: &[blst_p1_affine], g2: &[blst_p2_affine]) -> bool {
    let (g1, g2) = finite_pairs(g1, g2);
    if g1.is_empty() {
        return true;
    }
    let ml = blst_fp12::miller_loop_n(&g2, &g1);
    // SAFETY: `final_exp` returns an initialised value; `blst_fp12_is_one` only reads it.
    unsafe { blst::blst_fp12_is_one(&ml.final_exp()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bls12_381::Bls12_381;
    use ark_ec::{pairing::Pairing, CurveGroup, VariableBaseMSM};
    use ark_ff::UniformRand;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn points_round_trip_between_libraries() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for _ in 0..8 {
            let p = G1Projective::rand(&mut rng);
            let mut q = blst_p1::default();
            unsafe { blst::blst_p1_from_affine(&mut q, &g1_to_blst(&p.into_affine())) };
            assert_eq!(g1_from_blst(&q), p);
            let p = G2Projective::rand(&mut rng);
            let mut q = blst_p2::default();
            unsafe { blst::blst_p2_from_affine(&mut q, &g2_to_blst(&p.into_affine())) };
            assert_eq!(g2_from_blst(&q), p);
        }
    }

    #[test]
    fn infinity_crosses_too() {
        // A malicious token may carry the point at infinity (it is in every subgroup): the
        // conversion must not panic, and pairing with it must behave as the identity.
        let (o1, o2) = (g1_to_blst(&G1Affine::zero()), g2_to_blst(&G2Affine::zero()));
        let mut p = blst_p1::default();
        unsafe { blst::blst_p1_from_affine(&mut p, &o1) };
        assert_eq!(g1_from_blst(&p), G1Projective::default());
        let mut q = blst_p2::default();
        unsafe { blst::blst_p2_from_affine(&mut q, &o2) };
        assert_eq!(g2_from_blst(&q), G2Projective::default());
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let a = g1_to_blst(&G1Projective::rand(&mut rng).into_affine());
        let b = g2_to_blst(&G2Projective::rand(&mut rng).into_affine());
        assert!(pairing_product_is_one(&[o1], &[b]));
        assert!(pairing_product_is_one(&[a], &[o2]));
        assert!(!pairing_product_is_one(&[a], &[b]));
        assert!(!pairing_product_is_one(&[a, o1], &[b, b]));
        let one = |ml: blst_fp12| unsafe { blst::blst_fp12_is_one(&ml.final_exp()) };
        assert!(one(miller_loop_here(&[o1, a], &[b, o2])));
        assert!(!one(miller_loop_here(&[o1, a], &[b, b])));
    }

    #[test]
    fn msm_matches_arkworks_and_skips_infinity() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let mut g1: Vec<G1Affine> = (0..100)
            .map(|_| G1Projective::rand(&mut rng).into_affine())
            .collect();
        let mut g2: Vec<G2Affine> = (0..40)
            .map(|_| G2Projective::rand(&mut rng).into_affine())
            .collect();
        g1[3] = G1Affine::zero();
        g2[7] = G2Affine::zero();
        let mut scalars: Vec<Fr> = (0..100).map(|_| Fr::rand(&mut rng)).collect();
        scalars[5] = Fr::from(0u64);
        scalars[6] = Fr::from(1u64);
        scalars[8] = -Fr::from(1u64);
        assert_eq!(
            G1Bases::new(&g1).msm(&scalars),
            G1Projective::msm(&g1, &scalars).unwrap()
        );
        assert_eq!(
            G2Bases::new(&g2).msm(&scalars[..40]),
            G2Projective::msm(&g2, &scalars[..40]).unwrap()
        );
        assert_eq!(G1Bases::new(&[]).msm(&[]), G1Projective::default());
        assert_eq!(
            G2Bases::new(&[G2Affine::zero()]).msm(&scalars[..1]),
            G2Projective::default()
        );
    }

    #[test]
    fn pairing_product_agrees_with_arkworks() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let a = G1Projective::rand(&mut rng);
        let b = G2Projective::rand(&mut rng);
        let x = Fr::rand(&mut rng);
        // e(xa, b) * e(-a, xb) = 1, and not with a changed scalar.
        let holds = |y: Fr| {
            let g1 = [(a * x).into_affine(), (-a).into_affine()];
            let g2 = [b.into_affine(), (b * y).into_affine()];
            let ark = Bls12_381::multi_pairing(g1, g2).0
                == <Bls12_381 as Pairing>::TargetField::from(1u64);
            let ours =
                pairing_product_is_one(&g1.map(|p| g1_to_blst(&p)), &g2.map(|p| g2_to_blst(&p)));
            assert_eq!(ark, ours);
            ours
        };
        assert!(holds(x));
        assert!(!holds(x + Fr::from(1u64)));
    }
}
