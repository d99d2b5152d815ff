//! Criterion benchmark of the data path's own work for N = 1, 100 and 10,000 records (about
//! 60 bytes each): the data node reading the stream from its encrypted store and sealing it to
//! the access's key (HPKE), and the reader re-deriving its key and opening it (digest checked).
//! The finality check's HTTP round trips to validators are not in it.
//! Run: `cargo bench --bench delivery`.

use consentry::circuits::credential::SecretKey;
use consentry::circuits::Fr;
use consentry::datanode::{Ingest, RecordStore};
use consentry::delivery::{derive, open, seal};
use consentry::ledger::Hash32;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::rngs::OsRng;

const CHAIN: &str = "consentry-bench";

fn benches(c: &mut Criterion) {
    let patient = schnorrkel::MiniSecretKey::from_bytes(&[4; 32])
        .expect("mini secret")
        .expand_to_keypair(schnorrkel::ExpansionMode::Ed25519);
    let sk = SecretKey::from_field(Fr::from(99u64));
    let access = Hash32([5; 32]);
    let mut group = c.benchmark_group("delivery");
    for n in [1usize, 100, 10_000] {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = RecordStore::open(dir.path(), CHAIN, "bench").expect("store");
        let records: Vec<serde_json::Value> = (0..n as u64)
            .map(|t| serde_json::json!({"time_ms": 1_700_000_000_000u64 + t, "heart_rate": 60 + t % 30}))
            .collect();
        let ingest = Ingest::sign(&patient, CHAIN, "bench", "vitals", 0, records);
        let stream = ingest.stream_id.clone();
        store.append(&ingest).expect("ingest");
        let (_, public) = derive(&sk, &stream, 7);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("datanode_read_and_seal/{n}"), |b| {
            b.iter(|| {
                let plain = store.records(&stream).expect("records");
                seal(&public, CHAIN, access, &plain, &mut OsRng).expect("seal")
            })
        });
        let sealed = seal(
            &public,
            CHAIN,
            access,
            &store.records(&stream).expect("records"),
            &mut OsRng,
        )
        .expect("seal");
        group.bench_function(format!("reader_derive_and_open/{n}"), |b| {
            b.iter(|| {
                let (secret, _) = derive(&sk, &stream, 7);
                open(&secret, CHAIN, access, &sealed).expect("open")
            })
        });
    }
    group.finish();
}

criterion_group!(delivery, benches);
criterion_main!(delivery);
