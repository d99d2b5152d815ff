//! Criterion benchmark of cohort eligibility proofs (Bulletproofs over Ristretto).
//!
//! - `cohort/prove/k`, `cohort/verify/k`: a platform's answer to k = 1, 2, 4 criteria whose
//!   ranges need 32 bits (one aggregated proof of the 2k derived commitments), and its
//!   verification by a validator. The proof sizes are printed once.
//! - `cohort/verify_separately/4`: the same four criteria as four proofs of two values each,
//!   the design aggregation replaced.
//! - `ledger_apply_consent_block/{plain,cohort}/64`: one block of 64 consents applied by the
//!   ledger (stateless checks in parallel, batch token verification, execution, RocksDB
//!   commit), without and with an answer to a 2-criterion study (ages and HbA1c, 8-bit
//!   ranges); the difference is the cohort proofs' cost per block.
//!
//! - `cohort_groth16/{prove,verify}/k`: the same predicate as a Groth16 circuit
//!   (`consentry_circuits::cohort`: Poseidon commitments, bit-decomposition range checks), with
//!   arkworks' prover and verifier; the setup time and constraint counts are printed once.
//!
//! Run: `cargo bench --bench cohort`.

use consentry::circuits::credential::Role;
use consentry::cohort::{verify, Answer, Statement};
use consentry::ledger::fixture::{Fixture, CHAIN_ID, ISSUER_ID, NOON_MS};
use consentry::ledger::{Body, CohortRange, Consent, Hash32, Ledger, StudyRequest, Transaction};
use consentry::store::RocksStore;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::rngs::OsRng;

const TODAY: u32 = 20_400;

fn proofs(c: &mut Criterion) {
    let study = Hash32([1; 32]);
    let body = Hash32([2; 32]);
    let mut g = c.benchmark_group("cohort");
    for k in [1usize, 2, 4] {
        let criteria = consentry::bench::cohort::criteria(k);
        let values: Vec<u64> = (0..k as u64).map(|i| 5_000_000 + i).collect();
        let answer = Answer::commit(&criteria, &values, &mut OsRng).expect("eligible");
        let made = answer
            .prove(CHAIN_ID, study, body, &mut OsRng)
            .expect("prove");
        let bytes = made.len();
        eprintln!(
            "cohort: {k} criteria at 32 bits: {bytes} bytes of proofs + {} of commitments",
            32 * k
        );
        g.throughput(Throughput::Elements(k as u64));
        g.bench_function(format!("prove/{k}"), |b| {
            b.iter(|| {
                let a = Answer::commit(&criteria, &values, &mut OsRng).expect("eligible");
                a.prove(CHAIN_ID, study, body, &mut OsRng).expect("prove")
            })
        });
        let statement = Statement {
            chain_id: CHAIN_ID,
            study,
            body,
        };
        let crit: Vec<_> = answer.commitments.iter().map(|c| c.criterion()).collect();
        let commitments: Vec<[u8; 32]> = answer.commitments.iter().map(|c| c.commitment).collect();
        g.bench_function(format!("verify/{k}"), |b| {
            b.iter(|| verify(&statement, &crit, &commitments, &made).expect("valid"))
        });
        if k == 4 {
            // One proof per criterion instead.
            let separate: Vec<(Answer, Vec<u8>)> = criteria
                .iter()
                .zip(&values)
                .map(|(c, v)| {
                    let a = Answer::commit(std::slice::from_ref(c), &[*v], &mut OsRng)
                        .expect("eligible");
                    let p = a.prove(CHAIN_ID, study, body, &mut OsRng).expect("prove");
                    (a, p)
                })
                .collect();
            let bytes: usize = separate.iter().map(|(_, p)| p.len()).sum();
            eprintln!("cohort: {k} criteria at 32 bits as {k} proofs: {bytes} bytes of proofs");
            g.bench_function(format!("verify_separately/{k}"), |b| {
                b.iter(|| {
                    for (a, p) in &separate {
                        let c = &a.commitments[0];
                        verify(&statement, &[c.criterion()], &[c.commitment], p).expect("valid");
                    }
                })
            });
        }
    }
    g.finish();
}

