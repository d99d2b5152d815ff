//! The ledger over a real RocksDB in a temp dir: the consent/access story, every rejection
//! reason beside its valid twin, reopen, tampering, revocation delay and encodings.

use consentry::circuits::credential::Role;
use consentry::circuits::field;
use consentry::ledger::fixture::{Fixture, CHAIN_ID, ISSUER_ID, NOON_MS};
use consentry::ledger::*;
use consentry::store::{Batch, Column, RocksStore, Store};
use proptest::prelude::*;

mod common;
use common::{World, DEPTH, TODAY};

#[test]
fn consent_and_access_story_with_pseudonyms_and_audit() {
    let mut w = World::new(4);
    w.share(
        "stream-1",
        Fixture::policy(&[Role::Hospital, Role::Research], 2),
    );
    let h = w.hospital.clone();
    let r = w.research.clone();
    let a1 = w.access(&h, "stream-1", 2, 1);
    let a2 = w.access(&h, "stream-1", 3, 2);
    let a3 = w.access(&r, "stream-1", 2, 3);
    w.block_ok(vec![a1.clone(), a2.clone()]);
    w.block_ok(vec![a3.clone()]);

    let s = w.ledger.stream(&w.sid("stream-1")).unwrap().unwrap();
    assert!(s.shared);
    assert_eq!(
        s.distinct_accessors, 2,
        "the hospital twice, the research centre once"
    );
    assert_eq!(s.latest_access, Some(a3.id()));
    let hist = w.ledger.history(&w.sid("stream-1"), 0, 100).unwrap();
    assert_eq!(hist.len(), 4);
    assert_eq!(
        hist[1].pseudonym, hist[2].pseudonym,
        "same institution, same scope"
    );
    assert_ne!(
        hist[1].pseudonym, hist[3].pseudonym,
        "different institutions"
    );
    assert_eq!(w.ledger.transaction(&a1.id()).unwrap().unwrap().1, a1);

    // Same hospital on another stream: a different pseudonym (unlinkable across streams).
    w.share("stream-2", Fixture::policy(&[Role::Hospital], 1));
    let other = w.access(&h, "stream-2", 1, 1);
    w.block_ok(vec![other]);
    let hist2 = w.ledger.history(&w.sid("stream-2"), 0, 10).unwrap();
    assert_ne!(hist2[1].pseudonym, hist[1].pseudonym);
}

#[test]
fn policy_rejections_each_beside_a_valid_twin() {
    let mut w = World::new(4);
    let patient = w.share("s", Fixture::policy(&[Role::Hospital], 3));
    let h = w.hospital.clone();
    let r = w.research.clone();
    let p = w.platform.clone();

    let ok = w.access(&h, "s", 3, 1);
    w.block_ok(vec![ok]);
    let low = w.access(&h, "s", 2, 2);
    assert_eq!(w.reject(low), "LevelTooLow");
    let wrong_role = w.access(&r, "s", 2, 3);
    assert_eq!(w.reject(wrong_role), "RoleNotAllowed");
    let unknown = w.access(&h, "nope", 3, 4);
    assert_eq!(w.reject(unknown), "UnknownStream");

    let tree = w.tree();
    let mut body = w.fx.access_body(&h, &tree, &w.sid("s"), 3, TODAY, 5);
    if let Body::Access(a) = &mut body {
        a.purpose = "marketing".into();
    }
    let tx = w.fx.finish(&h, &tree, body);
    assert_eq!(w.reject(tx), "PurposeMismatch");

    // Expired consent window: a new consent valid only until yesterday.
    let mut expired = Fixture::policy(&[Role::Hospital], 3);
    expired.valid_until = TODAY - 1;
    let tree = w.tree();
    let latest = w
        .ledger
        .stream(&w.sid("s"))
        .unwrap()
        .unwrap()
        .latest_consent;
    let consent =
        w.fx.reshare(&p, &patient, &tree, "s", expired, TODAY, latest);
    w.block_ok(vec![consent]);
    let late = w.access(&h, "s", 3, 6);
    assert_eq!(w.reject(late), "ConsentExpired");

    // Withdrawn consent: the patient alone, no platform token.
    let revoke = w.fx.withdraw(&patient, "s", 1);
    w.block_ok(vec![revoke]);
    let after = w.access(&h, "s", 3, 7);
    assert_eq!(w.reject(after), "ConsentRevoked");
    let again = w.fx.withdraw(&patient, "s", 2);
    assert_eq!(w.reject(again), "NotShared");
}

