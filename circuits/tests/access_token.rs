//! The access circuit end to end: Groth16 tokens accepted when the statement holds and rejected
//! for every way it can fail.

mod common;

use ark_bls12_381::{Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::CurveGroup;
use ark_ff::{Field, UniformRand};
use ark_groth16::Groth16;
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use ark_serialize::CanonicalSerialize;
use ark_snark::SNARK;
use common::*;
use consentry_circuits::access::{AccessCircuit, AccessWitness, PublicInputs, StatementError};
use consentry_circuits::credential::{Credential, InstitutionId, Role};
use consentry_circuits::escrow;
use consentry_circuits::groth::{ProveError, VerifyError};
use consentry_circuits::token::{Token, TokenError, TOKEN_LEN};
use consentry_circuits::{field, groth};
use proptest::prelude::*;
use rand::SeedableRng;

fn satisfied(public: PublicInputs, witness: AccessWitness) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    AccessCircuit::new(public, witness)
        .generate_constraints(cs.clone())
        .unwrap();
    cs.is_satisfied().unwrap()
}

/// Proves without the native pre-check, as a cheating prover would.
fn forced_token(public: PublicInputs, witness: AccessWitness) -> Token {
    let pk = groth::setup_from_seed(DEPTH, [7u8; 32]).unwrap().0;
    let proof =
        Groth16::<groth::Curve>::prove(&pk, AccessCircuit::new(public, witness), &mut rng(9))
            .unwrap();
    Token {
        depth: DEPTH as u8,
        proof,
        public,
        escrow: None,
    }
}

#[test]
fn valid_token_verifies_and_round_trips() {
    let w = world();
    assert!(satisfied(w.public("s1", 2), w.witness()));
    let token = w.token("s1", 1);
    keys().verifier.verify(&token).unwrap();
    let bytes = token.to_bytes();
    assert_eq!(bytes.len(), TOKEN_LEN);
    assert_eq!(Token::from_bytes(&bytes).unwrap(), token);
    let json = serde_json::to_string(&token).unwrap();
    assert_eq!(serde_json::from_str::<Token>(&json).unwrap(), token);
}

#[test]
fn changing_any_public_input_breaks_verification() {
    let w = world();
    let token = w.token("s1", 2);
    type Mutation = Box<dyn Fn(&mut PublicInputs)>;
    let mutations: Vec<(&str, Mutation)> = vec![
        ("root", Box::new(|p| p.root += Fr::ONE)),
        ("scope", Box::new(|p| p.scope = field::access_scope("s2"))),
        ("pseudonym", Box::new(|p| p.pseudonym += Fr::ONE)),
        (
            "message",
            Box::new(|p| p.message = field::message_for_body(b"other body")),
        ),
        ("role", Box::new(|p| p.role = Role::Research)),
        ("issuer_id", Box::new(|p| p.issuer_id += 1)),
        ("min_level", Box::new(|p| p.min_level -= 1)),
        ("today", Box::new(|p| p.today -= 1)),
    ];
    for (name, mutate) in mutations {
        let mut t = token.clone();
        mutate(&mut t.public);
        assert_eq!(
            keys().verifier.verify(&t),
            Err(VerifyError::ProofInvalid),
            "{name}"
        );
    }
}

#[test]
fn a_token_against_an_older_root_is_not_in_a_window_of_one() {
    let mut w = world();
    let token = w.token("s1", 3);
    let other = consentry_circuits::credential::SecretKey::random(&mut rng(77));
    w.tree
        .append(
            Credential {
                id: other.id(),
                attributes: hospital_attrs(),
            }
            .leaf(),
        )
        .unwrap();
    // The proof is still a valid proof for the old root; the window is what refuses it.
    keys().verifier.verify(&token).unwrap();
    assert!(w.tree.is_recent_root(&token.public.root, 2));
    assert!(!w.tree.is_recent_root(&token.public.root, 1));
    // And it cannot be moved to the new root.
    let mut moved = token.clone();
    moved.public.root = w.tree.root();
    assert_eq!(
        keys().verifier.verify(&moved),
        Err(VerifyError::ProofInvalid)
    );
}

