//! The ledger rules an adversary could bend, each written as the attack (which must fail)
//! beside the honest twin (which must pass): a squatter, an unco-operative platform, a
//! submitter's clock, a rival issuer, an oversized field, a replay on another chain, a flood.
//! Real RocksDB in a temp dir, real Groth16 proofs, real signatures.

mod common;

use common::{World, TODAY};
use consentry::circuits::credential::Role;
use consentry::circuits::Fr;
use consentry::client::builder;
use consentry::consensus::{Admission, Limits, Sequencer, SoloSequencer};
use consentry::ledger::fixture::{
    Fixture, Institution, CHAIN_ID, ISSUER_ID, NOON_MS, SECOND_ISSUER_ID,
};
use consentry::ledger::*;

fn consent_body(
    w: &mut World,
    stream_id: String,
    stream_name: &str,
    key: &schnorrkel::Keypair,
) -> Body {
    let tree = w.tree();
    let scope = w.fx.fresh_scope();
    let p = w.platform.clone();
    Body::Consent(Consent {
        stream_id,
        stream_name: stream_name.into(),
        policy: Fixture::policy(&[Role::Hospital, Role::Research], 0),
        data_digest: None,
        study: None,
        cohort: vec![],
        replaces: None,
        patient_key: key.public.to_bytes(),
        nonce: 1,
        claim: w.fx.claim(&p, &tree, scope, 0, TODAY),
    })
}

/// 1. A platform credential holder shares a victim's stream id first, with its own key and an
///    open policy. The id is derived from the victim's key: every variant is refused, and the
///    victim's own share, and reads under it, work.
#[test]
fn a_squatter_cannot_share_a_patients_stream() {
    let mut w = World::new(300);
    let victim = w.fx.patient_key();
    let squatter = w.fx.patient_key();
    let target = Fixture::stream_id(&victim, "glucose");
    let p = w.platform.clone();
    let tree = w.tree();
    // The victim's id, the same name, the squatter's key (signed by the squatter).
    let body = consent_body(&mut w, target.clone(), "glucose", &squatter);
    let squat = w.fx.finish_consent(&p, &squatter, &tree, body);
    assert_eq!(w.reject(squat), "StreamNotOwned");
    // The victim's id with another name.
    let body = consent_body(&mut w, target.clone(), "other", &squatter);
    let squat = w.fx.finish_consent(&p, &squatter, &tree, body);
    assert_eq!(w.reject(squat), "StreamNotOwned");
    // The victim's id and key, but signed by the squatter: the signature fails.
    let body = consent_body(&mut w, target.clone(), "glucose", &victim);
    let forged = w.fx.finish_consent(&p, &squatter, &tree, body);
    assert_eq!(w.reject(forged), "BadPatientSignature");
    // A malformed id (the old free-form kind) is refused outright.
    let body = consent_body(&mut w, "stream-1".into(), "glucose", &squatter);
    let free_form = w.fx.finish_consent(&p, &squatter, &tree, body);
    assert_eq!(w.reject(free_form), "InvalidField");

    // The victim's own share commits, and a hospital reads under it.
    let own = w.fx.consent(
        &p,
        &victim,
        &tree,
        "glucose",
        Fixture::policy(&[Role::Hospital], 1),
        TODAY,
    );
    w.block_ok(vec![own]);
    let h = w.hospital.clone();
    let tree = w.tree();
    let read = w.fx.access(&h, &tree, &target, 1, TODAY, 1);
    w.block_ok(vec![read]);
    assert_eq!(
        w.ledger.stream(&target).unwrap().unwrap().patient_key,
        victim.public.to_bytes()
    );
}

