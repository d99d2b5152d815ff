//! Every validator executes each ordered proposal itself: two validators fed the same
//! proposal build the same block and reject the same transactions for the same reasons; a
//! signature over a different header is never counted; a proposal not signed by the
//! validator it names is refused.

use consentry::circuits::credential::Role;
use consentry::consensus::raft::Proposal;
use consentry::ledger::execute::VerifiedTokens;
use consentry::ledger::fixture::{Fixture, ISSUER_ID, NOON_MS};
use consentry::ledger::{block, Countersign, Ledger, Sealed, Transaction, TxId};
use consentry::store::RocksStore;
use ed25519_dalek::SigningKey;

const TODAY: u32 = (NOON_MS / 86_400_000) as u32;

/// What the Raft state machine does with a committed proposal, on one validator.
fn apply(ledger: &mut Ledger<RocksStore>, p: &Proposal, key: &SigningKey) -> Sealed {
    let g = ledger.genesis().clone();
    let (txs, proposer) = p
        .open(&g.chain_id, &g.validators)
        .expect("a valid proposal");
    let context = ledger.admission_context(p.time_ms);
    let checked = txs.iter().map(|tx| context.token_of(tx)).collect();
    let verified = VerifiedTokens::verify_checked(ledger.verifiers(), checked);
    ledger
        .apply_proposal(txs, verified, p.time_ms, proposer, key, Default::default())
        .unwrap()
}

fn rejections(s: &Sealed) -> Vec<(TxId, String)> {
    s.rejected
        .iter()
        .map(|(id, r)| (*id, r.code().to_string()))
        .collect()
}

#[test]
fn validators_build_identical_blocks_and_count_only_matching_signatures() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("params")).unwrap();
    let mut fx = Fixture::new(4, &dir.path().join("params"), 11);
    let keys = [
        fx.validator.clone(),
        SigningKey::from_bytes(&[2; 32]),
        SigningKey::from_bytes(&[3; 32]),
    ];
    let mut genesis = fx.genesis(300);
    genesis.validators = keys.iter().map(|k| k.verifying_key().to_bytes()).collect();
    genesis.quorum = 2;
    let open = |i: usize| {
        let store = RocksStore::open(&dir.path().join(format!("db-{i}"))).unwrap();
        Ledger::create(store, genesis.clone(), fx.keys(), &keys[i]).unwrap()
    };
    let (mut a, mut b) = (open(0), open(1));
    assert_eq!(
        a.tip().hash(),
        b.tip().hash(),
        "block 0 is the same everywhere"
    );

    let hospital = fx.institution(Role::Hospital, 3);
    let platform = fx.institution(Role::Platform, 1);
    let chain = genesis.chain_id.clone();
    let mut time = NOON_MS;
    let both =
        |a: &mut Ledger<RocksStore>, b: &mut Ledger<RocksStore>, txs: &[Transaction], time: u64| {
            let p = Proposal::new(&chain, 1, &keys[0], time, txs);
            let (sa, sb) = (apply(a, &p, &keys[0]), apply(b, &p, &keys[1]));
            let (ba, bb) = (sa.block.clone().unwrap(), sb.block.clone().unwrap());
            assert_eq!(ba.header, bb.header, "same header");
            assert_eq!(ba.tx_ids, bb.tx_ids);
            assert_eq!(rejections(&sa), rejections(&sb), "same rejections");
            (sa, sb)
        };
    both(
        &mut a,
        &mut b,
        &[fx.issue(hospital.leaf()), fx.issue(platform.leaf())],
        time,
    );
    time += 1000;
    let tree = a.registry(ISSUER_ID).unwrap().clone();
    let patient = fx.patient_key();
    let mut policy = Fixture::policy(&[Role::Hospital], 2);
    policy.valid_from = TODAY - 1;
    policy.valid_until = TODAY + 10;
    let consent = fx.consent(&platform, &patient, &tree, "vitals", policy, TODAY);
    both(&mut a, &mut b, &[consent], time);
    time += 1000;

    // A valid access, one whose body was changed after proving (its proof no longer
    // verifies), and one with an invalid issuer signature: each validator verifies alone and
    // all reach the same verdicts.
    let stream = Fixture::stream_id(&patient, "vitals");
    let good = fx.access(&hospital, &tree, &stream, 2, TODAY, 1);
    let mut forged = fx.access(&hospital, &tree, &stream, 2, TODAY, 2);
    if let consentry::ledger::Body::Access(acc) = &mut forged.body {
        acc.purpose = "another purpose".into();
    }
    let research = fx.institution(Role::Research, 1);
    let mut bad_sig = fx.issue(research.leaf());
    bad_sig.auth.signature[0] ^= 1;
    let (sa, sb) = both(
        &mut a,
        &mut b,
        &[good.clone(), forged.clone(), bad_sig.clone()],
        time,
    );
    let codes: Vec<String> = rejections(&sa).into_iter().map(|(_, c)| c).collect();
    assert_eq!(codes, ["ProofInvalid", "BadIssuerSignature"]);
    assert_eq!(sa.block.as_ref().unwrap().tx_ids, vec![good.id()]);

    // Finality: A holds its own signature; B's over the same header completes the quorum,
    // a third validator's over a different header is reported and never stored.
    let block = sb.block.unwrap();
    let h = block.header.height;
    assert!(!a.is_final(h).unwrap());
    let mut other = block.header.clone();
    other.time_ms += 1;
    let liar = block::sign_header(&keys[2], &chain, &other.hash());
    let outcomes = a
        .countersign(&[
            (h, other.hash(), liar),
            (h, block.header.hash(), block.signatures[0].clone()),
        ])
        .unwrap();
    assert!(matches!(outcomes[0], Countersign::Mismatch { .. }));
    assert_eq!(outcomes[1], Countersign::Added);
    assert!(a.is_final(h).unwrap());
    assert_eq!(
        a.block(h).unwrap().unwrap().signatures.len(),
        2,
        "the liar is not stored"
    );
    // A stranger's signature is not a validator's.
    let stranger = block::sign_header(
        &SigningKey::from_bytes(&[9; 32]),
        &chain,
        &block.header.hash(),
    );
    assert_eq!(
        a.countersign(&[(h, block.header.hash(), stranger)])
            .unwrap(),
        vec![Countersign::NotValidator]
    );

    // A proposal is accepted only when signed by the validator it names.
    let another = fx.institution(Role::Research, 2);
    let txs = [fx.issue(another.leaf())];
    let mut p = Proposal::new(&chain, 1, &keys[0], time + 1000, &txs);
    assert!(p.open(&chain, &genesis.validators).is_some());
    p.proposer = 2;
    assert!(
        p.open(&chain, &genesis.validators).is_none(),
        "claims another proposer"
    );
    let p = Proposal::new(&chain, 1, &keys[2], time + 1000, &txs);
    assert!(
        p.open(&chain, &genesis.validators).is_none(),
        "signed by another key"
    );
    let p = Proposal::new("other-chain", 1, &keys[0], time + 1000, &txs);
    assert!(
        p.open(&chain, &genesis.validators).is_none(),
        "another chain's"
    );
}