#[test]
fn level_below_minimum_is_refused_and_cannot_be_forced() {
    let w = world();
    let public = w.public("s1", 4); // level is 3
    let err = keys()
        .prover
        .prove(&w.witness(), public, &mut rng(4))
        .unwrap_err();
    assert!(matches!(
        err,
        ProveError::Statement(StatementError::LevelTooLow { min_level: 4 })
    ));
    assert!(!satisfied(public, w.witness()));
    assert_eq!(
        keys().verifier.verify(&forced_token(public, w.witness())),
        Err(VerifyError::ProofInvalid)
    );
    // Equal level passes.
    keys()
        .verifier
        .verify(
            &keys()
                .prover
                .prove(&w.witness(), w.public("s1", 3), &mut rng(5))
                .unwrap(),
        )
        .unwrap();
}

#[test]
fn expired_credential_is_refused_and_cannot_be_forced() {
    let mut attrs = hospital_attrs();
    attrs.expiry_day = TODAY - 1;
    let w = world_with(attrs, 2);
    let public = w.public("s1", 1);
    let err = keys()
        .prover
        .prove(&w.witness(), public, &mut rng(6))
        .unwrap_err();
    assert!(matches!(
        err,
        ProveError::Statement(StatementError::Expired { .. })
    ));
    assert!(!satisfied(public, w.witness()));
    assert_eq!(
        keys().verifier.verify(&forced_token(public, w.witness())),
        Err(VerifyError::ProofInvalid)
    );
    // Expiring today is still valid today.
    let mut attrs = hospital_attrs();
    attrs.expiry_day = TODAY;
    let w = world_with(attrs, 2);
    keys().verifier.verify(&w.token("s1", 7)).unwrap();
}

#[test]
fn revoked_credential_cannot_prove_against_the_new_root() {
    let mut w = world();
    w.tree.revoke(w.index).unwrap();
    let public = w.public("s1", 1);
    // The old path no longer leads to the current root.
    let mut stale = w.witness();
    stale.path = w.tree.path(w.index).unwrap();
    assert_eq!(
        stale.check(&public, DEPTH),
        Err(StatementError::NotInRegistry)
    );
    assert!(!satisfied(public, stale.clone()));
    assert_eq!(
        keys().verifier.verify(&forced_token(public, stale)),
        Err(VerifyError::ProofInvalid)
    );
}

#[test]
fn wrong_pseudonym_or_secret_cannot_be_forced() {
    let w = world();
    let mut public = w.public("s1", 1);
    public.pseudonym = w.sk.pseudonym(field::access_scope("s2"));
    assert!(!satisfied(public, w.witness()));
    assert_eq!(
        keys().verifier.verify(&forced_token(public, w.witness())),
        Err(VerifyError::ProofInvalid)
    );
}

#[test]
fn flipped_or_truncated_bytes_are_rejected() {
    let token = world().token("s1", 8);
    let bytes = token.to_bytes();
    assert!(matches!(
        Token::from_bytes(&bytes[..bytes.len() - 1]),
        Err(TokenError::Length { .. })
    ));
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        Token::from_bytes(&longer),
        Err(TokenError::Length { .. })
    ));
    // Flip one bit in every byte position in turn: decoding fails or the proof does not verify.
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        if let Ok(t) = Token::from_bytes(&b) {
            assert!(
                keys().verifier.verify(&t).is_err(),
                "flip at byte {i} still verifies"
            );
        }
    }
}