#[test]
fn signature_and_key_rejections() {
    let mut w = World::new(4);
    let patient = w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let p = w.platform.clone();
    let tree = w.tree();

    // Another patient key for an existing stream: a withdrawal signed by an intruder's key.
    let intruder = w.fx.patient_key();
    let mut tx = w.fx.withdraw(&intruder, "s", 1);
    if let Body::RevokeConsent(r) = &mut tx.body {
        r.stream_id = w.sid("s");
    }
    let tx = consentry::client::builder::patient_signed(&intruder, CHAIN_ID, tx);
    assert_eq!(w.reject(tx), "PatientKeyMismatch");

    // A consent whose patient signature was made over another body.
    let mut tx = w.fx.consent(
        &p,
        &patient,
        &tree,
        "s2",
        Fixture::policy(&[Role::Hospital], 1),
        TODAY,
    );
    let other = w.fx.consent(
        &p,
        &patient,
        &tree,
        "s3",
        Fixture::policy(&[Role::Hospital], 1),
        TODAY,
    );
    tx.auth.signature = other.auth.signature.clone();
    assert_eq!(w.reject(tx), "BadPatientSignature");
    w.block_ok(vec![other]);

    // Issuer signatures.
    let mut bad = w.fx.issue(consentry::circuits::Fr::from(77u64));
    bad.auth.signature[5] ^= 1;
    assert_eq!(w.reject(bad), "BadIssuerSignature");
    let mut foreign = w.fx.issue(consentry::circuits::Fr::from(78u64));
    if let Body::IssueCredential(b) = &mut foreign.body {
        b.issuer_id = 9;
    }
    assert_eq!(w.reject(foreign), "UnknownIssuer");
    // Signatures are bound to the chain: the same body signed for another chain is refused.
    let other_chain = consentry::client::builder::issuer_signed(
        &w.fx.issuer,
        "another-chain",
        w.fx.issue(consentry::circuits::Fr::from(80u64)).body,
    );
    assert_eq!(w.reject(other_chain), "BadIssuerSignature");
    let tree = w.tree();
    let p2 = w.platform.clone();
    let elsewhere = w.fx.consent(
        &p2,
        &patient,
        &tree,
        "s7",
        Fixture::policy(&[Role::Hospital], 1),
        TODAY,
    );
    let resigned = consentry::client::builder::patient_signed(&patient, "another-chain", elsewhere);
    assert_eq!(w.reject(resigned), "BadPatientSignature");
    let good = w.fx.issue(consentry::circuits::Fr::from(79u64));
    w.block_ok(vec![good]);

    // Revocation rules: an issuer revokes in its own tree only; the second issuer's tree
    // is empty, so its revoke of index 3 names no leaf.
    let foreign_revoke = w.fx.revoke_by_second_issuer(3);
    assert_eq!(w.reject(foreign_revoke), "Registry");
    // Signed by the first issuer's key but claiming to be the second: bad signature.
    let mut forged = w.fx.revoke(3);
    if let Body::RevokeCredential(b) = &mut forged.body {
        b.issuer_id = 2;
    }
    assert_eq!(w.reject(forged), "BadIssuerSignature");
    let revoke = w.fx.revoke(3);
    w.block_ok(vec![revoke]);
    let twice = w.fx.revoke(3);
    let twice_reason = w.reject(twice.clone());
    assert_eq!(twice_reason, "Replay", "same body, same id");
    let mut body = twice.body.clone();
    if let Body::RevokeCredential(b) = &mut body {
        b.index = 99;
    }
    assert_eq!(w.reject(w.fx.issuer_signed(body)), "Registry");

    // A study reference that does not exist.
    let tree = w.tree();
    let scope = w.fx.fresh_scope();
    let body = Body::Consent(Consent {
        stream_id: Fixture::stream_id(&patient, "s9"),
        stream_name: "s9".into(),
        policy: Fixture::policy(&[Role::Research], 1),
        data_digest: None,
        study: Some(Hash32([9; 32])),
        cohort: vec![],
        replaces: None,
        patient_key: patient.public.to_bytes(),
        nonce: 0,
        claim: w.fx.claim(&p, &tree, scope, 0, TODAY),
    });
    let tx = w.fx.finish_consent(&p, &patient, &tree, body);
    assert_eq!(w.reject(tx), "UnknownStudy");
}