/// 2. A platform that will not co-operate cannot keep a consent alive: the patient's
///    withdrawal needs no token and no registry root, can be signed before it is needed, and
///    takes effect at once.
#[test]
fn a_patient_withdraws_consent_alone() {
    let mut w = World::new(300);
    let patient = w.fx.patient_key();
    // Signed in advance, before the stream is even shared.
    let prepared = w.fx.withdraw(&patient, "s", 1);
    assert!(prepared.auth.proof.is_empty());
    let tree = w.tree();
    let p = w.platform.clone();
    let share = w.fx.consent(
        &p,
        &patient,
        &tree,
        "s",
        Fixture::policy(&[Role::Hospital], 1),
        TODAY,
    );
    w.block_ok(vec![share]);
    let sid = Fixture::stream_id(&patient, "s");
    w.streams.insert("s".into(), sid.clone());
    let h = w.hospital.clone();
    let before = w.access(&h, "s", 1, 1);
    w.block_ok(vec![before]);

    // Tampered twins first: a proof where none belongs, another stream in the signed body,
    // a signature by another key.
    let mut with_proof = prepared.clone();
    with_proof.auth.proof = vec![0; PROOF_BYTES];
    assert_eq!(w.reject(with_proof), "InvalidField");
    let mut moved = prepared.clone();
    if let Body::RevokeConsent(r) = &mut moved.body {
        r.nonce = 2;
    }
    assert_eq!(w.reject(moved), "BadPatientSignature");
    let stranger = w.fx.patient_key();
    let mut foreign = w.fx.withdraw(&stranger, "s", 1);
    if let Body::RevokeConsent(r) = &mut foreign.body {
        r.stream_id = sid.clone();
    }
    let foreign = builder::patient_signed(&stranger, CHAIN_ID, foreign);
    assert_eq!(w.reject(foreign), "PatientKeyMismatch");

    w.block_ok(vec![prepared.clone()]);
    let after = w.access(&h, "s", 1, 2);
    assert_eq!(w.reject(after), "ConsentRevoked");
    // Once: the same signed withdrawal cannot be replayed.
    assert_eq!(w.reject(prepared), "Replay");
    let history = w.ledger.history(&sid, 0, 10).unwrap();
    assert_eq!(
        history.last().unwrap().pseudonym,
        None,
        "no institution acted"
    );
}

/// 2. A consent the patient signed but the platform kept back cannot undo a later
///    withdrawal: a consent names the latest consent it replaces. The twin: a new share that
///    names the withdrawal commits.
#[test]
fn a_kept_back_consent_cannot_undo_a_withdrawal() {
    let mut w = World::new(300);
    let patient = w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let sid = w.sid("s");
    let first = w.ledger.stream(&sid).unwrap().unwrap().latest_consent;
    let tree = w.tree();
    let p = w.platform.clone();
    let kept = w.fx.reshare(
        &p,
        &patient,
        &tree,
        "s",
        Fixture::policy(&[Role::Hospital, Role::Insurer], 0),
        TODAY,
        first,
    );
    let withdrawal = w.fx.withdraw(&patient, "s", 1);
    w.block_ok(vec![withdrawal.clone()]);
    assert_eq!(w.reject(kept), "StaleConsent");
    let h = w.hospital.clone();
    let read = w.access(&h, "s", 1, 1);
    assert_eq!(w.reject(read), "ConsentRevoked");
    // A first share that claims to replace something, and a re-share that names nothing.
    let tree = w.tree();
    let fresh = w.fx.reshare(
        &p,
        &patient,
        &tree,
        "s",
        Fixture::policy(&[Role::Hospital], 1),
        TODAY,
        withdrawal.id(),
    );
    let mut nothing = fresh.clone();
    if let Body::Consent(c) = &mut nothing.body {
        c.replaces = None;
    }
    let nothing = w.fx.finish_consent(&p, &patient, &tree, nothing.body);
    assert_eq!(w.reject(nothing), "StaleConsent");
    w.block_ok(vec![fresh]);
    let read = w.access(&h, "s", 1, 2);
    w.block_ok(vec![read]);
}