fn off_curve_g1() -> [u8; 48] {
    // Find an x with no curve point: the compressed encoding of it must be rejected.
    let mut x = Fr::from(1u64);
    loop {
        let xb = ark_bls12_381::Fq::from(x.into_bigint_u64());
        if G1Affine::get_point_from_x_unchecked(xb, false).is_none() {
            let mut out = [0u8; 48];
            xb.serialize_compressed(&mut out[..]).unwrap();
            out.reverse(); // arkworks Fq serializes little-endian; points are big-endian
            out[0] |= 0x80; // compressed flag
            return out;
        }
        x += Fr::ONE;
    }
}

trait SmallInt {
    fn into_bigint_u64(self) -> u64;
}
impl SmallInt for Fr {
    fn into_bigint_u64(self) -> u64 {
        use ark_ff::PrimeField;
        self.into_bigint().0[0]
    }
}

fn outside_subgroup_g1() -> [u8; 48] {
    // A point on the curve but not in the prime-order subgroup (the cofactor is large, so the
    // first on-curve x almost surely gives one; we check).
    let mut x = 1u64;
    loop {
        if let Some(p) = G1Affine::get_point_from_x_unchecked(ark_bls12_381::Fq::from(x), false) {
            if !p.is_in_correct_subgroup_assuming_on_curve() {
                let mut out = [0u8; 48];
                p.serialize_compressed(&mut out[..]).unwrap();
                return out;
            }
        }
        x += 1;
    }
}

#[test]
fn invalid_points_are_rejected_when_decoding() {
    let token = world().token("s1", 10);
    let bytes = token.to_bytes();
    let a_at = 6;
    let c_at = 6 + 48 + 96;
    for (name, point, at) in [
        ("off-curve A", off_curve_g1(), a_at),
        ("off-subgroup A", outside_subgroup_g1(), a_at),
        ("off-subgroup C", outside_subgroup_g1(), c_at),
    ] {
        let mut b = bytes.clone();
        b[at..at + 48].copy_from_slice(&point);
        let err = Token::from_bytes(&b).unwrap_err();
        assert!(matches!(err, TokenError::Point(_)), "{name}: {err:?}");
    }
    // G2: random bytes with the compression flag are essentially never a valid point.
    let mut b = bytes.clone();
    b[a_at + 48..a_at + 48 + 96].fill(0x5a);
    b[a_at + 48] |= 0x80;
    assert_eq!(Token::from_bytes(&b).unwrap_err(), TokenError::Point("B"));
    // The JSON form validates the same way.
    let mut json: serde_json::Value = serde_json::to_value(&token).unwrap();
    let mut proof = hex::decode(json["proof"].as_str().unwrap()).unwrap();
    proof[..48].copy_from_slice(&outside_subgroup_g1());
    json["proof"] = hex::encode(proof).into();
    assert!(serde_json::from_value::<Token>(json).is_err());
}

#[test]
fn batch_accepts_all_valid_and_finds_the_bad_one_among_64() {
    let worlds: Vec<World> = (0..4)
        .map(|i| world_with(hospital_attrs(), 100 + i))
        .collect();
    let distinct: Vec<Token> = (0..8)
        .map(|i| worlds[i % 4].token(&format!("s{i}"), 200 + i as u64))
        .collect();
    let mut batch: Vec<Token> = (0..64).map(|i| distinct[i % 8].clone()).collect();
    keys().verifier.verify_batch(&batch).unwrap();
    batch[37].public.message += Fr::ONE;
    assert_eq!(
        keys().verifier.verify_batch(&batch).unwrap_err().bad,
        vec![37]
    );
    batch[5].public.today += 1;
    assert_eq!(
        keys().verifier.verify_batch(&batch).unwrap_err().bad,
        vec![5, 37]
    );
    keys().verifier.verify_batch(&[]).unwrap();
}

