//! The escrow variant of the access circuit: a token whose public inputs carry the
//! institution's id encrypted to the inspector, accepted when the ciphertext is right and
//! refused for every way an institution could dodge the inspector.

mod common;

use std::sync::OnceLock;

use ark_ec::CurveGroup;
use ark_ed_on_bls12_381::Fr as JubjubScalar;
use ark_ff::UniformRand;
use ark_groth16::{Groth16, PreparedVerifyingKey, ProvingKey};
use ark_relations::gr1cs::{ConstraintSynthesizer, ConstraintSystem};
use ark_snark::SNARK;
use common::*;
use consentry_circuits::access::{AccessCircuit, PublicInputs, StatementError};
use consentry_circuits::credential::SecretKey;
use consentry_circuits::escrow::{
    encrypt, generator, Escrow, EscrowCircuit, EscrowRandomness, InspectorKey, InspectorSecret,
};
use consentry_circuits::{groth, Fr};

fn inspector() -> &'static InspectorSecret {
    static I: OnceLock<InspectorSecret> = OnceLock::new();
    I.get_or_init(|| InspectorSecret::random(&mut rng(40)))
}

fn satisfied(
    public: PublicInputs,
    w: &World,
    key: &InspectorKey,
    escrow: Escrow,
    r: &EscrowRandomness,
) -> bool {
    let cs = ConstraintSystem::<Fr>::new_ref();
    EscrowCircuit::new(public, w.witness(), key, escrow, r)
        .generate_constraints(cs.clone())
        .unwrap();
    cs.is_satisfied().unwrap()
}

fn constraints(c: impl ConstraintSynthesizer<Fr>) -> usize {
    let cs = ConstraintSystem::<Fr>::new_ref();
    c.generate_constraints(cs.clone()).unwrap();
    cs.num_constraints()
}

/// Depth-4 escrow keys for the test inspector, from a fixed seed.
fn escrow_keys() -> &'static (ProvingKey<groth::Curve>, PreparedVerifyingKey<groth::Curve>) {
    static K: OnceLock<(ProvingKey<groth::Curve>, PreparedVerifyingKey<groth::Curve>)> =
        OnceLock::new();
    K.get_or_init(|| {
        let blank = EscrowCircuit::blank(DEPTH, &inspector().public());
        let (pk, vk) =
            Groth16::<groth::Curve>::circuit_specific_setup(blank, &mut rng(41)).unwrap();
        (pk, Groth16::<groth::Curve>::process_vk(&vk).unwrap())
    })
}

fn inputs(public: &PublicInputs, escrow: &Escrow) -> Vec<Fr> {
    let mut v = public.to_field_elements().to_vec();
    v.extend(escrow.to_field_elements());
    v
}

#[test]
fn an_escrowed_token_verifies_and_the_inspector_opens_it() {
    let w = world();
    let key = inspector().public();
    let public = w.public("s1", 2);
    let (escrow, r) = encrypt(&w.sk.id(), &key, &mut rng(1));
    assert!(satisfied(public, &w, &key, escrow, &r));
    let (pk, pvk) = escrow_keys();
    let proof = Groth16::<groth::Curve>::prove(
        pk,
        EscrowCircuit::new(public, w.witness(), &key, escrow, &r),
        &mut rng(2),
    )
    .unwrap();
    assert!(Groth16::<groth::Curve>::verify_with_processed_vk(
        pvk,
        &inputs(&public, &escrow),
        &proof
    )
    .unwrap());
    assert_eq!(inspector().open(&escrow), w.sk.id());

    // Any other ciphertext, or the same one on another token's inputs, fails verification.
    let (other, _) = encrypt(&w.sk.id(), &key, &mut rng(3));
    for (what, e) in [
        ("another escrow of the same id", other),
        (
            "c2 shifted",
            Escrow {
                c2: escrow.c2 + Fr::from(1u64),
                ..escrow
            },
        ),
    ] {
        assert!(
            !Groth16::<groth::Curve>::verify_with_processed_vk(pvk, &inputs(&public, &e), &proof)
                .unwrap(),
            "{what}"
        );
    }
    // An opening by anyone else's key is a meaningless value.
    assert_ne!(
        InspectorSecret::random(&mut rng(4)).open(&escrow),
        w.sk.id()
    );
}