/// 9. Free withdrawals (no proof, so no ban) cannot fill the mempool: one consent change per
///    stream waits for a block.
#[test]
fn one_consent_change_per_stream_waits_for_a_block() {
    let mut w = World::new(300);
    let patient = w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let withdrawals: Vec<Transaction> = (0..3).map(|n| w.fx.withdraw(&patient, "s", n)).collect();
    let (seq, fx, dir) = sequencer(w, Limits::default());
    let now = NOON_MS + 60_000;
    seq.submit(withdrawals[0].clone(), now).unwrap();
    assert_eq!(
        seq.submit(withdrawals[1].clone(), now).unwrap_err().code(),
        "Busy"
    );
    seq.seal(now).unwrap().unwrap().block.unwrap();
    // The next one is judged against the committed withdrawal.
    assert_eq!(
        seq.submit(withdrawals[2].clone(), now).unwrap_err().code(),
        "NotShared"
    );
    drop((fx, dir));
}

/// 3. Every window is checked against the block's own day, never the submitter's: a read a
///    day before `valid_from` or a day after `valid_until` is refused, the edges are
///    accepted, and a token's `today` may not be before the block's day (so a credential
///    that expired yesterday cannot be used by claiming yesterday).
#[test]
fn consent_windows_and_credential_expiry_follow_the_blocks_day() {
    let mut w = World::new(300);
    let h = w.hospital.clone();
    let policy = |from: u32, until: u32| {
        let mut p = Fixture::policy(&[Role::Hospital], 1);
        p.valid_from = from;
        p.valid_until = until;
        p
    };
    // The block is on TODAY. A consent starting tomorrow: a token claiming tomorrow does not
    // open it early.
    w.share("tomorrow", policy(TODAY + 1, TODAY + 9));
    let tree = w.tree();
    let early = w.fx.access(&h, &tree, &w.sid("tomorrow"), 1, TODAY + 1, 1);
    assert_eq!(w.reject(early), "ConsentExpired");
    // A consent that ended yesterday: a token claiming yesterday is stale.
    w.share("yesterday", policy(TODAY - 9, TODAY - 1));
    let late = w.fx.access(&h, &tree, &w.sid("yesterday"), 1, TODAY - 1, 2);
    assert_eq!(w.reject(late), "StaleDay");
    let late = w.fx.access(&h, &tree, &w.sid("yesterday"), 1, TODAY, 3);
    assert_eq!(w.reject(late), "ConsentExpired");
    // The edges: a consent valid from today, and one valid until today.
    w.share("from-today", policy(TODAY, TODAY + 9));
    w.share("until-today", policy(TODAY - 9, TODAY));
    let tree = w.tree();
    let a = w.fx.access(&h, &tree, &w.sid("from-today"), 1, TODAY, 4);
    let b = w.fx.access(&h, &tree, &w.sid("until-today"), 1, TODAY, 5);
    // A token proven for tomorrow (a stronger expiry claim) lands today.
    let c =
        w.fx.access(&h, &tree, &w.sid("until-today"), 1, TODAY + 1, 6);
    w.block_ok(vec![a, b, c]);
    let far =
        w.fx.access(&h, &tree, &w.sid("until-today"), 1, TODAY + 2, 7);
    assert_eq!(w.reject(far), "StaleDay");

    // A credential that expired yesterday: it can prove only `today <= TODAY - 1`, which the
    // ledger refuses, and cannot prove today at all.
    let mut expired = w.fx.institution(Role::Hospital, 3);
    expired.attributes.expiry_day = TODAY - 1;
    let issue = w.fx.issue(expired.leaf());
    w.block_ok(vec![issue]);
    let tree = w.tree();
    let stale =
        w.fx.access(&expired, &tree, &w.sid("from-today"), 1, TODAY - 1, 8);
    assert_eq!(w.reject(stale), "StaleDay");
    let body =
        w.fx.access_body(&expired, &tree, &w.sid("from-today"), 1, TODAY, 9);
    assert!(expired
        .prove(&w.fx.prover, CHAIN_ID, &tree, &body, &mut rand::rngs::OsRng)
        .is_err());
}

fn second_issuer_holder(w: &mut World) -> Institution {
    let mut h = w.fx.institution(Role::Hospital, 3);
    h.attributes.issuer_id = SECOND_ISSUER_ID;
    h
}

