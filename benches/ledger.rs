//! Criterion benchmark of ledger throughput: apply (execute, batch-verify every token, commit
//! to RocksDB with a synced WAL) one block of N Access transactions, N = 1, 64, 256.
//!
//! Tokens are proven once at registry depth 4 to keep set-up short: verification cost does not
//! depend on the depth (the public inputs are the same eight), nor do the RocksDB writes.
//! Run: `cargo bench --bench ledger`.

use consentry::circuits::credential::Role;
use consentry::ledger::fixture::{Fixture, ISSUER_ID, NOON_MS};
use consentry::ledger::{Ledger, Transaction};
use consentry::store::RocksStore;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

const TODAY: u32 = 20_400;

fn benches(c: &mut Criterion) {
    let params = tempfile::tempdir().expect("tempdir");
    let mut fx = Fixture::new(4, params.path(), 5);
    let hospital = fx.institution(Role::Hospital, 3);
    let platform = fx.institution(Role::Platform, 1);
    let issue = vec![fx.issue(hospital.leaf()), fx.issue(platform.leaf())];

    // A template chain to build the transactions against.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = Ledger::create(
        RocksStore::open(dir.path()).expect("db"),
        fx.genesis(300),
        fx.keys(),
        &fx.validator,
    )
    .expect("genesis");
    ledger
        .propose(issue.clone(), NOON_MS, &fx.validator)
        .expect("issue");
    let tree = ledger.registry(ISSUER_ID).expect("issuer").clone();
    let patient = fx.patient_key();
    let consent = fx.consent(
        &platform,
        &patient,
        &tree,
        "stream",
        Fixture::policy(&[Role::Hospital], 2),
        TODAY,
    );
    let stream = Fixture::stream_id(&patient, "stream");
    let max = 256;
    let accesses: Vec<Transaction> = (0..max)
        .map(|n| fx.access(&hospital, &tree, &stream, 2, TODAY, n))
        .collect();

    let mut g = c.benchmark_group("ledger_apply_access_block");
    g.sample_size(10);
    for n in [1usize, 64, 256] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("{n}"), |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let store = RocksStore::open(dir.path()).expect("db");
                    let mut l = Ledger::create(store, fx.genesis(300), fx.keys(), &fx.validator)
                        .expect("genesis");
                    l.propose(issue.clone(), NOON_MS, &fx.validator)
                        .expect("issue");
                    l.propose(vec![consent.clone()], NOON_MS + 1, &fx.validator)
                        .expect("consent");
                    (dir, l, accesses[..n].to_vec())
                },
                |(dir, mut l, txs)| {
                    let (block, rejected) =
                        l.propose(txs, NOON_MS + 2, &fx.validator).expect("block");
                    assert!(rejected.is_empty() && block.tx_ids.len() == n);
                    (dir, l)
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(ledger, benches);
criterion_main!(ledger);
