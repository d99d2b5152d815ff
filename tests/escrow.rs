//! Accountable anonymity on the ledger (`docs/escrow.md`): a policy that requires escrow, the
//! escrowed access recorded with its ciphertext, the inspector's opening on the record, and
//! every way around them refused, each beside its valid twin. Real proofs, real RocksDB.

use consentry::circuits::credential::Role;
use consentry::circuits::escrow::{Escrow, InspectorSecret};
use consentry::ledger::fixture::{Fixture, CHAIN_ID};
use consentry::ledger::records::HistoryKind;
use consentry::ledger::*;
use consentry::store::RocksStore;
use rand::SeedableRng;

mod common;
use common::{World, DEPTH, TODAY};

fn escrow_policy() -> Policy {
    Policy {
        escrow: true,
        ..Fixture::policy(&[Role::Hospital, Role::Research], 1)
    }
}

fn escrow_of(tx: &Transaction) -> Escrow {
    let bytes = tx.body.claim().unwrap().escrow.expect("escrowed");
    Escrow::from_bytes(&bytes.0).unwrap()
}

/// Replaces the claim's escrow of an access (after it was proven).
fn with_escrow(tx: &Transaction, escrow: EscrowBytes) -> Transaction {
    let mut tx = tx.clone();
    if let Body::Access(a) = &mut tx.body {
        a.claim.escrow = Some(escrow);
    }
    tx
}

#[test]
fn an_escrowed_access_is_recorded_opened_by_the_inspector_alone_and_the_opening_audited() {
    let mut w = World::with_inspector(60);
    w.share("s", escrow_policy());
    w.share("other", escrow_policy());
    let h = w.hospital.clone();

    // A plain token on an escrow stream: refused with its own code; the escrowed twin passes.
    let plain = w.access(&h, "s", 1, 1);
    assert_eq!(w.reject(plain.clone()), "EscrowRequired");
    let escrowed = w.escrowed_access(&h, "s", 2);
    w.block_ok(vec![escrowed.clone()]);

    // The ciphertext is on the chain with the access, and the inspector recovers the
    // hospital's id from it; another inspector's secret recovers something else.
    let stored = w.ledger.transaction(&escrowed.id()).unwrap().unwrap().1;
    let e = escrow_of(&stored);
    assert_eq!(w.fx.inspector.open(&e), h.sk.id());
    let stranger = InspectorSecret::random(&mut rand_chacha::ChaCha20Rng::seed_from_u64(9));
    assert_ne!(stranger.open(&e), h.sk.id());
    // Two escrowed reads of one institution: different ciphertexts (fresh r), same id inside.
    let again = w.escrowed_access(&h, "s", 3);
    w.block_ok(vec![again.clone()]);
    assert_ne!(escrow_of(&again), e);
    assert_eq!(w.fx.inspector.open(&escrow_of(&again)), h.sk.id());

    // The opening goes on the record, in the stream's history, after the access.
    let opening = w.fx.opening(escrowed.id(), "DPA-2026-0042");
    w.block_ok(vec![opening.clone()]);
    let hist = w.ledger.history(&w.sid("s"), 0, 100).unwrap();
    let kinds: Vec<_> = hist.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            HistoryKind::Share,
            HistoryKind::Access,
            HistoryKind::Access,
            HistoryKind::Opening
        ]
    );
    assert_eq!(hist[3].tx, opening.id());
    assert_eq!(hist[3].pseudonym, None, "an opening names no reader");
    let other = w.ledger.history(&w.sid("other"), 0, 100).unwrap();
    assert_eq!(
        other.len(),
        1,
        "the opening is in the opened access's stream only"
    );
    // The same opening again is a replay; another case for the same access is a new record.
    assert_eq!(w.reject(opening), "Replay");
    w.block_ok(vec![w.fx.opening(escrowed.id(), "DPA-2026-0043")]);

    // An escrowed token on a stream that does not require escrow is accepted (an institution
    // may always accept accountability).
    w.share("plain", Fixture::policy(&[Role::Hospital], 1));
    let voluntary = w.escrowed_access(&h, "plain", 4);
    w.block_ok(vec![voluntary]);

    // Reopened, the ledger still verifies escrowed tokens (its escrow key is loaded) and
    // still requires them.
    let late = w.escrowed_access(&h, "s", 5);
    let late_plain = w.access(&h, "s", 1, 6);
    let (keys, time) = (w.fx.keys(), w.time + 1000);
    // Another validator replaying the chain re-verifies every escrowed token with the escrow
    // key and every opening's signature and target (Replay mode).
    let scratch = tempfile::tempdir().unwrap();
    let summary = verify_chain(w.ledger.store(), scratch.path(), &keys).unwrap();
    assert_eq!(summary.tokens, 6, "3 platform shares, 3 escrowed accesses");
    let World { ledger, dir, .. } = w;
    drop(ledger);
    let reopened = Ledger::open(RocksStore::open(&dir.path().join("db")).unwrap(), keys).unwrap();
    reopened.check(&late, time).unwrap();
    assert_eq!(
        reopened.check(&late_plain, time).unwrap_err().code(),
        "EscrowRequired"
    );
}