#[test]
fn token_rejections_each_beside_a_valid_twin() {
    let mut w = World::new(2);
    w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let h = w.hospital.clone();

    // Modified body after proving: the message binding breaks the proof.
    let mut tx = w.access(&h, "s", 1, 1);
    if let Body::Access(a) = &mut tx.body {
        a.nonce = 99;
    }
    assert_eq!(w.reject(tx), "ProofInvalid");
    // Flipped proof bytes: an invalid point or a failed check.
    let mut tx = w.access(&h, "s", 1, 2);
    tx.auth.proof[100] ^= 1;
    let reason = w.reject(tx);
    assert!(
        reason == "ProofInvalid" || reason == "InvalidField",
        "{reason}"
    );
    // Truncated proof.
    let mut tx = w.access(&h, "s", 1, 3);
    tx.auth.proof.truncate(100);
    assert_eq!(w.reject(tx), "InvalidField");
    // A signature where none belongs (and that no check would read).
    let mut tx = w.access(&h, "s", 1, 31);
    tx.auth.signature = vec![7; 64];
    assert_eq!(w.reject(tx), "InvalidField");
    // Wrong scope: a token for another stream's scope.
    let tree = w.tree();
    let mut body = w.fx.access_body(&h, &tree, &w.sid("s"), 1, TODAY, 4);
    let other_scope =
        w.fx.claim(&h, &tree, field::access_scope(&w.sid("other")), 1, TODAY);
    if let Body::Access(a) = &mut body {
        a.claim = other_scope;
    }
    let tx = w.fx.finish(&h, &tree, body);
    assert_eq!(w.reject(tx), "WrongScope");
    // Stale day.
    let tx = w.fx.access(&h, &tree, &w.sid("s"), 1, TODAY - 3, 5);
    assert_eq!(w.reject(tx), "StaleDay");
    // Invalid delivery key.
    let mut body = w.fx.access_body(&h, &tree, &w.sid("s"), 1, TODAY, 6);
    if let Body::Access(a) = &mut body {
        a.delivery_key = [0xff; 32];
    }
    let tx = w.fx.finish(&h, &tree, body);
    assert_eq!(w.reject(tx), "InvalidField");
    // A delivery key of small order (a shared secret anyone can compute).
    let mut body = w.fx.access_body(&h, &tree, &w.sid("s"), 1, TODAY, 16);
    if let Body::Access(a) = &mut body {
        a.delivery_key = [0; 32];
    }
    let tx = w.fx.finish(&h, &tree, body);
    assert_eq!(w.reject(tx), "InvalidField");
    // Unknown depth.
    let mut tx = w.access(&h, "s", 1, 7);
    if let Body::Access(a) = &mut tx.body {
        a.claim.depth = 20;
    }
    assert_eq!(w.reject(tx), "UnknownDepth");
    // Replay, across blocks and within one block.
    let tx = w.access(&h, "s", 1, 8);
    w.block_ok(vec![tx.clone()]);
    assert_eq!(w.reject(tx), "Replay");
    let tx = w.access(&h, "s", 1, 9);
    let (b, rejected) = w.block(vec![tx.clone(), tx.clone()]);
    assert_eq!(b.tx_ids, vec![tx.id()]);
    assert_eq!(rejected[0].1.code(), "Replay");
    // A genesis after block 0.
    let g = Transaction {
        body: Body::Genesis(w.fx.genesis(2)),
        auth: Auth::default(),
    };
    assert_eq!(w.reject(g), "UnexpectedGenesis");
}