/// 4. One issuer cannot mint in another's name: a leaf that discloses issuer 2, appended by
///    issuer 1, lands in issuer 1's tree, and a token disclosing issuer 2 is accepted only
///    against issuer 2's roots. Nor can issuer 2 revive a leaf issuer 1 revoked by appending
///    a copy to its own tree. The honest twins: issuer 2's own leaf works, issuer 1's leaf
///    works until revoked.
#[test]
fn one_issuer_cannot_mint_or_revive_in_anothers_name() {
    let mut w = World::new(300);
    w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let sid = w.sid("s");
    let minted = second_issuer_holder(&mut w);
    // Issuer 1 appends a leaf whose hidden issuer id is 2. The ledger cannot see inside it,
    // but the leaf is in issuer 1's tree.
    w.block_ok(vec![w.fx.issue(minted.leaf())]);
    let tree1 = w.tree();
    let token = w.fx.access(&minted, &tree1, &sid, 1, TODAY, 1);
    assert_eq!(w.reject(token), "RootNotInWindow");
    // The twin: issuer 2 appends the same credential to its own tree; the token works.
    w.block_ok(vec![w.fx.issue_by_second_issuer(minted.leaf())]);
    let tree2 = w.ledger.registry(SECOND_ISSUER_ID).unwrap().clone();
    let token = w.fx.access(&minted, &tree2, &sid, 1, TODAY, 2);
    w.block_ok(vec![token]);

    // Issuer 1's hospital works, is revoked by issuer 1, and issuer 2 re-appends a copy.
    let h = w.hospital.clone();
    let ok = w.access(&h, "s", 1, 3);
    w.block_ok(vec![ok]);
    w.block_ok(vec![w.fx.revoke(0)]);
    w.block_ok(vec![w.fx.issue_by_second_issuer(h.leaf())]);
    let tree2 = w.ledger.registry(SECOND_ISSUER_ID).unwrap().clone();
    // Disclosing issuer 1 against issuer 2's tree: refused.
    let revived = w.fx.access(&h, &tree2, &sid, 1, TODAY, 4);
    assert_eq!(w.reject(revived), "RootNotInWindow");
    // Disclosing issuer 2 for a leaf that names issuer 1: no proof exists.
    let mut as_second = h.clone();
    as_second.attributes.issuer_id = SECOND_ISSUER_ID;
    let body = w.fx.access_body(&as_second, &tree2, &sid, 1, TODAY, 5);
    assert!(as_second
        .prove(
            &w.fx.prover,
            CHAIN_ID,
            &tree2,
            &body,
            &mut rand::rngs::OsRng
        )
        .is_err());
    // Issuer 2 cannot revoke in issuer 1's tree either: its index 0 is its own leaf.
    assert_eq!(
        w.ledger.registry(ISSUER_ID).unwrap().leaves()[0],
        consentry::circuits::registry::EMPTY_LEAF
    );
}

/// 5. The issuer learns the index of the leaf its own transaction appended: two issuers
///    appending the same leaf value in one block each get their own tree's index.
#[test]
fn an_issue_records_the_index_it_appended() {
    let mut w = World::new(300);
    let leaf = w.fx.institution(Role::Hospital, 1).leaf();
    let first = w.fx.issue(leaf);
    let second = w.fx.issue_by_second_issuer(leaf);
    let other = w.fx.issue(Fr::from(12345u64));
    w.block_ok(vec![first.clone(), second.clone(), other.clone()]);
    let at = |tx: &Transaction| w.ledger.issued_leaf(&tx.id()).unwrap().unwrap();
    assert_eq!((at(&first).issuer_id, at(&first).index), (ISSUER_ID, 3));
    assert_eq!(
        (at(&second).issuer_id, at(&second).index),
        (SECOND_ISSUER_ID, 0)
    );
    assert_eq!(at(&other).index, 4);
    assert!(w.ledger.issued_leaf(&Hash32([1; 32])).unwrap().is_none());
}

