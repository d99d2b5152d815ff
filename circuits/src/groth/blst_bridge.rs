//! The group arithmetic that dominates proving and verifying, done by `blst` (supranational's
//! assembly-optimised BLS12-381 library, used by Ethereum consensus clients and Filecoin).
//!
//! arkworks stays the source of truth for the protocol: keys, proofs, tokens, encodings and
//! every validation of untrusted bytes are arkworks' (a point reaches this module only after
//! arkworks has checked it is on the curve and in the subgroup). This module converts points
//! between the two and computes pairing products, about twice as fast as arkworks' generic
//! code on x86-64; the prover's multi-scalar multiplications ([`super::fixed_msm`]) run on
//! blst's field arithmetic too. Tests pin both backends to each other: the same proof bit for
//! bit (same randomness), the same verdict on valid and tampered tokens.
//!
//! Points cross between the libraries in the uncompressed ZCash encoding both use, so the
//! conversion is a copy of coordinates (plus blst's on-curve check), never a decompression.

use ark_bls12_381::{G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::AffineRepr;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};
use blst::{blst_fp12, blst_p1, blst_p1_affine, blst_p2, blst_p2_affine, BLST_ERROR};

/// Bytes of an uncompressed G1 point.
const G1_BYTES: usize = 96;
/// Bytes of an uncompressed G2 point.
const G2_BYTES: usize = 192;

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
    use ark_bls12_381::Fr;
    use ark_ec::{pairing::Pairing, CurveGroup};
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