/// A holder proving transaction after transaction through one proof cache (as a service
/// would): every proof is committed, in one block; the same cached proof on a modified body
/// is refused; after the registry grows, the cache still yields accepted proofs.
#[test]
fn cached_holder_proofs_are_accepted_and_still_bound_to_their_body() {
    let mut w = World::new(4);
    w.share("s", Fixture::policy(&[Role::Hospital], 1));
    w.share("t", Fixture::policy(&[Role::Hospital], 1));
    let h = w.hospital.clone();
    let mut cache = consentry::circuits::groth::ProofCache::new();
    let mut prove = |w: &mut World, stream: &str, nonce: u64| {
        let tree = w.tree();
        let body = w.fx.access_body(&h, &tree, &w.sid(stream), 1, TODAY, nonce);
        let proof = h
            .prove_cached(
                &w.fx.prover,
                &mut cache,
                CHAIN_ID,
                &tree,
                &body,
                &mut rand::rngs::OsRng,
            )
            .unwrap();
        consentry::client::builder::with_proof(body, proof)
    };
    let txs: Vec<Transaction> = [("s", 1), ("t", 2), ("s", 3), ("t", 4)]
        .iter()
        .map(|&(stream, nonce)| prove(&mut w, stream, nonce))
        .collect();
    w.block_ok(txs);
    let mut tampered = prove(&mut w, "s", 5);
    if let Body::Access(a) = &mut tampered.body {
        a.nonce = 55;
    }
    assert_eq!(w.reject(tampered), "ProofInvalid");
    // The registry grows (a new root, new path values): the cached proof is still exact.
    let newcomer = w.fx.institution(Role::Hospital, 2);
    let issue = w.fx.issue(newcomer.leaf());
    w.block_ok(vec![issue]);
    let tx = prove(&mut w, "t", 6);
    w.block_ok(vec![tx]);
}

/// The revocation delay is bounded in time: a token against the root a revocation replaced
/// is accepted in blocks up to `root_window_secs` after the revoking block, and refused in
/// any later block, however few blocks were made in between (a quiet chain, the clock moved).
#[test]
fn revocation_takes_effect_after_the_root_window_in_seconds_on_a_quiet_chain() {
    const WINDOW_SECS: u64 = 60;
    let mut w = World::new(WINDOW_SECS as u32);
    w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let h = w.hospital.clone();
    let old_tree = w.tree(); // contains the hospital
    let sid = w.sid("s");
    let tokens: Vec<Transaction> = (0..3)
        .map(|n| w.fx.access(&h, &old_tree, &sid, 1, TODAY, 100 + n))
        .collect();
    w.block_ok(vec![w.fx.revoke(0)]); // revokes the hospital (leaf 0) at block time T
    let revoked_at = w.time;
    // The hospital can no longer prove against the new root (its leaf is empty).
    assert!(w.tree().position(&h.leaf()).is_none());
    // A block one second later accepts a token against the replaced root.
    w.block_ok(vec![tokens[0].clone()]);
    // No block for almost the whole window; the next block, exactly at T + window, accepts.
    w.time = revoked_at + WINDOW_SECS * 1000 - 1000;
    w.block_ok(vec![tokens[1].clone()]);
    // One block later, past the window: refused, although only two blocks were made.
    assert_eq!(w.reject(tokens[2].clone()), "RootNotInWindow");
    // The current root never expires on a quiet chain.
    w.time += 10 * WINDOW_SECS * 1000;
    let r = w.research.clone();
    let fresh = w.access(&r, "s", 1, 7);
    w.time += 10 * WINDOW_SECS * 1000;
    assert_eq!(w.reject(fresh), "RoleNotAllowed", "past the root checks");
}