#[test]
fn points_at_infinity_in_a_proof_are_rejected_not_mishandled() {
    // The identity is in every subgroup, so decoding accepts it; the verifier must treat its
    // pairings as 1 (blst's Miller loop alone would not) and refuse the token.
    use ark_ec::AffineRepr;
    let valid = world().token("s-inf", 31);
    let variants = [
        Token {
            proof: groth::Proof {
                a: G1Affine::zero(),
                ..valid.proof
            },
            ..valid
        },
        Token {
            proof: groth::Proof {
                b: G2Affine::zero(),
                ..valid.proof
            },
            ..valid
        },
        Token {
            proof: groth::Proof {
                c: G1Affine::zero(),
                ..valid.proof
            },
            ..valid
        },
        Token {
            proof: groth::Proof {
                a: G1Affine::zero(),
                b: G2Affine::zero(),
                c: G1Affine::zero(),
            },
            ..valid
        },
    ];
    for (i, t) in variants.iter().enumerate() {
        let decoded = Token::from_bytes(&t.to_bytes()).expect("the identity decodes");
        assert_eq!(
            keys().verifier.verify(&decoded),
            Err(VerifyError::ProofInvalid),
            "variant {i}"
        );
        let batch = [valid.clone(), decoded, valid.clone()];
        assert_eq!(
            keys().verifier.verify_batch(&batch).unwrap_err().bad,
            vec![1]
        );
    }
}

#[test]
fn wrong_depth_is_named() {
    let mut token = world().token("s1", 11);
    token.depth = 20;
    assert_eq!(
        keys().verifier.verify(&token),
        Err(VerifyError::DepthMismatch {
            token: 20,
            key: DEPTH
        })
    );
    assert_eq!(
        keys().verifier.verify_batch(&[token]).unwrap_err().bad,
        vec![0]
    );
}

#[test]
fn constraint_count_at_depth_20_is_pinned() {
    let cs = ConstraintSystem::<Fr>::new_ref();
    AccessCircuit::blank(20)
        .generate_constraints(cs.clone())
        .unwrap();
    cs.finalize();
    assert_eq!(cs.num_constraints(), CONSTRAINTS_D20);
    assert_eq!(cs.num_instance_variables(), 1 + 8);
    assert!(
        cs.num_constraints() + cs.num_instance_variables() <= 4096,
        "fits a 4,096-point domain"
    );
}

/// Width 3 for the identity and the pseudonym (240 each), width 7 for the leaf (354), 10 levels
/// of the 4-ary path at 303 (297 for the width-5 node hash, 4 for the placement, 2 index bits),
/// 50 for the two range-checked differences (16 + 1 and 32 + 1), and the root and pseudonym
/// equalities and the message square (3): 3,917. Less the 3 constraints of the S-box that
/// `H_id`'s constant zero padding keeps constant: 3,914. With the 9 instance variables that is
/// 3,923, inside a 4,096-point QAP domain.
const CONSTRAINTS_D20: usize = 3914;

fn random_token(seed: u64) -> Token {
    let mut r = rng(seed);
    let proof = groth::Proof {
        a: G1Projective::rand(&mut r).into_affine(),
        b: ark_bls12_381::G2Projective::rand(&mut r).into_affine(),
        c: G1Projective::rand(&mut r).into_affine(),
    };
    let _: G2Affine = proof.b;
    Token {
        depth: (seed % 33) as u8,
        proof,
        public: PublicInputs {
            root: Fr::rand(&mut r),
            scope: Fr::rand(&mut r),
            pseudonym: Fr::rand(&mut r),
            message: Fr::rand(&mut r),
            role: Role::ALL[(seed % 5) as usize],
            issuer_id: seed as u32,
            min_level: (seed >> 7) as u16,
            today: (seed >> 13) as u32,
        },
        // Every other token escrowed: both encodings carry both variants.
        escrow: (seed % 2 == 1).then(|| random_escrow(&mut r)),
    }
}

fn random_escrow(r: &mut impl rand::RngCore) -> escrow::Escrow {
    let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(r.next_u64());
    let key = escrow::InspectorSecret::random(&mut r).public();
    escrow::encrypt(&InstitutionId(Fr::rand(&mut r)), &key, &mut r).0
}