/// 7. An oversized field cannot reach the chain: a 70 KB signature on an access, or any
///    signature where none belongs, is refused at admission and in a block, and the chain
///    still verifies.
#[test]
fn oversized_and_misplaced_fields_are_refused_and_the_chain_still_verifies() {
    let mut w = World::new(300);
    w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let h = w.hospital.clone();
    let mut big = w.access(&h, "s", 1, 1);
    big.auth.signature = vec![0xab; 70_000];
    assert_eq!(w.reject(big.clone()), "TooLarge");
    let mut misplaced = w.access(&h, "s", 1, 2);
    misplaced.auth.signature = vec![1; 64];
    assert_eq!(w.reject(misplaced), "InvalidField");
    let mut long_proof = w.access(&h, "s", 1, 3);
    long_proof.auth.proof.push(0);
    assert_eq!(w.reject(long_proof), "InvalidField");
    let honest = w.access(&h, "s", 1, 4);
    w.block_ok(vec![honest]);
    let scratch = tempfile::tempdir().unwrap();
    let summary = verify_chain(w.ledger.store(), scratch.path(), &w.fx.keys()).unwrap();
    assert_eq!(summary.tokens, 2);
}

/// 8. A token is bound to its chain: the same body proven for another chain id (same keys,
///    same registry) is refused here.
#[test]
fn a_token_made_for_another_chain_is_refused() {
    let mut w = World::new(300);
    w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let h = w.hospital.clone();
    let tree = w.tree();
    let body = w.fx.access_body(&h, &tree, &w.sid("s"), 1, TODAY, 1);
    let proof = h
        .prove(
            &w.fx.prover,
            "another-chain",
            &tree,
            &body,
            &mut rand::rngs::OsRng,
        )
        .unwrap();
    let replayed = builder::with_proof(body.clone(), proof);
    assert_eq!(w.reject(replayed), "ProofInvalid");
    let proof = h
        .prove(&w.fx.prover, CHAIN_ID, &tree, &body, &mut rand::rngs::OsRng)
        .unwrap();
    w.block_ok(vec![builder::with_proof(body, proof)]);
}

/// 11. A patient key that is the identity point proves nothing about who signed: refused.
#[test]
fn the_identity_point_is_not_a_patient_key() {
    let mut w = World::new(300);
    let p = w.platform.clone();
    let tree = w.tree();
    let patient = w.fx.patient_key();
    let identity = [0u8; 32];
    let body = Body::RevokeConsent(RevokeConsent {
        stream_id: stream_id_for(&identity, "s"),
        patient_key: identity,
        nonce: 0,
    });
    let mut tx = builder::patient_signed(
        &patient,
        CHAIN_ID,
        Transaction {
            body,
            auth: Auth::default(),
        },
    );
    tx.auth.signature = vec![0; 64];
    assert_eq!(w.reject(tx), "InvalidField");
    let mut body = consent_body(&mut w, stream_id_for(&identity, "s"), "s", &patient);
    if let Body::Consent(c) = &mut body {
        c.patient_key = identity;
    }
    let tx = w.fx.finish_consent(&p, &patient, &tree, body);
    assert_eq!(w.reject(tx), "InvalidField");
}

/// The world's ledger behind a sequencer with deferred proof checks and `limits`, with what
/// must outlive it (the fixture and the temp dir).
fn sequencer(
    w: World,
    limits: Limits,
) -> (
    SoloSequencer<consentry::store::RocksStore>,
    Fixture,
    tempfile::TempDir,
) {
    let key = w.fx.validator.clone();
    let World {
        ledger, fx, dir, ..
    } = w;
    let seq = SoloSequencer::with_limits(ledger, key, Admission::DeferProofs, limits);
    (seq, fx, dir)
}

/// Garbage for a flood: `valid`'s proof bytes (valid points) on another body, so only the
/// pairing can tell.
fn garbage(valid: &Transaction, n: u64) -> Transaction {
    let mut tx = valid.clone();
    if let Body::Access(a) = &mut tx.body {
        a.nonce = 1_000 + n;
    }
    tx
}