#[test]
fn reopen_restores_state_and_verify_chain_passes() {
    let mut w = World::new(4);
    w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let h = w.hospital.clone();
    let tx = w.access(&h, "s", 1, 1);
    w.block_ok(vec![tx]);
    w.block_ok(vec![w.fx.revoke(1)]);
    let sid = w.sid("s");
    let height = w.ledger.tip().height;
    let root = w.ledger.registry_digest();
    let now = w.time;
    let roots = w.ledger.recent_roots(ISSUER_ID, now);
    // The current root, the one the revoke replaced, and the empty root the first block
    // replaced 3 s earlier: all inside the 4 s window.
    assert_eq!(roots.len(), 3);
    let keys = w.fx.keys();
    let World {
        ledger, dir, fx, ..
    } = w;
    drop(ledger);
    let store = RocksStore::open(&dir.path().join("db")).unwrap();
    let mut ledger = Ledger::open(store, keys).unwrap();
    assert_eq!(ledger.tip().height, height);
    assert_eq!(ledger.registry_digest(), root);
    assert_eq!(ledger.recent_roots(ISSUER_ID, now), roots);
    assert_eq!(ledger.history(&sid, 0, 10).unwrap().len(), 2);
    // It goes on committing after reopen.
    let (b, _) = ledger
        .propose(
            vec![fx.issue(consentry::circuits::Fr::from(5u64))],
            NOON_MS + 10_000_000,
            &fx.validator,
        )
        .unwrap();
    assert_eq!(b.header.height, height + 1);

    let scratch = tempfile::tempdir().unwrap();
    let summary = verify_chain(ledger.store(), scratch.path(), &fx.keys()).unwrap();
    assert_eq!(summary.blocks, height + 2);
    assert_eq!(summary.tokens, 2);
    assert_eq!(summary.registry_digest, ledger.registry_digest().to_hex());
}

#[test]
fn a_flipped_byte_in_a_stored_block_fails_verify_chain_at_that_height() {
    let mut w = World::new(4);
    w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let h = w.hospital.clone();
    let tx = w.access(&h, "s", 1, 1);
    w.block_ok(vec![tx]);
    w.block_ok(vec![w.fx.issue(consentry::circuits::Fr::from(9u64))]);
    let store = w.ledger.store();
    for (height, at) in [(3u64, 20usize), (2, 60)] {
        let key = height.to_be_bytes();
        let original = store.get(Column::Blocks, &key).unwrap().unwrap();
        let mut bytes = original.clone();
        bytes[at] ^= 0x01;
        let mut batch = Batch::default();
        batch.put(Column::Blocks, key.to_vec(), bytes);
        store.commit(batch).unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let fault = verify_chain(store, scratch.path(), &w.fx.keys()).unwrap_err();
        assert_eq!(fault.height, height, "{fault}");
        let mut batch = Batch::default();
        batch.put(Column::Blocks, key.to_vec(), original);
        store.commit(batch).unwrap();
    }
    // A tampered transaction record is caught too.
    let id = w.ledger.block(3).unwrap().unwrap().tx_ids[0];
    let mut rec = store.get(Column::Transactions, &id.0).unwrap().unwrap();
    let n = rec.len();
    rec[n - 5] ^= 1;
    let mut batch = Batch::default();
    batch.put(Column::Transactions, id.0.to_vec(), rec);
    store.commit(batch).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    assert_eq!(
        verify_chain(store, scratch.path(), &w.fx.keys())
            .unwrap_err()
            .height,
        3
    );
}

#[test]
fn a_genesis_with_other_key_digests_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fx = Fixture::new(DEPTH, dir.path(), 4);
    let mut genesis = fx.genesis(4);
    genesis.verifying_keys[0].digest = Hash32([1; 32]);
    let store = RocksStore::open(&dir.path().join("db")).unwrap();
    let err = Ledger::create(store, genesis, fx.keys(), &fx.validator)
        .err()
        .unwrap();
    assert!(err.to_string().contains("verifying key"), "{err}");
}