/// An escrowed token's binary form is version 2, 64 bytes longer; its escrow is validated
/// like the proof (length, `c1` in Jubjub's subgroup and not the identity, `c2` canonical),
/// and a plain token's bytes with escrow bytes appended (or the other way round) are refused.
#[test]
fn escrowed_token_encodings_refuse_a_bad_escrow() {
    use consentry_circuits::token::{ESCROWED_TOKEN_LEN, TOKEN_VERSION_ESCROW};
    let t = random_token(1);
    assert!(t.escrow.is_some());
    let bytes = t.to_bytes();
    assert_eq!(
        (bytes.len(), bytes[4]),
        (ESCROWED_TOKEN_LEN, TOKEN_VERSION_ESCROW)
    );
    assert!(matches!(
        Token::from_bytes(&bytes[..TOKEN_LEN]),
        Err(TokenError::Length {
            expected: ESCROWED_TOKEN_LEN,
            got: TOKEN_LEN
        })
    ));
    let mut plain = random_token(2).to_bytes();
    plain.extend_from_slice(&bytes[TOKEN_LEN..]);
    assert!(matches!(
        Token::from_bytes(&plain),
        Err(TokenError::Length { .. })
    ));
    // c1 = the identity (y = 1, x = 0), c1 off the curve, c2 = the modulus.
    let mut identity = bytes.clone();
    identity[TOKEN_LEN..TOKEN_LEN + 32].fill(0);
    identity[TOKEN_LEN] = 1;
    let mut off = bytes.clone();
    off[TOKEN_LEN..TOKEN_LEN + 32].fill(0x5a);
    let mut big = bytes.clone();
    big[TOKEN_LEN + 32..].fill(0xff);
    for bad in [identity, off, big] {
        assert!(matches!(
            Token::from_bytes(&bad),
            Err(TokenError::Escrow(_))
        ));
    }
    // JSON: a short escrow, bad hex, a random 64 bytes (c1 off the curve).
    let json = serde_json::to_value(&t).unwrap();
    let e = json["escrow"].as_str().unwrap().to_string();
    assert_eq!(e.len(), 128);
    for bad in [&e[..126], "zz", &"5a".repeat(64)] {
        let mut j = json.clone();
        j["escrow"] = bad.into();
        let err = serde_json::from_value::<Token>(j).unwrap_err().to_string();
        assert!(err.contains("escrow"), "{err}");
    }
    let plain = random_token(2);
    assert!(serde_json::to_value(&plain)
        .unwrap()
        .get("escrow")
        .is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn token_encodings_round_trip(seed in any::<u64>()) {
        let t = random_token(seed);
        prop_assert_eq!(Token::from_bytes(&t.to_bytes()).unwrap(), t.clone());
        let json = serde_json::to_string(&t).unwrap();
        prop_assert_eq!(serde_json::from_str::<Token>(&json).unwrap(), t);
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Token::from_bytes(&bytes);
    }

    #[test]
    fn decoding_mutated_tokens_never_panics(seed in any::<u64>(), pos in 0..TOKEN_LEN, byte in any::<u8>()) {
        let mut b = random_token(seed).to_bytes();
        b[pos] = byte;
        let _ = Token::from_bytes(&b);
    }
}

#[test]
fn cached_matrix_prover_agrees_with_arkworks_prover_and_verifier() {
    let w = world();
    let public = w.public("s1", 2);
    // A proof from arkworks' own prover verifies with our (table-based) verifier ...
    let theirs = forced_token(public, w.witness());
    keys().verifier.verify(&theirs).unwrap();
    // The same through the prover's arkworks baseline (the bench's second peer).
    let baseline = keys()
        .prover
        .prove_with_arkworks(&w.witness(), public, &mut rng(13))
        .unwrap();
    keys().verifier.verify(&baseline).unwrap();
    // ... and ours verifies with arkworks' own verifier.
    let ours = keys()
        .prover
        .prove(&w.witness(), public, &mut rng(12))
        .unwrap();
    let pvk = ark_groth16::prepare_verifying_key(&keys().vk);
    let inputs = public.to_field_elements();
    assert!(Groth16::<groth::Curve>::verify_proof(&pvk, &ours.proof, &inputs).unwrap());
    let mut wrong = inputs;
    wrong[3] += Fr::ONE;
    assert!(!Groth16::<groth::Curve>::verify_proof(&pvk, &ours.proof, &wrong).unwrap());

    // Same randomness, same proof, bit for bit: the multi-scalar multiplications (blst's
    // Pippenger, or the window tables) compute exactly arkworks' A, B and C (the prover draws
    // r, then s).
    let mut randomness = rng(12);
    let (r, s) = (Fr::rand(&mut randomness), Fr::rand(&mut randomness));
    let (pk, _) = groth::setup_from_seed(DEPTH, [7u8; 32]).unwrap();
    let reference = Groth16::<groth::Curve>::create_proof_with_reduction(
        AccessCircuit::new(public, w.witness()),
        &pk,
        r,
        s,
    )
    .unwrap();
    assert_eq!(ours.proof, reference);
    // The same with window tables.
    let tables = groth::Prover::with_preparation(DEPTH, pk, groth::Preparation::Tables).unwrap();
    let from_tables = tables.prove(&w.witness(), public, &mut rng(12)).unwrap();
    assert_eq!(from_tables.proof, reference);
}

/// A proof made through a [`groth::ProofCache`] is the proof arkworks makes with the same
/// randomness, whatever the cache holds: nothing yet, the same holder's previous statement
/// (a new scope, message or policy), the very same statement, another holder, the same holder
/// after the registry grew, or a cache filled by another prover (another key).
#[test]
fn cached_proofs_are_bit_for_bit_arkworks_proofs() {
    let (pk, _) = groth::setup_from_seed(DEPTH, [7u8; 32]).unwrap();
    let (other_pk, _) = groth::setup_from_seed(DEPTH, [8u8; 32]).unwrap();
    let w = world();
    let other = world_with(hospital_attrs(), 5);
    let mut grown = world();
    grown
        .tree
        .append(
            Credential {
                id: other.sk.id(),
                attributes: hospital_attrs(),
            }
            .leaf(),
        )
        .unwrap();
    let mut message = w.public("s2", 2);
    message.message = field::message_for_body(b"another body");
    let steps: Vec<(&World, PublicInputs)> = vec![
        (&w, w.public("s1", 2)),
        (&w, w.public("s2", 2)),
        (&w, message),
        (&w, message),
        (&w, w.public("s2", 3)),
        (&other, other.public("s1", 2)),
        (&w, w.public("s3", 2)),
        (&grown, grown.public("s3", 2)),
    ];
    for preparation in [groth::Preparation::Direct, groth::Preparation::Tables] {
        let prover = groth::Prover::with_preparation(DEPTH, pk.clone(), preparation).unwrap();
        let foreign =
            groth::Prover::with_preparation(DEPTH, other_pk.clone(), preparation).unwrap();
        let mut cache = groth::ProofCache::new();
        let mut changed = vec![];
        for (n, (world, public)) in steps.iter().enumerate() {
            if n == 4 {
                // A cache last filled with another key must not leak into this key's proof.
                foreign
                    .prove_cached(&mut cache, &world.witness(), *public, &mut rng(1))
                    .unwrap();
            }
            let seed = 100 + n as u64;
            let token = prover
                .prove_cached(&mut cache, &world.witness(), *public, &mut rng(seed))
                .unwrap();
            let mut randomness = rng(seed);
            let (r, s) = (Fr::rand(&mut randomness), Fr::rand(&mut randomness));
            let reference = Groth16::<groth::Curve>::create_proof_with_reduction(
                AccessCircuit::new(*public, world.witness()),
                &pk,
                r,
                s,
            )
            .unwrap();
            assert_eq!(token.proof, reference, "step {n}, {preparation:?}");
            assert!(!cache.is_empty());
            changed.push(cache.last_changed());
        }
        // The cache does save work. At this depth (1,505 variables): a first proof, a proof
        // after another key's, and a proof for another holder (or back) move every non-zero
        // variable; a new scope about 240 (the pseudonym's hash); a new message only the
        // message and its square; the very same statement none; the same holder after the
        // registry grew the upper path (about 290).
        let variables = prover
            .witness(&w.witness(), w.public("s1", 2))
            .unwrap()
            .len();
        let all = |n: usize| n > variables * 9 / 10;
        let few = |n: usize| n < variables / 4;
        assert!(
            all(changed[0]) && few(changed[1]),
            "{changed:?} of {variables}"
        );
        assert_eq!((changed[2], changed[3]), (2, 0), "{changed:?}");
        assert!(
            all(changed[4]) && all(changed[5]) && all(changed[6]),
            "{changed:?}"
        );
        assert!(few(changed[7]), "{changed:?} of {variables}");
        // A statement the native check refuses never reaches the cache: the next proof is
        // still exactly arkworks'.
        assert!(prover
            .prove_cached(&mut cache, &w.witness(), w.public("s1", 9), &mut rng(1))
            .is_err());
        let token = prover
            .prove_cached(&mut cache, &w.witness(), w.public("s4", 2), &mut rng(2))
            .unwrap();
        let mut randomness = rng(2);
        let (r, s) = (Fr::rand(&mut randomness), Fr::rand(&mut randomness));
        let reference = Groth16::<groth::Curve>::create_proof_with_reduction(
            AccessCircuit::new(w.public("s4", 2), w.witness()),
            &pk,
            r,
            s,
        )
        .unwrap();
        assert_eq!(token.proof, reference);
        keys().verifier.verify(&token).unwrap();
        let mut tampered = token.clone();
        tampered.public.scope += Fr::ONE;
        assert!(keys().verifier.verify(&tampered).is_err());
        cache.clear();
        assert!(cache.is_empty());
    }
}

#[test]
fn witness_is_the_satisfying_assignment_and_constraints_are_counted() {
    let w = world();
    let public = w.public("s1", 2);
    let assignment = keys().prover.witness(&w.witness(), public).unwrap();
    assert_eq!(assignment[0], Fr::ONE);
    assert_eq!(&assignment[1..9], &public.to_field_elements());

    let cs = ConstraintSystem::<Fr>::new_ref();
    AccessCircuit::new(public, w.witness())
        .generate_constraints(cs.clone())
        .unwrap();
    cs.finalize();
    assert_eq!(keys().prover.num_constraints(), cs.num_constraints());
    assert_eq!(
        assignment.len(),
        cs.num_instance_variables() + cs.num_witness_variables()
    );

    // The native pre-check runs first, as in `prove`.
    assert!(matches!(
        keys().prover.witness(&w.witness(), w.public("s1", 9)),
        Err(ProveError::Statement(StatementError::LevelTooLow { .. }))
    ));
}

/// A verifying key with one public-input base too few would leave an input unchecked (a zip
/// over the inputs would drop it silently), one too many is for another circuit: both are
/// refused when the key is prepared; the key as made is accepted.
#[test]
fn a_verifying_key_with_the_wrong_number_of_input_bases_is_refused() {
    let vk = keys().vk.clone();
    assert!(groth::Verifier::new(DEPTH, &vk).is_ok());
    let mut short = vk.clone();
    short.gamma_abc_g1.pop();
    let err = groth::Verifier::new(DEPTH, &short).err().unwrap();
    assert_eq!(
        (err.expected, err.got),
        (vk.gamma_abc_g1.len(), vk.gamma_abc_g1.len() - 1)
    );
    let mut long = vk.clone();
    long.gamma_abc_g1.push(vk.gamma_abc_g1[1]);
    assert!(groth::Verifier::new(DEPTH, &long).is_err());
}