#[test]
fn escrows_that_are_not_the_readers_id_encrypted_for_this_proof_are_refused() {
    let mut w = World::with_inspector(60);
    w.share("s", escrow_policy());
    let h = w.hospital.clone();
    let r = w.research.clone();
    let valid = w.escrowed_access(&h, "s", 1);
    let other = w.escrowed_access(&r, "s", 2);

    // The research centre's ciphertext (another id) in the hospital's access.
    let swapped = with_escrow(&valid, other.body.claim().unwrap().escrow.unwrap());
    assert_eq!(w.reject(swapped), "ProofInvalid");
    // A random valid ciphertext (a point of the subgroup, a canonical c2).
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
    let (random, _) = consentry::circuits::escrow::encrypt(
        &consentry::circuits::credential::InstitutionId(
            <consentry::circuits::Fr as ark_ff::UniformRand>::rand(&mut rng),
        ),
        &w.fx.inspector.public(),
        &mut rng,
    );
    let random = with_escrow(&valid, EscrowBytes(random.to_bytes()));
    assert_eq!(w.reject(random), "ProofInvalid");
    // Bytes that are no ciphertext at all: refused before any pairing, naming the field.
    let garbage = with_escrow(&valid, EscrowBytes([0x5a; 64]));
    assert_eq!(w.reject(garbage.clone()), "InvalidField");
    let mut identity = [0u8; 64];
    identity[0] = 1;
    assert_eq!(
        w.reject(with_escrow(&valid, EscrowBytes(identity))),
        "InvalidField"
    );
    // A plain proof with an escrow added afterwards: the escrow circuit's key refuses it.
    let plain = w.access(&h, "s", 1, 7);
    let grafted = with_escrow(&plain, valid.body.claim().unwrap().escrow.unwrap());
    assert_eq!(w.reject(grafted), "ProofInvalid");
    // An escrowed proof with its escrow removed: the plain key refuses it (proofs are
    // verified before the policy is looked up).
    let mut stripped = valid.clone();
    if let Body::Access(a) = &mut stripped.body {
        a.claim.escrow = None;
    }
    assert_eq!(w.reject(stripped), "ProofInvalid");

    // The valid ones, in one block with a bad one: only the bad one is dropped (the batch
    // names it), and the rest commit.
    let reused = with_escrow(&other, valid.body.claim().unwrap().escrow.unwrap());
    let (block, rejected) = w.block(vec![valid.clone(), reused, other.clone()]);
    assert_eq!(block.tx_ids, vec![valid.id(), other.id()]);
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].1.code(), "ProofInvalid");
}

