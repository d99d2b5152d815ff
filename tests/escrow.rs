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

    // Not yet committed: nothing to open.
    assert_eq!(w.reject(w.fx.opening(escrowed.id(), "c")), "NotOpenable");
    w.block_ok(vec![escrowed.clone()]);
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
    let mut share =
        w.fx.consent(&p, &patient, &tree, "s", escrow_policy(), TODAY);
    if let Body::Consent(c) = &mut share.body {
        c.claim.escrow = Some(EscrowBytes([1; 64]));
    }
    assert_eq!(w.reject(share), "InvalidField");
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
    assert!(create(g).is_some());
}