fn sample_tx(seed: u64) -> Transaction {
    let claim = TokenClaim {
        depth: 20,
        root: Hash32([seed as u8; 32]),
        scope: Hash32([1; 32]),
        pseudonym: Hash32([2; 32]),
        role: Role::ALL[(seed % 5) as usize],
        issuer_id: seed as u32,
        min_level: (seed >> 8) as u16,
        today: (seed >> 16) as u32,
        escrow: seed
            .is_multiple_of(2)
            .then_some(consentry::ledger::EscrowBytes([seed as u8; 64])),
    };
    let body = match seed % 4 {
        3 => Body::Opening(consentry::ledger::Opening {
            access: Hash32([seed as u8; 32]),
            case: format!("case {seed}"),
        }),
        0 => Body::Access(Access {
            stream_id: format!("s{seed}"),
            purpose: "p".into(),
            delivery_key: [3; 32],
            nonce: seed,
            claim,
        }),
        1 => Body::IssueCredential(IssueCredential {
            issuer_id: seed as u32,
            leaf: Hash32([4; 32]),
        }),
        _ => Body::Consent(Consent {
            stream_id: "x".into(),
            stream_name: "n".into(),
            policy: Policy {
                roles: vec![Role::Hospital],
                min_level: 1,
                purpose: "p".into(),
                valid_from: 0,
                valid_until: 9,
                escrow: seed.is_multiple_of(5),
            },
            data_digest: None,
            study: Some(Hash32([5; 32])),
            cohort: vec![],
            replaces: Some(Hash32([8; 32])),
            patient_key: [6; 32],
            nonce: seed,
            claim,
        }),
    };
    Transaction {
        body,
        auth: Auth {
            proof: vec![seed as u8; 192],
            signature: vec![1; 64],
            cohort: vec![],
        },
    }
}

proptest! {
    #[test]
    fn encoding_round_trips_and_id_ignores_auth(seed in any::<u64>(), other in any::<u8>()) {
        let tx = sample_tx(seed);
        prop_assert_eq!(Transaction::from_bytes(&tx.to_bytes()).unwrap(), tx.clone());
        let json = serde_json::to_string(&tx).unwrap();
        prop_assert_eq!(serde_json::from_str::<Transaction>(&json).unwrap(), tx.clone());
        let mut rerandomised = tx.clone();
        rerandomised.auth.proof = vec![other; 192];
        rerandomised.auth.signature = vec![other; 64];
        prop_assert_eq!(rerandomised.id(), tx.id());
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Transaction::from_bytes(&bytes);
        let _ = Block::from_bytes(&bytes);
    }

    #[test]
    fn decoding_mutated_transactions_never_panics(seed in any::<u64>(), pos in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = sample_tx(seed).to_bytes();
        let n = bytes.len();
        bytes[pos % n] = byte;
        let _ = Transaction::from_bytes(&bytes);
    }
}

#[test]
fn the_solo_sequencer_admits_orders_and_refuses() {
    use consentry::consensus::{Admission, Sequencer, SoloSequencer};
    let w = World::new(4);
    let key = w.fx.validator.clone();
    let issue = w.fx.issue(consentry::circuits::Fr::from(1234u64));
    let mut bad = w.fx.issue(consentry::circuits::Fr::from(1235u64));
    bad.auth.signature[0] ^= 1;
    let World {
        ledger, fx, dir, ..
    } = w;
    let seq = SoloSequencer::new(ledger, key, Admission::VerifyProofs);
    let id = seq.submit(issue.clone(), NOON_MS + 5000).unwrap();
    assert_eq!(
        seq.submit(issue.clone(), NOON_MS + 5000)
            .unwrap_err()
            .code(),
        "Replay"
    );
    assert_eq!(
        seq.submit(bad, NOON_MS + 5000).unwrap_err().code(),
        "BadIssuerSignature"
    );
    let sealed = seq.seal(NOON_MS + 6000).unwrap().unwrap();
    let (block, rejected) = (sealed.block.unwrap(), sealed.rejected);
    assert!(rejected.is_empty());
    assert_eq!(block.tx_ids, vec![id]);
    assert!(
        seq.seal(NOON_MS + 7000).unwrap().is_none(),
        "nothing pending"
    );
    assert_eq!(
        seq.submit(issue, NOON_MS + 8000).unwrap_err().code(),
        "Replay"
    );
    seq.with_ledger(|l| assert_eq!(l.tip().height, block.header.height));
    drop((fx, dir));
}

