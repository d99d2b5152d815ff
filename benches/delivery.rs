//! Criterion benchmark of the data path's own work for N = 1, 100 and 10,000 records (about
//! 60 bytes each): the data node reading the stream from its encrypted store and sealing it to
//! the access's key (HPKE), and the reader re-deriving its key and opening it (digest checked).
//! The finality check's HTTP round trips to validators are not in it.
//!
//! The group `delivery_http` measures the whole path instead: a validator and a data node on
//! 127.0.0.1 (real RocksDB each), an access committed, and `client::data::fetch` from the
//! reader's call to the records decrypted and checked: the reader's own look-ups at the
//! validator, the data node's finality and consent checks against it, reading, sealing,
//! opening. For 1, 100 and 10,000 records, and for 1, 4 and 16 concurrent readers of 100
//! records (throughput = deliveries per second).
//!
//! Run: `cargo bench --bench delivery`.

use consentry::circuits::credential::SecretKey;
use consentry::circuits::Fr;
use consentry::client::data::{fetch, DataNodeClient};
use consentry::client::NodeClient;
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

/// A validator and a data node on 127.0.0.1 with one stream of `n` records per size, shared
/// with the hospital, and one committed access of the hospital per stream.
struct Http {
    _tmp: tempfile::TempDir,
    _node: consentry::demo::EmbeddedNode,
    _datanode: consentry::demo::EmbeddedDataNode,
    node_url: String,
    datanode_url: String,
    reader: SecretKey,
    accesses: Vec<(usize, Hash32)>,
}

fn http_setup(sizes: &[usize]) -> Http {
    use consentry::circuits::credential::Role;
    use consentry::client::NodeClient;
    use consentry::ledger::fixture::{Fixture, ISSUER_ID};
    use consentry::node::{now_ms, NodeConfig};

    let tmp = tempfile::tempdir().expect("tempdir");
    let params = tmp.path().join("params");
    std::fs::create_dir_all(&params).expect("params dir");
    let mut fx = Fixture::new(4, &params, 7);
    let mut genesis = fx.genesis(300);
    genesis.time_ms = now_ms() - 1000;
    let genesis_file = tmp.path().join("genesis.json");
    std::fs::write(&genesis_file, serde_json::to_vec(&genesis).expect("json")).expect("write");
    let key_file = tmp.path().join("validator.key");
    consentry::ledger::keys::write_ed25519(&key_file, "validator", &fx.validator).expect("key");
    let node = consentry::demo::EmbeddedNode::start(NodeConfig {
        data: tmp.path().join("node"),
        params: params.clone(),
        genesis: Some(genesis_file),
        key: Some(key_file),
        dev: false,
        block_interval: std::time::Duration::from_millis(30),
        admission: consentry::consensus::Admission::VerifyProofs,
        dev_root_window_secs: consentry::node::DEV_ROOT_WINDOW_SECS,
        cluster: None,
    })
    .expect("validator");
    let datanode = consentry::demo::EmbeddedDataNode::start(
        &tmp.path().join("datanode"),
        "bench",
        vec![node.url.clone()],
        genesis.clone(),
    )
    .expect("data node");
    let client = NodeClient::new(&node.url);
    let dn = DataNodeClient::new(&datanode.url);
    let hospital = fx.institution(Role::Hospital, 3);
    let platform = fx.institution(Role::Platform, 1);
    for leaf in [hospital.leaf(), platform.leaf()] {
        client.issue(&fx.issue(leaf)).expect("issue");
    }
    let tree = client.sync_tree(ISSUER_ID).expect("tree");
    let day = (now_ms() / 86_400_000) as u32;
    let mut accesses = Vec::new();
    for &n in sizes {
        let patient = fx.patient_key();
        let name = format!("vitals-{n}");
        let records: Vec<serde_json::Value> = (0..n as u64)
            .map(|t| serde_json::json!({"time_ms": 1_700_000_000_000u64 + t, "heart_rate": 60 + t % 30}))
            .collect();
        dn.put(&patient, &genesis.chain_id, "bench", &name, records)
            .expect("put");
        let mut policy = Fixture::policy(&[Role::Hospital], 2);
        policy.valid_from = day - 1;
        policy.valid_until = day + 10;
        let share = fx.consent(&platform, &patient, &tree, &name, policy, day);
        client.submit(&share, true).expect("share");
        let stream = Fixture::stream_id(&patient, &name);
        let access = fx.access(&hospital, &tree, &stream, 2, day, n as u64);
        let r = client.submit(&access, true).expect("access");
        assert_eq!(r.status, consentry::api::TxStatus::Committed);
        accesses.push((n, access.id()));
    }
    Http {
        node_url: node.url.clone(),
        datanode_url: datanode.url.clone(),
        _tmp: tmp,
        _node: node,
        _datanode: datanode,
        reader: hospital.sk,
        accesses,
    }
}

fn fetch_once(h: &Http, node: &NodeClient, dn: &DataNodeClient, id: Hash32, n: usize) {
    let got = fetch(node, dn, &h.reader, id).expect("fetch");
    assert_eq!(got.count, n);
}

fn http_benches(c: &mut Criterion) {
    let h = http_setup(&[1, 100, 10_000]);
    let node = NodeClient::new(&h.node_url);
    let dn = DataNodeClient::new(&h.datanode_url);
    let mut group = c.benchmark_group("delivery_http");
    for &(n, id) in &h.accesses {
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("committed_access_to_decrypted/{n}"), |b| {
            b.iter(|| fetch_once(&h, &node, &dn, id, n))
        });
    }
    let (_, hundred) = h.accesses[1];
    for readers in [1usize, 4, 16] {
        group.throughput(Throughput::Elements(readers as u64));
        group.bench_function(format!("concurrent_readers_100_records/{readers}"), |b| {
            b.iter_custom(|iters| {
                let start = std::time::Instant::now();
                std::thread::scope(|s| {
                    for _ in 0..readers {
                        s.spawn(|| {
                            let node = NodeClient::new(&h.node_url);
                            let dn = DataNodeClient::new(&h.datanode_url);
                            for _ in 0..iters {
                                fetch_once(&h, &node, &dn, hundred, 100);
                            }
                        });
                    }
                });
                start.elapsed()
            })
        });
    }
    group.finish();
}

criterion_group!(delivery, benches, http_benches);
criterion_main!(delivery);