/// 9. A flood of garbage proofs (valid points, so they pass deferred admission) cannot fill
///    the mempool: once a block finds a bad proof, admission verifies proofs, so the rest of
///    the flood is refused at once while honest tokens are admitted; and a full mempool
///    answers `Busy`.
#[test]
fn a_flood_of_bad_proofs_is_refused_at_admission_after_the_first_block() {
    let mut w = World::new(300);
    w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let h = w.hospital.clone();
    let valid = w.access(&h, "s", 1, 1);
    let honest: Vec<Transaction> = (2..5).map(|n| w.access(&h, "s", 1, n)).collect();
    let garbage = |n: u64| garbage(&valid, n);
    let limits = Limits {
        max_pending: 4,
        ..Limits::default()
    };
    let (seq, fx, dir) = sequencer(w, limits);
    let now = NOON_MS + 60_000;
    for n in 0..3 {
        seq.submit(garbage(n), now).unwrap(); // deferred: admitted
    }
    seq.submit(honest[0].clone(), now).unwrap();
    // Full: the next submission is told to come back.
    let busy = seq.submit(honest[1].clone(), now).unwrap_err();
    assert_eq!(busy.code(), "Busy");
    let sealed = seq.seal(now).unwrap().unwrap();
    assert_eq!(sealed.rejected.len(), 3);
    assert_eq!(sealed.block.unwrap().tx_ids, vec![honest[0].id()]);
    // After a block found bad proofs, admission verifies: garbage is refused at once, an
    // honest token is admitted.
    assert_eq!(
        seq.submit(garbage(9), now + 1).unwrap_err().code(),
        "ProofInvalid"
    );
    seq.submit(honest[1].clone(), now + 1).unwrap();
    // ... until the flood has been quiet for the configured time.
    let later = now + 1 + Limits::default().verify_after_bad_proof_ms;
    seq.submit(garbage(10), later).unwrap();
    drop((fx, dir));
}

/// 9. The per-block cap: a seal takes at most `max_block_txs`, the rest wait for the next.
#[test]
fn a_block_takes_at_most_the_cap_and_leaves_the_rest() {
    let mut w = World::new(300);
    w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let h = w.hospital.clone();
    let txs: Vec<Transaction> = (0..3).map(|n| w.access(&h, "s", 1, n)).collect();
    let limits = Limits {
        max_block_txs: 2,
        ..Limits::default()
    };
    let (seq, fx, dir) = sequencer(w, limits);
    let now = NOON_MS + 60_000;
    for tx in &txs {
        seq.submit(tx.clone(), now).unwrap();
    }
    let first = seq.seal(now).unwrap().unwrap().block.unwrap();
    assert_eq!(first.tx_ids, vec![txs[0].id(), txs[1].id()]);
    assert_eq!(seq.pending_len(), 1);
    let second = seq.seal(now).unwrap().unwrap().block.unwrap();
    assert_eq!(second.tx_ids, vec![txs[2].id()]);
    drop((fx, dir));
}