fn blocks(c: &mut Criterion) {
    let params = tempfile::tempdir().expect("tempdir");
    let mut fx = Fixture::new(4, params.path(), 6);
    let research = fx.institution(Role::Research, 2);
    let platform = fx.institution(Role::Platform, 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = Ledger::create(
        RocksStore::open(dir.path()).expect("db"),
        fx.genesis(300),
        fx.keys(),
        &fx.validator,
    )
    .expect("genesis");
    let issue = vec![fx.issue(research.leaf()), fx.issue(platform.leaf())];
    ledger
        .propose(issue.clone(), NOON_MS, &fx.validator)
        .expect("issue");
    let tree = ledger.registry(ISSUER_ID).expect("issuer").clone();
    let cohort = vec![
        CohortRange {
            attribute: "age".into(),
            lo: 40,
            hi: 60,
        },
        CohortRange {
            attribute: "hba1c".into(),
            lo: 48,
            hi: 75,
        },
    ];
    let scope = fx.fresh_scope();
    let study = fx.finish(
        &research,
        &tree,
        Body::StudyRequest(StudyRequest {
            purpose: "care".into(),
            required_role: Role::Research,
            min_level: 2,
            cohort: cohort.clone(),
            nonce: 1,
            claim: fx.claim(&research, &tree, scope, 0, TODAY),
        }),
    );
    const N: usize = 64;
    let make = |fx: &mut Fixture, with_cohort: bool, i: usize| -> Transaction {
        let patient = fx.patient_key();
        let name = format!("s{i}");
        let answer = Answer::commit(&cohort, &[52, 60], &mut OsRng).expect("eligible");
        let scope = fx.fresh_scope();
        let consent = Consent {
            stream_id: Fixture::stream_id(&patient, &name),
            stream_name: name,
            policy: Fixture::policy(&[Role::Research], 2),
            data_digest: None,
            study: with_cohort.then(|| study.id()),
            cohort: if with_cohort {
                answer.commitments.clone()
            } else {
                vec![]
            },
            replaces: None,
            patient_key: patient.public.to_bytes(),
            nonce: 0,
            claim: fx.claim(&platform, &tree, scope, 0, TODAY),
        };
        let body = Body::Consent(consent);
        let proof = if with_cohort {
            answer
                .prove(CHAIN_ID, study.id(), body.id(), &mut OsRng)
                .expect("prove")
        } else {
            vec![]
        };
        let mut tx = fx.finish_consent(&platform, &patient, &tree, body);
        tx.auth.cohort = proof;
        tx
    };
    let plain: Vec<Transaction> = (0..N).map(|i| make(&mut fx, false, i)).collect();
    let answers: Vec<Transaction> = (0..N).map(|i| make(&mut fx, true, i)).collect();

    let mut g = c.benchmark_group("ledger_apply_consent_block");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    for (name, txs) in [("plain", &plain), ("cohort", &answers)] {
        g.bench_function(format!("{name}/{N}"), |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let store = RocksStore::open(dir.path()).expect("db");
                    let mut l = Ledger::create(store, fx.genesis(300), fx.keys(), &fx.validator)
                        .expect("genesis");
                    l.propose(issue.clone(), NOON_MS, &fx.validator)
                        .expect("issue");
                    l.propose(vec![study.clone()], NOON_MS + 1, &fx.validator)
                        .expect("study");
                    (dir, l, txs.clone())
                },
                |(dir, mut l, txs)| {
                    let (block, rejected) =
                        l.propose(txs, NOON_MS + 2, &fx.validator).expect("block");
                    assert!(rejected.is_empty(), "{rejected:?}");
                    assert_eq!(block.tx_ids.len(), N);
                    (dir, l)
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

fn groth16(c: &mut Criterion) {
    use consentry::circuits::cohort::{
        commitment, constraints, prove, setup, verify, CohortRangeCircuit, RangeCriterion,
    };
    use consentry::circuits::Fr;
    let mut g = c.benchmark_group("cohort_groth16");
    for k in [1usize, 2, 4] {
        let started = std::time::Instant::now();
        let (pk, pvk) = setup(k, 32, &mut OsRng).expect("setup");
        eprintln!(
            "cohort_groth16: {k} criteria at 32 bits: {} constraints, setup {:.2?}, proof 192 bytes",
            constraints(k, 32),
            started.elapsed()
        );
        let criteria: Vec<RangeCriterion> = (0..k as u64)
            .map(|i| RangeCriterion {
                lo: 1_000,
                hi: 1_000 + (1u64 << 32),
                opening: Some((5_000_000 + i, Fr::from(77 + i))),
            })
            .collect();
        let commitments: Vec<Fr> = criteria
            .iter()
            .map(|r| {
                let (v, b) = r.opening.expect("opening");
                commitment(v, b)
            })
            .collect();
        let public = CohortRangeCircuit::public_inputs(&commitments, &criteria);
        g.throughput(Throughput::Elements(k as u64));
        g.bench_function(format!("prove/{k}"), |b| {
            b.iter(|| prove(&pk, &criteria, 32, &mut OsRng).expect("prove"))
        });
        let proof = prove(&pk, &criteria, 32, &mut OsRng).expect("prove");
        g.bench_function(format!("verify/{k}"), |b| {
            b.iter(|| assert!(verify(&pvk, &public, &proof)))
        });
    }
    g.finish();
}

criterion_group!(cohort, proofs, blocks, groth16);
criterion_main!(cohort);