/// A leader with several proposals in flight never proposes a transaction twice, and a
/// failed proposal's transactions go into the next one.
#[test]
fn batches_in_flight_are_taken_once_released_on_failure_and_settled_once_built() {
    use consentry::consensus::{Admission, Limits, Sequencer, SoloSequencer};
    let w = World::new(4);
    let key = w.fx.validator.clone();
    let txs: Vec<Transaction> = (0..5u64)
        .map(|i| w.fx.issue(consentry::circuits::Fr::from(7000 + i)))
        .collect();
    let World {
        ledger, fx, dir, ..
    } = w;
    let limits = Limits {
        max_block_txs: 2,
        ..Limits::default()
    };
    let seq = SoloSequencer::with_limits(ledger, key, Admission::VerifyProofs, limits);
    let now = NOON_MS + 5000;
    let ids: Vec<TxId> = txs
        .iter()
        .map(|t| seq.submit(t.clone(), now).unwrap())
        .collect();
    let first = seq.take_batch();
    let second = seq.take_batch();
    assert_eq!(first.ids, ids[0..2], "the oldest, at most max_block_txs");
    assert_eq!(second.ids, ids[2..4], "never the ones in flight");
    assert_eq!(seq.batch().ids, ids[4..5], "a plain batch skips them too");
    // The first proposal failed: its transactions are the next to go.
    seq.release(&first.ids);
    assert_eq!(seq.take_batch().ids, ids[0..2]);
    assert_eq!(seq.take_batch().ids, ids[4..5]);
    assert!(seq.take_batch().ids.is_empty(), "everything is in flight");
    // In flight is still pending: a replay is refused, a status query says pending.
    assert_eq!(
        seq.submit(txs[3].clone(), now).unwrap_err().code(),
        "Replay"
    );
    assert!(seq.is_pending(&ids[3]));
    seq.settle(&second.ids, now);
    assert!(!seq.is_pending(&ids[3]));
    assert_eq!(seq.pending_len(), 3);
    drop((fx, dir));
}

#[test]
fn a_seal_where_every_transaction_fails_commits_no_block() {
    use consentry::consensus::{Admission, Sequencer, SoloSequencer};
    let mut w = World::new(4);
    w.share("s", Fixture::policy(&[Role::Hospital], 1));
    let h = w.hospital.clone();
    let mut forged = w.access(&h, "s", 1, 1);
    if let Body::Access(a) = &mut forged.body {
        a.nonce = 2; // the proof was bound to nonce 1
    }
    let valid = w.access(&h, "s", 1, 3);
    let key = w.fx.validator.clone();
    let World {
        ledger, fx, dir, ..
    } = w;
    let height = ledger.tip().height;
    let seq = SoloSequencer::new(ledger, key, Admission::DeferProofs);
    let now = NOON_MS + 60_000;
    let id = seq.submit(forged, now).unwrap(); // the pairing is deferred to the block
    let sealed = seq.seal(now).unwrap().unwrap();
    assert!(
        sealed.block.is_none(),
        "an all-rejected seal must not make an empty block"
    );
    assert_eq!(sealed.rejected[0].1.code(), "ProofInvalid");
    assert_eq!(seq.rejection(&id).unwrap().code(), "ProofInvalid");
    assert!(!seq.is_pending(&id));
    seq.with_ledger(|l| assert_eq!(l.tip().height, height));
    // The twin: a valid access makes a block.
    seq.submit(valid, now).unwrap();
    let sealed = seq.seal(now).unwrap().unwrap();
    assert_eq!(sealed.block.unwrap().header.height, height + 1);
    drop((fx, dir));
}