#[test]
fn openings_must_be_the_inspectors_of_a_committed_escrowed_access() {
    let mut w = World::with_inspector(60);
    w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let h = w.hospital.clone();
    let plain = w.access(&h, "s", 1, 1);
    let escrowed = w.escrowed_access(&h, "s", 2);
    w.block_ok(vec![plain.clone()]);

    // Not yet committed, or only earlier in the same block: nothing to open.
    assert_eq!(w.reject(w.fx.opening(escrowed.id(), "c")), "NotOpenable");
    let (block, rejected) = w.block(vec![escrowed.clone(), w.fx.opening(escrowed.id(), "c")]);
    assert_eq!(block.tx_ids, vec![escrowed.id()]);
    assert_eq!(rejected[0].1.code(), "NotOpenable");
    let valid = w.fx.opening(escrowed.id(), "case 1");

    // Signed by someone else (the issuer), or tampered after signing.
    let forged =
        consentry::client::builder::inspector_signed(&w.fx.issuer, CHAIN_ID, valid.body.clone());
    assert_eq!(w.reject(forged), "BadInspectorSignature");
    let mut tampered = valid.clone();
    if let Body::Opening(o) = &mut tampered.body {
        o.case = "case 2".into();
    }
    assert_eq!(w.reject(tampered), "BadInspectorSignature");
    // Signed for another chain.
    let other_chain = consentry::client::builder::inspector_signed(
        &w.fx.inspector_signing(),
        "another-chain",
        valid.body.clone(),
    );
    assert_eq!(w.reject(other_chain), "BadInspectorSignature");
    // A plain access, a consent, an unknown id; an empty case reference.
    assert_eq!(w.reject(w.fx.opening(plain.id(), "c")), "NotOpenable");
    let share_id = w.ledger.history(&w.sid("s"), 0, 1).unwrap()[0].tx;
    assert_eq!(w.reject(w.fx.opening(share_id, "c")), "NotOpenable");
    assert_eq!(w.reject(w.fx.opening(Hash32([7; 32]), "c")), "NotOpenable");
    assert_eq!(w.reject(w.fx.opening(escrowed.id(), "")), "InvalidField");
    w.block_ok(vec![valid]);
}

#[test]
fn a_chain_without_an_inspector_accepts_no_escrow_no_escrow_policy_and_no_opening() {
    // Escrowed transactions made against a chain with an inspector ...
    let mut with = World::with_inspector(60);
    with.share("s", escrow_policy());
    let h = with.hospital.clone();
    let escrowed = with.escrowed_access(&h, "s", 1);
    with.block_ok(vec![escrowed.clone()]);
    let opening = with.fx.opening(escrowed.id(), "c");

    // ... offered to the same world without one.
    let mut w = World::new(60);
    assert!(w.ledger.genesis().inspector.is_none());
    let patient = w.fx.patient_key();
    let tree = w.tree();
    let p = w.platform.clone();
    let share =
        w.fx.consent(&p, &patient, &tree, "s", escrow_policy(), TODAY);
    assert_eq!(w.reject(share), "NoInspector");
    w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let tree = w.tree();
    let sid = w.sid("s");
    let mut body = w.fx.access_body(&h, &tree, &sid, 1, TODAY, 2);
    if let Body::Access(a) = &mut body {
        a.claim.escrow = escrowed.body.claim().unwrap().escrow;
    }
    let tx = w.fx.finish(&h, &tree, body);
    assert_eq!(w.reject(tx), "NoInspector");
    assert_eq!(w.reject(opening), "NoInspector");
}

#[test]
fn only_an_access_carries_an_escrow() {
    let mut w = World::with_inspector(60);
    let patient = w.fx.patient_key();
    let tree = w.tree();
    let p = w.platform.clone();
    // A well-formed escrow of the platform's own id, put in its share before it is proven
    // and signed: refused for the kind, not for the bytes.
    let (escrow, _) = consentry::circuits::escrow::encrypt(
        &p.sk.id(),
        &w.fx.inspector.public(),
        &mut rand_chacha::ChaCha20Rng::seed_from_u64(4),
    );
    let share =
        w.fx.consent(&p, &patient, &tree, "s", escrow_policy(), TODAY);
    let mut body = share.body.clone();
    if let Body::Consent(c) = &mut body {
        c.claim.escrow = Some(EscrowBytes(escrow.to_bytes()));
    }
    let escrowed_share = w.fx.finish_consent(&p, &patient, &tree, body);
    let check = w.ledger.check(&escrowed_share, w.time + 1000).unwrap_err();
    assert_eq!(
        check,
        Rejection::InvalidField {
            field: "claim.escrow",
            reason: "a consent transaction carries no escrow".into()
        }
    );
    assert_eq!(w.reject(escrowed_share), "InvalidField");
    // The valid twin.
    w.block_ok(vec![share]);
}