/// 9. The address a flood comes from is refused once it sent too many invalid proofs, without
///    any check (so the flood stops costing pairings), while another address's honest
///    submission is admitted; the ban ends. Proofs are deferred to the block here, yet a new
///    address's proofs are verified at admission until it has earned trust, so none of the
///    garbage reaches the mempool.
#[test]
fn an_address_that_sends_bad_proofs_is_refused_and_others_are_not() {
    let mut w = World::new(300);
    w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let h = w.hospital.clone();
    let valid = w.access(&h, "s", 1, 1);
    let honest = w.access(&h, "s", 1, 2);
    let garbage = |n: u64| garbage(&valid, n);
    let limits = Limits {
        bad_proofs_per_source: 3,
        ..Limits::default()
    };
    let (seq, fx, dir) = sequencer(w, limits);
    let flood: std::net::IpAddr = [127, 0, 0, 2].into();
    let institution: std::net::IpAddr = [127, 0, 0, 1].into();
    let now = NOON_MS + 60_000;
    for n in 0..3 {
        let r = seq.submit_from(garbage(n), Some(flood), now).unwrap_err();
        assert_eq!(r.code(), "ProofInvalid");
    }
    // Banned: even a valid transaction from that address is refused, with when to retry.
    match seq.submit_from(valid.clone(), Some(flood), now + 1) {
        Err(Rejection::Busy {
            retry_after_secs, ..
        }) => assert!(retry_after_secs > 0 && retry_after_secs <= 60),
        other => panic!("expected Busy, got {other:?}"),
    }
    seq.submit_from(honest, Some(institution), now + 1).unwrap();
    assert_eq!(seq.pending_len(), 1, "no garbage in the mempool");
    // After the ban, the address is heard again.
    let later = now + 1 + Limits::default().source_ban_ms;
    seq.submit_from(valid, Some(flood), later).unwrap();
    drop((fx, dir));
}

/// 10. A cohort range proof that fails costs a verification like a bad token does, and counts
///     the same: an address sending consents with broken cohort proofs is banned, and its
///     next submission, even a valid one, is refused without any check.
#[test]
fn an_address_that_sends_bad_cohort_proofs_is_refused() {
    use consentry::cohort::Answer;
    let mut w = World::new(300);
    let r = w.research.clone();
    let p = w.platform.clone();
    let tree = w.tree();
    let cohort = vec![CohortRange {
        attribute: "age".into(),
        lo: 40,
        hi: 60,
    }];
    let scope = w.fx.fresh_scope();
    let study = w.fx.finish(
        &r,
        &tree,
        Body::StudyRequest(StudyRequest {
            purpose: "care".into(),
            required_role: Role::Research,
            min_level: 1,
            cohort: cohort.clone(),
            nonce: 1,
            claim: w.fx.claim(&r, &tree, scope, 0, TODAY),
        }),
    );
    w.block_ok(vec![study.clone()]);
    let answer = |w: &mut World, n: u64, broken: bool| {
        let patient = w.fx.patient_key();
        let a = Answer::commit(&cohort, &[50], &mut rand::rngs::OsRng).unwrap();
        let scope = w.fx.fresh_scope();
        let name = format!("c{n}");
        let body = Body::Consent(Consent {
            stream_id: Fixture::stream_id(&patient, &name),
            stream_name: name,
            policy: Fixture::policy(&[Role::Research], 1),
            data_digest: None,
            study: Some(study.id()),
            cohort: a.commitments.clone(),
            replaces: None,
            patient_key: patient.public.to_bytes(),
            nonce: n,
            claim: w.fx.claim(&p, &tree, scope, 0, TODAY),
        });
        let mut proof = a
            .prove(CHAIN_ID, study.id(), body.id(), &mut rand::rngs::OsRng)
            .unwrap();
        if broken {
            proof[64] ^= 1;
        }
        let mut tx = w.fx.finish_consent(&p, &patient, &tree, body);
        tx.auth.cohort = proof;
        tx
    };
    let bad: Vec<Transaction> = (0..3).map(|n| answer(&mut w, n, true)).collect();
    let valid = answer(&mut w, 9, false);
    let limits = Limits {
        bad_proofs_per_source: 3,
        ..Limits::default()
    };
    let (seq, fx, dir) = sequencer(w, limits);
    let flood: std::net::IpAddr = [127, 0, 0, 3].into();
    let now = NOON_MS + 60_000;
    for tx in bad {
        let r = seq.submit_from(tx, Some(flood), now).unwrap_err();
        assert_eq!(r.code(), "CohortProofInvalid");
    }
    match seq.submit_from(valid.clone(), Some(flood), now + 1) {
        Err(Rejection::Busy { .. }) => {}
        other => panic!("expected Busy, got {other:?}"),
    }
    seq.submit_from(valid, Some([127, 0, 0, 1].into()), now + 1)
        .unwrap();
    drop((fx, dir));
}
