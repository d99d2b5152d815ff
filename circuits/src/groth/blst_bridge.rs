//! The group arithmetic that dominates proving and verifying, done by `blst` (supranational's
//! assembly-optimised BLS12-381 library, used by Ethereum consensus clients and Filecoin).
//!
//! arkworks stays the source of truth for the protocol: keys, proofs, tokens and encodings are
//! arkworks'. This module converts points between the two and computes pairing products,
//! about twice as fast as arkworks' generic code on x86-64; the prover's multi-scalar
//! multiplications ([`super::fixed_msm`]) run on blst's field arithmetic too. Tests pin both
//! backends to each other: the same proof bit for bit (same randomness), the same verdict on
//! valid and tampered tokens.
//!
//! One validation of untrusted bytes is blst's: decompressing a proof's points
//! ([`decompress_g1`], [`decompress_g2`]: on the curve, canonical encoding, in the prime-order
//! subgroup). Every validator decompresses every token it sees, and arkworks' generic square
//! root and subgroup check made that a third of a validator's CPU; blst does the same checks
//! several times faster. A differential test pins the two decoders to each other on valid,
//! mutated and random bytes (same verdict, same point).
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

/// `r_i · P_i` for each arkworks point `P_i` (validated by arkworks) and 128-bit scalar
/// `r_i`, by blst's scalar multiplication on 128 bits, in parallel, returned affine with one
/// shared inversion. A point at infinity stays at infinity. (arkworks' generic double-and-add
/// and one inversion per point cost about three times as much: it was a third of a batch
/// verification.)
pub(super) fn g1_scaled(points: &[G1Affine], scalars: &[u128]) -> Vec<blst_p1_affine> {
    use rayon::prelude::*;
    assert_eq!(points.len(), scalars.len(), "one scalar per point");
    let scaled: Vec<blst_p1> = points
        .par_iter()
        .zip(scalars)
        .map(|(p, r)| {
            let affine = g1_to_blst(p);
            let le = r.to_le_bytes();
            let (mut point, mut out) = (blst_p1::default(), blst_p1::default());
            // SAFETY: blst reads an initialised affine point and 16 scalar bytes (128 bits),
            // and writes initialised points.
            unsafe {
                blst::blst_p1_from_affine(&mut point, &affine);
                blst::blst_p1_mult(&mut out, &point, le.as_ptr(), 128);
            }
            out
        })
        .collect();
    let mut out = vec![blst_p1_affine::default(); scaled.len()];
    if !scaled.is_empty() {
        let list: [*const blst_p1; 2] = [scaled.as_ptr(), std::ptr::null()];
        // SAFETY: `list[0]` points to `scaled.len()` contiguous initialised points (the null
        // entry says they are contiguous); `out` has room for as many.
        unsafe { blst::blst_p1s_to_affine(out.as_mut_ptr(), list.as_ptr(), scaled.len()) };
    }
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

/// Decompresses a ZCash-encoded G1 point (48 bytes), checking that it is on the curve, its
/// encoding canonical and the point in the prime-order subgroup; `None` otherwise.
pub fn decompress_g1(bytes: &[u8; 48]) -> Option<G1Affine> {
    let mut p = blst_p1_affine::default();
    // SAFETY: `bytes` holds the 48 bytes blst reads; `p` is an initialised output.
    let ok = unsafe {
        blst::blst_p1_uncompress(&mut p, bytes.as_ptr()) == BLST_ERROR::BLST_SUCCESS
            && blst::blst_p1_affine_in_g1(&p)
    };
    if !ok {
        return None;
    }
    let mut out = [0u8; G1_BYTES];
    // SAFETY: `out` has the 96 bytes blst writes.
    unsafe { blst::blst_p1_affine_serialize(out.as_mut_ptr(), &p) };
    // Checked by blst just above.
    G1Affine::deserialize_with_mode(&out[..], Compress::No, Validate::No).ok()
}

/// [`decompress_g1`] for a G2 point (96 bytes).
pub fn decompress_g2(bytes: &[u8; 96]) -> Option<G2Affine> {
    let mut p = blst_p2_affine::default();
    // SAFETY: `bytes` holds the 96 bytes blst reads; `p` is an initialised output.
    let ok = unsafe {
        blst::blst_p2_uncompress(&mut p, bytes.as_ptr()) == BLST_ERROR::BLST_SUCCESS
            && blst::blst_p2_affine_in_g2(&p)
    };
    if !ok {
        return None;
    }
    let mut out = [0u8; G2_BYTES];
    // SAFETY: `out` has the 192 bytes blst writes.
    unsafe { blst::blst_p2_affine_serialize(out.as_mut_ptr(), &p) };
    G2Affine::deserialize_with_mode(&out[..], Compress::No, Validate::No).ok()
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

    fn ark_g1(bytes: &[u8; 48]) -> Option<G1Affine> {
        G1Affine::deserialize_compressed(&bytes[..]).ok()
    }

    fn ark_g2(bytes: &[u8; 96]) -> Option<G2Affine> {
        G2Affine::deserialize_compressed(&bytes[..]).ok()
    }

    /// Every bit of `valid` flipped in turn, plus truncated-to-zero and all-ones forms.
    fn mutations<const N: usize>(valid: [u8; N]) -> Vec<[u8; N]> {
        let mut out = vec![valid, [0u8; N], [0xff; N]];
        for bit in 0..N * 8 {
            let mut m = valid;
            m[bit / 8] ^= 1 << (bit % 8);
            out.push(m);
        }
        out
    }

    #[test]
    fn decoders_agree_on_valid_mutated_foreign_and_random_bytes() {
        use ark_ff::Field;
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let mut g1_cases: Vec<[u8; 48]> = Vec::new();
        let mut g2_cases: Vec<[u8; 96]> = Vec::new();
        for i in 0..4 {
            let mut b = [0u8; 48];
            G1Projective::rand(&mut rng)
                .into_affine()
                .serialize_compressed(&mut b[..])
                .unwrap();
            g1_cases.extend(mutations(b));
            let mut b = [0u8; 96];
            G2Projective::rand(&mut rng)
                .into_affine()
                .serialize_compressed(&mut b[..])
                .unwrap();
            g2_cases.extend(mutations(b));
            // On the curve, outside the prime-order subgroup (no cofactor clearing).
            let mut x = ark_bls12_381::Fq::from(i as u64 + 11);
            let p1 = loop {
                if let Some(p) = G1Affine::get_point_from_x_unchecked(x, i % 2 == 0) {
                    break p;
                }
                x += ark_bls12_381::Fq::ONE;
            };
            assert!(!p1.is_in_correct_subgroup_assuming_on_curve());
            let mut b = [0u8; 48];
            p1.serialize_compressed(&mut b[..]).unwrap();
            g1_cases.push(b);
            let mut x = ark_bls12_381::Fq2::from(i as u64 + 5);
            let p2 = loop {
                if let Some(p) = G2Affine::get_point_from_x_unchecked(x, i % 2 == 1) {
                    break p;
                }
                x += ark_bls12_381::Fq2::ONE;
            };
            assert!(!p2.is_in_correct_subgroup_assuming_on_curve());
            let mut b = [0u8; 96];
            p2.serialize_compressed(&mut b[..]).unwrap();
            g2_cases.push(b);
        }
        // Infinity, well and badly formed; an x at or above the modulus.
        let mut inf1 = [0u8; 48];
        inf1[0] = 0xc0;
        g1_cases.extend(mutations(inf1));
        let mut inf2 = [0u8; 96];
        inf2[0] = 0xc0;
        g2_cases.extend(mutations(inf2));
        let mut big = [0xffu8; 48];
        big[0] = 0x9f;
        g1_cases.push(big);
        for _ in 0..256 {
            let mut b = [0u8; 48];
            rand::RngCore::fill_bytes(&mut rng, &mut b);
            g1_cases.push(b);
            let mut b = [0u8; 96];
            rand::RngCore::fill_bytes(&mut rng, &mut b);
            g2_cases.push(b);
        }
        let (mut accepted, mut refused) = (0, 0);
        for b in &g1_cases {
            let ours = decompress_g1(b);
            assert_eq!(ours, ark_g1(b), "G1 {}", hex(b));
            if ours.is_some() {
                accepted += 1
            } else {
                refused += 1
            }
        }
        for b in &g2_cases {
            let ours = decompress_g2(b);
            assert_eq!(ours, ark_g2(b), "G2 {}", hex(b));
            if ours.is_some() {
                accepted += 1
            } else {
                refused += 1
            }
        }
        // Both outcomes are exercised.
        assert!(
            accepted >= 10 && refused >= 1000,
            "{accepted} accepted, {refused} refused"
        );
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

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
    fn scaled_points_agree_with_arkworks() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let mut points: Vec<G1Affine> = (0..9)
            .map(|_| G1Projective::rand(&mut rng).into_affine())
            .collect();
        points.push(G1Affine::zero());
        let mut scalars: Vec<u128> = (0..points.len())
            .map(|_| rand::Rng::gen(&mut rng))
            .collect();
        scalars[0] = 0;
        scalars[1] = 1;
        scalars[2] = u128::MAX;
        let ours = g1_scaled(&points, &scalars);
        for ((p, r), q) in points.iter().zip(&scalars).zip(&ours) {
            let mut j = blst_p1::default();
            unsafe { blst::blst_p1_from_affine(&mut j, q) };
            assert_eq!(g1_from_blst(&j), *p * Fr::from(*r), "r = {r}");
        }
        assert!(g1_scaled(&[], &[]).is_empty());
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