#[test]
fn a_genesis_with_a_bad_inspector_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fx = Fixture::new(DEPTH, dir.path(), 4).with_inspector();
    let create = |g: Genesis| {
        let store = RocksStore::open(&tempfile::tempdir().unwrap().path().join("db")).unwrap();
        Ledger::create(store, g, fx.keys(), &fx.validator)
            .err()
            .map(|e| e.to_string())
    };
    assert_eq!(create(fx.genesis(60)), None, "the valid twin");
    let mut g = fx.genesis(60);
    g.inspector.as_mut().unwrap().escrow_key = [0; 32];
    assert!(create(g).unwrap().contains("escrow key"));
    let mut g = fx.genesis(60);
    let mut identity = [0u8; 32];
    identity[0] = 1;
    g.inspector.as_mut().unwrap().escrow_key = identity;
    assert!(create(g).unwrap().contains("escrow key"));
    let mut g = fx.genesis(60);
    g.inspector.as_mut().unwrap().verifying_keys[0].digest = Hash32([1; 32]);
    assert!(create(g).unwrap().contains("escrow verifying key"));
    let mut g = fx.genesis(60);
    g.inspector.as_mut().unwrap().verifying_keys.clear();
    assert!(create(g)
        .unwrap()
        .contains("at least one escrow verifying key"));
    // The plain key named as the inspector's escrow key: its digest is not the escrow key's.
    let mut g = fx.genesis(60);
    g.inspector.as_mut().unwrap().verifying_keys[0].digest = g.verifying_keys[0].digest;
    assert!(create(g)
        .unwrap()
        .contains("the depth-4 escrow verifying key has SHA-256"));
    // A node that loaded the plain verifier in the escrow key's place (digest and all) is
    // refused for the key's shape.
    let mut keys = fx.keys();
    let plain = keys[&KeyId::plain(DEPTH as u8)].clone();
    let escrow_id = KeyId {
        depth: DEPTH as u8,
        escrow: true,
    };
    let digest = keys[&escrow_id].digest;
    keys.insert(escrow_id, LoadedKey { digest, ..plain });
    let store = RocksStore::open(&tempfile::tempdir().unwrap().path().join("db")).unwrap();
    let err = Ledger::create(store, fx.genesis(60), keys, &fx.validator)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("is not one of that circuit"), "{err}");
}

/// A node that names its own key as the inspector's would have a reader encrypt its id to
/// that node. The escrow keys are the real inspector's, so the proof for the impostor's key
/// does not verify against them, and the reader's tool refuses before anything is sent.
#[test]
fn a_proof_for_an_inspector_key_the_escrow_keys_were_not_made_for_is_never_sent() {
    use consentry::circuits::escrow::groth::EscrowProver;
    use consentry::circuits::groth::{self, Circuit, ProveError};
    let dir = tempfile::tempdir().unwrap();
    let mut fx = Fixture::new(DEPTH, dir.path(), 5).with_inspector();
    let (h, tree, _) = fx.lone_holder(Role::Hospital, 3);
    let stream = stream_id_for(&[1; 32], "s");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(8);
    let pk = groth::load_circuit_proving_key(dir.path(), Circuit::Escrow, DEPTH).unwrap();
    let impostor = InspectorSecret::random(&mut rng).public();
    let fooled = EscrowProver::new(DEPTH, pk, impostor, groth::Preparation::Direct).unwrap();
    let (body, r) =
        h.escrowed_access_body(&tree, &stream, "care", 3, TODAY, 1, &impostor, &mut rng);
    let err = h
        .prove_escrowed(&fooled, CHAIN_ID, &tree, &body, &r, &mut rng)
        .unwrap_err();
    assert!(matches!(err, ProveError::KeyMismatch(_)), "{err}");
    // The genuine inspector's key: the same check passes.
    let genuine = fx.escrow_prover.as_ref().unwrap();
    let (body, r) = h.escrowed_access_body(
        &tree,
        &stream,
        "care",
        3,
        TODAY,
        2,
        genuine.inspector(),
        &mut rng,
    );
    h.prove_escrowed(genuine, CHAIN_ID, &tree, &body, &r, &mut rng)
        .unwrap();
}