/// A quorum-signed block whose registry digest is wrong is refused after its registry changes
/// were applied in memory: the ledger then refuses everything, naming why, until reopened, and
/// the reopened ledger applies the honest block. The twin: a fresh follower applies it at once.
#[test]
fn a_block_refused_after_its_registry_changes_leaves_the_ledger_stale_until_reopened() {
    let w = World::new(300);
    let block1 = w.ledger.block(1).unwrap().unwrap();
    let txs: Vec<Transaction> = block1
        .tx_ids
        .iter()
        .map(|id| w.ledger.transaction(id).unwrap().unwrap().1)
        .collect();
    let follower = |name: &str| {
        let store = RocksStore::open(&w.dir.path().join(name)).unwrap();
        Ledger::create(store, w.fx.genesis(300), w.fx.keys(), &w.fx.validator).unwrap()
    };
    let mut honest = follower("honest");
    honest.apply(&block1, txs.clone()).unwrap();
    assert_eq!(honest.registry_digest(), w.ledger.registry_digest());

    let mut bad = block1.clone();
    bad.header.registry_root = Hash32([1; 32]);
    bad.signatures = vec![block::sign_header(
        &w.fx.validator,
        CHAIN_ID,
        &bad.header.hash(),
    )];
    let mut victim = follower("victim");
    let err = victim.apply(&bad, txs.clone()).unwrap_err().to_string();
    assert!(err.contains("registry digest"), "{err}");
    let err = victim.apply(&block1, txs.clone()).unwrap_err();
    assert!(matches!(err, LedgerError::Stale(_)), "{err}");
    drop(victim);
    let store = RocksStore::open(&w.dir.path().join("victim")).unwrap();
    let mut reopened = Ledger::open(store, w.fx.keys()).unwrap();
    reopened.apply(&block1, txs).unwrap();
    assert_eq!(reopened.registry_digest(), w.ledger.registry_digest());
}

/// What a data platform checks before releasing records: the transaction is in a block whose
/// ids match its Merkle root and whose header a quorum of genesis validators signed. Each
/// forgery a node could answer is refused.
#[test]
fn finality_is_checked_from_the_genesis_alone_and_every_forgery_is_refused() {
    use consentry::delivery::{check_final, FinalityError};
    use consentry::ledger::block::sign_header;
    let w = World::new(4);
    let genesis = w.ledger.genesis().clone();
    let block = w.ledger.block(1).unwrap().unwrap();
    let id = block.tx_ids[1];
    let tx = w.ledger.transaction(&id).unwrap().unwrap().1;
    check_final(&genesis, &block, &tx).unwrap();

    // A transaction the block does not hold (a modified body hashes to another id).
    let mut other = tx.clone();
    if let Body::IssueCredential(i) = &mut other.body {
        i.leaf.0[31] ^= 1;
    }
    assert!(matches!(
        check_final(&genesis, &block, &other),
        Err(FinalityError::NotInBlock(..))
    ));
    // An id slipped into the list: the Merkle root no longer matches.
    let mut padded = block.clone();
    padded.tx_ids.push(other.id());
    assert_eq!(
        check_final(&genesis, &padded, &other),
        Err(FinalityError::TxRoot(1))
    );
    // No signatures; a header changed after signing; a stranger's signature.
    let mut unsigned = block.clone();
    unsigned.signatures.clear();
    assert!(matches!(
        check_final(&genesis, &unsigned, &tx),
        Err(FinalityError::NotFinal { .. })
    ));
    let mut moved = block.clone();
    moved.header.time_ms += 1;
    assert!(matches!(
        check_final(&genesis, &moved, &tx),
        Err(FinalityError::NotFinal { .. })
    ));
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let mut foreign = block.clone();
    foreign.signatures = vec![sign_header(
        &stranger,
        &genesis.chain_id,
        &block.header.hash(),
    )];
    assert!(matches!(
        check_final(&genesis, &foreign, &tx),
        Err(FinalityError::NotFinal { .. })
    ));
    // Under a genesis of two validators with quorum 2, one signature is not final; the
    // second validator's makes it final.
    let second = ed25519_dalek::SigningKey::from_bytes(&[10; 32]);
    let mut two = genesis.clone();
    two.validators.push(second.verifying_key().to_bytes());
    two.quorum = 2;
    match check_final(&two, &block, &tx) {
        Err(FinalityError::NotFinal { reason, .. }) => {
            assert!(reason.contains("1 of 2"), "{reason}")
        }
        other => panic!("one of two signatures: {other:?}"),
    }
    let mut both = block.clone();
    both.signatures.push(sign_header(
        &second,
        &genesis.chain_id,
        &block.header.hash(),
    ));
    check_final(&two, &both, &tx).unwrap();
    // The same signature twice is one signer.
    let mut twice = block.clone();
    twice.signatures.push(block.signatures[0].clone());
    assert!(check_final(&two, &twice, &tx).is_err());
    drop(w);
}