#[test]
fn an_institution_cannot_dodge_the_inspector() {
    let w = world();
    let key = inspector().public();
    let public = w.public("s1", 2);
    let mut r = rng(5);

    // Another institution's id (it would frame someone else).
    let stranger = SecretKey::random(&mut r).id();
    let (e, er) = encrypt(&stranger, &key, &mut r);
    assert!(!satisfied(public, &w, &key, e, &er), "another id");
    // The prover checks natively first and says why, before any proving work.
    let refused = consentry_circuits::escrow::groth::prove(
        &escrow_keys().0,
        public,
        &w.witness(),
        &key,
        e,
        &er,
        &mut r,
    );
    assert!(
        matches!(
            refused,
            Err(groth::ProveError::Statement(StatementError::Escrow))
        ),
        "{refused:?}"
    );

    // A random ciphertext.
    let random = Escrow {
        c1: (generator() * JubjubScalar::rand(&mut r)).into_affine(),
        c2: Fr::rand(&mut r),
    };
    let guess = EscrowRandomness::random(&mut r);
    assert!(!satisfied(public, &w, &key, random, &guess), "random");

    // A ciphertext copied from another institution's token: the copier does not know its r.
    let other = world_with(hospital_attrs(), 2);
    let (copied, _) = encrypt(&other.sk.id(), &key, &mut r);
    assert!(
        !satisfied(public, &w, &key, copied, &guess),
        "a copied escrow"
    );

    // Encrypted to another key than the circuit's inspector.
    let elsewhere = InspectorSecret::random(&mut r).public();
    let (e, er) = encrypt(&w.sk.id(), &elsewhere, &mut r);
    assert!(!satisfied(public, &w, &key, e, &er), "another inspector");

    // The right ciphertext with the wrong randomness for c1 (c1 of another r).
    let (e, er) = encrypt(&w.sk.id(), &key, &mut r);
    let (e2, _) = encrypt(&w.sk.id(), &key, &mut r);
    let mixed = Escrow { c1: e2.c1, ..e };
    assert!(!satisfied(public, &w, &key, mixed, &er), "c1 of another r");
    assert!(
        satisfied(public, &w, &key, e, &er),
        "and the honest one holds"
    );
}

/// Pinned sizes: the access circuit at depth 20 and its escrow variant (the escrow adds two
/// fixed-base scalar multiplications of 252 bits in 3-bit windows and one Poseidon). A change here changes
/// the keys.
#[test]
fn constraint_counts_are_pinned() {
    let key = inspector().public();
    let plain = constraints(AccessCircuit::blank(20));
    let escrow = constraints(EscrowCircuit::blank(20, &key));
    eprintln!("depth 20: access {plain} constraints, escrow variant {escrow}");
    assert_eq!((plain, escrow), (3914, 5337));
}

/// The node's prover makes, for the same randomness, the very proof arkworks makes, and it
/// verifies; it refuses a wrong escrow before proving.
#[test]
fn the_node_prover_makes_the_arkworks_proof() {
    use consentry_circuits::escrow::groth::{prove, verify, EscrowProver};
    use consentry_circuits::groth::Verifier;
    use consentry_circuits::token::Token;
    let w = world();
    let key = inspector().public();
    let public = w.public("s2", 1);
    let (pk, pvk) = escrow_keys();
    let prover =
        EscrowProver::new(DEPTH, pk.clone(), key, groth::Preparation::Direct).expect("prover");
    let (e, r) = encrypt(&w.sk.id(), &key, &mut rng(6));
    let ours = prover
        .prove(public, &w.witness(), e, &r, &mut rng(7))
        .expect("prove");
    let arkworks = prove(pk, public, &w.witness(), &key, e, &r, &mut rng(7)).expect("prove");
    assert_eq!(ours, arkworks, "bit for bit");
    assert!(verify(pvk, &public, &e, &ours));
    let (other, _) = encrypt(&w.sk.id(), &key, &mut rng(8));
    assert!(!verify(pvk, &public, &other, &ours));
    // The node's verifier agrees, and refuses a key of another shape.
    let vk = pk.vk.clone();
    let verifier = Verifier::escrow(DEPTH, &vk).expect("escrow key");
    let token = |public, escrow| Token {
        depth: DEPTH as u8,
        proof: ours.clone(),
        public,
        escrow,
    };
    verifier.verify(&token(public, Some(e))).expect("valid");
    assert!(verifier.verify(&token(public, Some(other))).is_err());
    let mut moved = public;
    moved.min_level += 1;
    assert!(verifier.verify(&token(moved, Some(e))).is_err());
    // A plain token against the escrow key, an escrowed one against the plain key: refused
    // for their shape before any pairing.
    assert!(matches!(
        verifier.verify(&token(public, None)),
        Err(groth::VerifyError::ShapeMismatch { token: 8, key: 11 })
    ));
    let plain = Verifier::new(DEPTH, &keys().vk).expect("plain key");
    assert!(matches!(
        plain.verify(&token(public, Some(e))),
        Err(groth::VerifyError::ShapeMismatch { token: 11, key: 8 })
    ));
    assert!(
        Verifier::escrow(DEPTH, &keys().vk).is_err(),
        "the plain key"
    );
    assert!(verifier.escrowed() && !plain.escrowed());
    // The prover's token is that token.
    let made = prover
        .token(public, &w.witness(), e, &r, &mut rng(7))
        .expect("prove");
    assert_eq!(made, token(public, Some(e)));
    assert!(matches!(
        prover.prove(public, &w.witness(), other, &r, &mut rng(7)),
        Err(groth::ProveError::Statement(StatementError::Escrow))
    ));
    assert_eq!(
        prover.num_constraints(),
        consentry_circuits::escrow::groth::num_constraints(DEPTH, &key).unwrap(),
        "the prover's shape is the escrow circuit's"
    );
}
