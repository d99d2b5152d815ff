//! The data node's record store over a real RocksDB in a temp dir: the patient's signed ingest
//! beside each forgery (signature, records changed, another patient, another data node,
//! replay, gap, malformed records), and records at rest readable only with the key file.

use consentry::datanode::{Ingest, IngestError, RecordStore, RecordStoreError};
use consentry::store::{Batch, Column, Store};
use serde_json::json;

const CHAIN: &str = "consentry-test";
const NODE: &str = "platform-a";

fn patient(seed: u8) -> schnorrkel::Keypair {
    schnorrkel::MiniSecretKey::from_bytes(&[seed; 32])
        .unwrap()
        .expand_to_keypair(schnorrkel::ExpansionMode::Ed25519)
}

fn events(from: u64, n: u64) -> Vec<serde_json::Value> {
    (from..from + n)
        .map(|t| json!({"time_ms": 1_700_000_000_000u64 + t, "heart_rate": 60 + t % 30, "note": "MARKER-PLAINTEXT"}))
        .collect()
}

fn refused(store: &RecordStore, ingest: &Ingest) -> IngestError {
    match store.append(ingest) {
        Err(RecordStoreError::Ingest(e)) => e,
        other => panic!("expected a refused ingest, got {other:?}"),
    }
}

#[test]
fn the_patient_ingests_and_every_forgery_is_refused_with_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = RecordStore::open(dir.path(), CHAIN, NODE).unwrap();
    let p = patient(1);
    let first = Ingest::sign(&p, CHAIN, NODE, "vitals", 0, events(0, 3));
    let stream = first.stream_id.clone();
    assert_eq!(store.append(&first).unwrap(), 3);
    let second = Ingest::sign(&p, CHAIN, NODE, "vitals", 1, events(3, 2));
    assert_eq!(store.append(&second).unwrap(), 5);
    let all: Vec<serde_json::Value> =
        serde_json::from_slice(&store.records(&stream).unwrap()).unwrap();
    assert_eq!(all, events(0, 5), "exactly the records, in order");

    // Forgeries, each refused, none written.
    let mut bad_sig = Ingest::sign(&p, CHAIN, NODE, "vitals", 2, events(5, 1));
    bad_sig.signature[5] ^= 1;
    assert!(matches!(
        refused(&store, &bad_sig),
        IngestError::BadSignature | IngestError::Invalid { .. }
    ));
    let mut changed = Ingest::sign(&p, CHAIN, NODE, "vitals", 2, events(5, 1));
    changed.records[0]["heart_rate"] = json!(200);
    assert_eq!(refused(&store, &changed), IngestError::BadSignature);
    // Another patient signing for this patient's stream.
    let mut squatter = Ingest::sign(&patient(2), CHAIN, NODE, "vitals", 2, events(5, 1));
    squatter.stream_id = stream.clone();
    assert_eq!(
        refused(&store, &squatter),
        IngestError::NotThePatientsStream
    );
    // The identity point as the "patient key" (a signature by it proves nothing), with the
    // stream id it derives.
    let mut identity = Ingest::sign(&p, CHAIN, NODE, "other", 0, events(5, 1));
    identity.patient_key = [0; 32];
    identity.stream_id = consentry::ledger::stream_id_for(&[0; 32], "other");
    assert!(matches!(
        refused(&store, &identity),
        IngestError::Invalid {
            field: "patient_key",
            ..
        }
    ));
    // Signed for another data node, or another chain.
    let elsewhere = Ingest::sign(&p, CHAIN, "platform-b", "vitals", 2, events(5, 1));
    assert!(matches!(
        refused(&store, &elsewhere),
        IngestError::OtherDataNode(_)
    ));
    let mut other_chain = Ingest::sign(&p, "another-chain", NODE, "vitals", 2, events(5, 1));
    other_chain.datanode = NODE.into();
    assert_eq!(refused(&store, &other_chain), IngestError::BadSignature);
    // A replay of the first ingest, and a gap.
    assert_eq!(
        refused(&store, &first),
        IngestError::Sequence {
            got: 0,
            expected: 2
        }
    );
    let gap = Ingest::sign(&p, CHAIN, NODE, "vitals", 5, events(5, 1));
    assert!(matches!(
        refused(&store, &gap),
        IngestError::Sequence { .. }
    ));
    // Malformed records.
    let empty = Ingest::sign(&p, CHAIN, NODE, "vitals", 2, vec![]);
    assert!(matches!(
        refused(&store, &empty),
        IngestError::Invalid {
            field: "records",
            ..
        }
    ));
    let untimed = Ingest::sign(&p, CHAIN, NODE, "vitals", 2, vec![json!({"hr": 60})]);
    assert!(matches!(
        refused(&store, &untimed),
        IngestError::Invalid {
            field: "records",
            ..
        }
    ));
    assert_eq!(
        store.count(&stream).unwrap(),
        5,
        "nothing refused was written"
    );
    assert_eq!(store.next_sequence(&stream).unwrap(), 2);
    // The valid twin of the refused ones.
    let third = Ingest::sign(&p, CHAIN, NODE, "vitals", 2, events(5, 1));
    assert_eq!(store.append(&third).unwrap(), 6);
}

#[test]
fn records_at_rest_open_only_with_the_key_and_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let p = patient(3);
    let stream;
    {
        let store = RecordStore::open(dir.path(), CHAIN, NODE).unwrap();
        let ingest = Ingest::sign(&p, CHAIN, NODE, "vitals", 0, events(0, 50));
        stream = ingest.stream_id.clone();
        store.append(&ingest).unwrap();
    }
    // The plaintext appears in no file of the database.
    for entry in std::fs::read_dir(dir.path().join("db")).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(16).any(|w| w == b"MARKER-PLAINTEXT"),
            "plaintext at rest"
        );
    }
    // Reopened with its key: the records are there.
    {
        let store = RecordStore::open(dir.path(), CHAIN, NODE).unwrap();
        let all: Vec<serde_json::Value> =
            serde_json::from_slice(&store.records(&stream).unwrap()).unwrap();
        assert_eq!(all, events(0, 50));
        // Two records swapped in place: neither opens where it now lies.
        let a = store
            .store()
            .get(Column::Records, &key(&stream, 0))
            .unwrap()
            .unwrap();
        let b = store
            .store()
            .get(Column::Records, &key(&stream, 1))
            .unwrap()
            .unwrap();
        let mut batch = Batch::default();
        batch.put(Column::Records, key(&stream, 0), b);
        batch.put(Column::Records, key(&stream, 1), a);
        store.store().commit(batch).unwrap();
        assert!(matches!(
            store.records(&stream),
            Err(RecordStoreError::Corrupt { index: 0, .. })
        ));
    }
    // Another key file: refused, naming the key.
    let key_path = dir.path().join("records.key");
    std::fs::remove_file(&key_path).unwrap();
    match RecordStore::open(dir.path(), CHAIN, NODE) {
        Err(RecordStoreError::Key(why)) => assert!(why.contains("missing"), "{why}"),
        other => panic!("opened without its key: {:?}", other.err()),
    }
    let other = tempfile::tempdir().unwrap();
    drop(RecordStore::open(other.path(), CHAIN, NODE).unwrap());
    std::fs::copy(other.path().join("records.key"), &key_path).unwrap();
    match RecordStore::open(dir.path(), CHAIN, NODE) {
        Err(RecordStoreError::Key(why)) => assert!(why.contains("not the key"), "{why}"),
        other => panic!("opened with another key: {:?}", other.err()),
    }
}

/// Three records of `patient`'s stream `name`, signed for this data node (first ingest).
fn vitals_for(patient: &schnorrkel::Keypair, name: &str) -> Ingest {
    Ingest::sign(patient, CHAIN, NODE, name, 0, events(900, 3))
}

/// A share may name a snapshot: the store finds the prefix of the stream whose records digest
/// it is, for every length, and nothing for a digest of records that are not a prefix.
#[test]
fn the_snapshot_a_share_names_is_the_prefix_with_its_digest() {
    use consentry::delivery::records_digest;
    let dir = tempfile::tempdir().unwrap();
    let store = RecordStore::open(dir.path(), CHAIN, NODE).unwrap();
    let p = patient(4);
    store
        .append(&Ingest::sign(&p, CHAIN, NODE, "vitals", 0, events(0, 5)))
        .unwrap();
    store
        .append(&Ingest::sign(&p, CHAIN, NODE, "vitals", 1, events(5, 3)))
        .unwrap();
    let stream = consentry::ledger::stream_id_for(&p.public.to_bytes(), "vitals");
    for k in 1..=8 {
        let plain = serde_json::to_vec(&events(0, k)).unwrap();
        let got = store.snapshot(&stream, &records_digest(&plain)).unwrap();
        assert_eq!(
            got.as_deref().map(|v| &v[..]),
            Some(&plain[..]),
            "prefix {k}"
        );
    }
    assert_eq!(
        store.records(&stream).unwrap()[..],
        serde_json::to_vec(&events(0, 8)).unwrap()[..],
        "the whole stream is the same JSON array"
    );
    for not_a_prefix in [events(1, 2), events(0, 9), Vec::new()] {
        let d = records_digest(&serde_json::to_vec(&not_a_prefix).unwrap());
        assert!(store.snapshot(&stream, &d).unwrap().is_none());
    }
}

/// A child process killed (SIGKILL) when the test ends, also when it fails.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A validator node over `fx`'s keys (in `dir/params`) and genesis (with a block time of a
/// second ago), its data in `dir/node`; the genesis it was started with.
fn start_node(
    dir: &std::path::Path,
    fx: &consentry::ledger::fixture::Fixture,
) -> (consentry::demo::EmbeddedNode, consentry::ledger::Genesis) {
    use consentry::node::{now_ms, NodeConfig};
    let mut genesis = fx.genesis(300);
    genesis.time_ms = now_ms() - 1000;
    let genesis_file = dir.join("genesis.json");
    std::fs::write(&genesis_file, serde_json::to_vec(&genesis).unwrap()).unwrap();
    let key_file = dir.join("validator.key");
    consentry::ledger::keys::write_ed25519(&key_file, "validator", &fx.validator).unwrap();
    let node = consentry::demo::EmbeddedNode::start(NodeConfig {
        data: dir.join("node"),
        params: dir.join("params"),
        genesis: Some(genesis_file),
        key: Some(key_file),
        dev: false,
        block_interval: std::time::Duration::from_millis(30),
        admission: consentry::consensus::Admission::VerifyProofs,
        dev_root_window_secs: consentry::node::DEV_ROOT_WINDOW_SECS,
        cluster: None,
    })
    .unwrap();
    (node, genesis)
}

fn key(stream: &str, index: u64) -> Vec<u8> {
    let mut k = stream.as_bytes().to_vec();
    k.push(0);
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// The whole data path against a real validator over HTTP: share → patient ingest → access
/// committed → the data node checks finality and the share, seals to the access's key → the
/// hospital re-derives its key and opens exactly the records; another institution cannot; a
/// pending access, a non-access and an unknown stream are refused; after the patient's
/// withdrawal nothing is delivered, also for the access made before it.
#[test]
fn a_committed_access_delivers_the_records_to_its_reader_alone_until_the_patient_withdraws() {
    use consentry::circuits::credential::Role;
    use consentry::client::NodeClient;
    use consentry::datanode::{deliver, Refusal};
    use consentry::delivery::open;
    use consentry::ledger::fixture::{Fixture, CHAIN_ID, ISSUER_ID};
    use consentry::node::now_ms;

    let tmp = tempfile::tempdir().unwrap();
    let params = tmp.path().join("params");
    std::fs::create_dir_all(&params).unwrap();
    let mut fx = Fixture::new(4, &params, 31);
    let (node, genesis) = start_node(tmp.path(), &fx);
    let client = NodeClient::new(&node.url);
    let nodes = vec![NodeClient::new(&node.url)];

    let hospital = fx.institution(Role::Hospital, 3);
    let research = fx.institution(Role::Research, 3);
    let platform = fx.institution(Role::Platform, 1);
    for leaf in [hospital.leaf(), research.leaf(), platform.leaf()] {
        client.issue(&fx.issue(leaf)).unwrap();
    }
    let tree = client.sync_tree(ISSUER_ID).unwrap();
    let day = (now_ms() / 86_400_000) as u32;
    let patient = fx.patient_key();
    let mut policy = Fixture::policy(&[Role::Hospital, Role::Research], 2);
    policy.valid_from = day - 1;
    policy.valid_until = day + 10;
    let share = fx.consent(&platform, &patient, &tree, "vitals", policy, day);
    client.submit(&share, true).unwrap();
    let stream = Fixture::stream_id(&patient, "vitals");

    // The patient puts records into the platform's data node.
    let dir = tmp.path().join("datanode");
    let store = RecordStore::open(&dir, CHAIN_ID, NODE).unwrap();
    let vitals = Ingest::sign(&patient, CHAIN_ID, NODE, "vitals", 0, events(0, 100));
    store.append(&vitals).unwrap();

    // The hospital's access, committed; delivered; opened with the re-derived key.
    let access = fx.access(&hospital, &tree, &stream, 2, day, 77);
    let id = access.id();
    let r = client.submit(&access, true).unwrap();
    assert_eq!(r.status, consentry::api::TxStatus::Committed);
    let sealed = deliver(&store, &nodes, &genesis, id, day).unwrap();
    let (secret, public) = hospital.delivery_key(&stream, 77);
    let consentry::ledger::Body::Access(on_chain) = &access.body else {
        unreachable!()
    };
    assert_eq!(
        public, on_chain.delivery_key,
        "the key on chain is re-derivable"
    );
    let plain = open(&secret, CHAIN_ID, id, &sealed).unwrap();
    let got: Vec<serde_json::Value> = serde_json::from_slice(&plain).unwrap();
    assert_eq!(got, events(0, 100), "exactly the records");

    // The research centre cannot open the hospital's delivery, even knowing the nonce.
    let (other, _) = research.delivery_key(&stream, 77);
    assert!(open(&other, CHAIN_ID, id, &sealed).is_err());

    // Refusals: an access never submitted, a transaction that is not an access, a stream
    // this data node does not hold.
    let pending = fx.access(&hospital, &tree, &stream, 2, day, 78);
    assert!(matches!(
        deliver(&store, &nodes, &genesis, pending.id(), day),
        Err(Refusal::NotFinal(_))
    ));
    assert!(matches!(
        deliver(&store, &nodes, &genesis, share.id(), day),
        Err(Refusal::NotAnAccess(_))
    ));
    let patient2 = fx.patient_key();
    let mut policy2 = Fixture::policy(&[Role::Hospital], 2);
    policy2.valid_from = day - 1;
    policy2.valid_until = day + 10;
    let share2 = fx.consent(&platform, &patient2, &tree, "other", policy2, day);
    client.submit(&share2, true).unwrap();
    let stream2 = Fixture::stream_id(&patient2, "other");
    let elsewhere = fx.access(&hospital, &tree, &stream2, 2, day, 79);
    client.submit(&elsewhere, true).unwrap();
    assert!(matches!(
        deliver(&store, &nodes, &genesis, elsewhere.id(), day),
        Err(Refusal::UnknownStream(_))
    ));
    // A genesis whose validators did not sign these blocks: nothing is final under it.
    let mut stranger = genesis.clone();
    stranger.validators = vec![[7; 32]];
    assert!(matches!(
        deliver(&store, &nodes, &stranger, id, day),
        Err(Refusal::NotFinal(_))
    ));
    // A consortium of three with a quorum of two, of which only this validator signed: its
    // one signature does not reach quorum.
    let mut short_of_quorum = genesis.clone();
    short_of_quorum.validators.extend([[8; 32], [9; 32]]);
    short_of_quorum.quorum = 2;
    assert!(matches!(
        deliver(&store, &nodes, &short_of_quorum, id, day),
        Err(Refusal::NotFinal(_))
    ));
    // An access the ledger rejected (the share asks level 2, the access offers 1): it is in
    // no block, so nothing makes it final.
    let rejected = fx.access(&hospital, &tree, &stream, 1, day, 80);
    match client.submit(&rejected, true) {
        Ok(r) => assert_eq!(r.status, consentry::api::TxStatus::Rejected),
        Err(consentry::client::ClientError::Problem { .. }) => {}
        Err(e) => panic!("{e}"),
    }
    assert!(matches!(
        deliver(&store, &nodes, &genesis, rejected.id(), day),
        Err(Refusal::NotFinal(_))
    ));

    // The same over HTTP: `consentry datanode` as a process, with its own store.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let genesis_path = tmp.path().join("genesis.json");
    let _child = Child(
        std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(["datanode", "--name", NODE, "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data")
            .arg(tmp.path().join("datanode-http"))
            .arg("--ledger")
            .arg(&node.url)
            .arg("--genesis")
            .arg(&genesis_path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::blocking::Client::new();
    let post = |path: &str, body: &serde_json::Value| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            match http.post(format!("{base}{path}")).json(body).send() {
                Ok(r) => {
                    let status = r.status().as_u16();
                    return (status, r.json::<serde_json::Value>().unwrap());
                }
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50))
                }
                Err(e) => panic!("data node unreachable: {e}"),
            }
        }
    };
    // The same signed ingest: the HTTP data node has its own store and sequence.
    let put = serde_json::to_value(&vitals).unwrap();
    let (status, body) = post("/v1/ingest", &put);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["records"], 100);
    let (status, body) = post("/v1/ingest", &put);
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("Sequence")),
        "replay"
    );
    let (status, body) = post("/v1/ingest", &json!({"records": []}));
    assert_eq!(status, 400, "{body}");
    // (Printed, never asserted: from the request to the records decrypted in the reader,
    // finality checked by the data node over HTTP against the validator.)
    let started = std::time::Instant::now();
    let (status, body) = post("/v1/deliveries", &json!({ "access_tx": id.to_hex() }));
    assert_eq!(status, 200, "{body}");
    let sealed: consentry::delivery::SealedRecords = serde_json::from_value(body).unwrap();
    let (secret, _) = hospital.delivery_key(&stream, 77);
    let got: Vec<serde_json::Value> =
        serde_json::from_slice(&open(&secret, CHAIN_ID, id, &sealed).unwrap()).unwrap();
    eprintln!(
        "committed access -> 100 records decrypted in the reader, over HTTP: {:.2?}",
        started.elapsed()
    );
    assert_eq!(got, events(0, 100), "over HTTP too");
    let (status, body) = post("/v1/deliveries", &json!({ "access_tx": "zz" }));
    assert_eq!(status, 400, "{body}");

    // The commands: `patient put` from a key file, `institution fetch` with the identity.
    let cli = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    let mini = schnorrkel::MiniSecretKey::from_bytes(&[11; 32]).unwrap();
    let key_file = tmp.path().join("cli-stream.key");
    consentry::ledger::keys::write_patient(&key_file, &mini).unwrap();
    let cli_patient = mini.expand_to_keypair(schnorrkel::ExpansionMode::Ed25519);
    let mut policy3 = Fixture::policy(&[Role::Hospital], 2);
    policy3.valid_from = day - 1;
    policy3.valid_until = day + 10;
    // This share names the snapshot of the 20 records below (`data_digest`).
    let snapshot = consentry::ledger::Hash32(consentry::delivery::records_digest(
        &serde_json::to_vec(&events(500, 20)).unwrap(),
    ));
    client
        .submit(
            &fx.consent_of_snapshot(
                &platform,
                &cli_patient,
                &tree,
                "cli",
                policy3,
                day,
                Some(snapshot),
            ),
            true,
        )
        .unwrap();
    let records_file = tmp.path().join("events.json");
    std::fs::write(&records_file, serde_json::to_vec(&events(500, 20)).unwrap()).unwrap();
    let put = |file: &std::path::Path| {
        cli(&[
            &os("patient"),
            &os("put"),
            &os("--key"),
            key_file.as_os_str(),
            &os("--name"),
            &os("cli"),
            &os("--file"),
            file.as_os_str(),
            &os("--datanode"),
            &os(&base),
            &os("--datanode-name"),
            &os(NODE),
            &os("--node"),
            &os(&node.url),
        ])
    };
    let (ok, text) = put(&records_file);
    assert!(ok && text.contains("20 records held"), "{text}");
    // Records put after the share are not part of the snapshot it names.
    let later_file = tmp.path().join("later.json");
    std::fs::write(&later_file, serde_json::to_vec(&events(520, 5)).unwrap()).unwrap();
    let (ok, text) = put(&later_file);
    assert!(ok && text.contains("25 records held"), "{text}");
    let cli_stream = Fixture::stream_id(&cli_patient, "cli");
    let cli_access = fx.access(&hospital, &tree, &cli_stream, 2, day, 5);
    client.submit(&cli_access, true).unwrap();
    let identity = tmp.path().join("hospital.id");
    consentry::files::write_identity(&identity, &hospital.sk).unwrap();
    let fetched = tmp.path().join("fetched.json");
    let fetch = |identity: &std::path::Path, out: &std::path::Path| {
        cli(&[
            &os("institution"),
            &os("fetch"),
            &os("--identity"),
            identity.as_os_str(),
            &os("--tx"),
            &os(&cli_access.id().to_hex()),
            &os("--datanode"),
            &os(&base),
            &os("--out"),
            out.as_os_str(),
            &os("--node"),
            &os(&node.url),
        ])
    };
    let (ok, text) = fetch(&identity, &fetched);
    assert!(
        ok && text.contains("the snapshot the share names"),
        "{text}"
    );
    let got: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&fetched).unwrap()).unwrap();
    assert_eq!(
        got,
        events(500, 20),
        "fetched exactly the snapshot, not the later records"
    );
    // A share naming records this data node does not hold: refused, nothing written.
    let unheld_patient = fx.patient_key();
    let mut policy4 = Fixture::policy(&[Role::Hospital], 2);
    policy4.valid_from = day - 1;
    policy4.valid_until = day + 10;
    client
        .submit(
            &fx.consent_of_snapshot(
                &platform,
                &unheld_patient,
                &tree,
                "unheld",
                policy4,
                day,
                Some(consentry::ledger::Hash32([3; 32])),
            ),
            true,
        )
        .unwrap();
    let unheld = vitals_for(&unheld_patient, "unheld");
    let (status, body) = post("/v1/ingest", &serde_json::to_value(&unheld).unwrap());
    assert_eq!(status, 200, "{body}");
    let unheld_stream = Fixture::stream_id(&unheld_patient, "unheld");
    let unheld_access = fx.access(&hospital, &tree, &unheld_stream, 2, day, 6);
    client.submit(&unheld_access, true).unwrap();
    let (status, body) = post(
        "/v1/deliveries",
        &json!({ "access_tx": unheld_access.id().to_hex() }),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("SnapshotMissing")),
        "{body}"
    );
    // Another institution's identity: one line naming the check, nothing written.
    let other_id = tmp.path().join("research.id");
    consentry::files::write_identity(&other_id, &research.sk).unwrap();
    let not_written = tmp.path().join("not-written.json");
    let (ok, text) = fetch(&other_id, &not_written);
    assert!(!ok && text.contains("not this identity's"), "{text}");
    assert!(!not_written.exists());

    // The patient withdraws: the earlier access gets nothing any more, in-process or over
    // HTTP.
    client
        .submit(&fx.withdraw(&patient, "vitals", 1), true)
        .unwrap();
    assert!(matches!(
        deliver(&store, &nodes, &genesis, id, day),
        Err(Refusal::ConsentRevoked(_))
    ));
    let (status, body) = post("/v1/deliveries", &json!({ "access_tx": id.to_hex() }));
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("ConsentRevoked")),
        "{body}"
    );
}

/// Crash safety of the data node: a patient streams ingests of 200 records into a
/// `consentry datanode` process that is SIGKILLed at a random moment, three times. After each
/// kill the store reopens; every acknowledged ingest is there, at most the one in flight is
/// there besides (its answer was lost), no ingest is there in part, and every record still
/// decrypts, in order.
#[test]
fn sigkill_during_ingest_keeps_every_acknowledged_record_and_no_half_written_one() {
    use rand::Rng;
    let tmp = tempfile::tempdir().unwrap();
    let genesis = consentry::ledger::Genesis {
        chain_id: CHAIN.into(),
        validators: vec![],
        quorum: 1,
        issuers: vec![],
        verifying_keys: vec![],
        root_window_secs: 60,
        registry_depth: 4,
        time_ms: 0,
        inspector: None,
    };
    let genesis_file = tmp.path().join("genesis.json");
    std::fs::write(&genesis_file, serde_json::to_vec(&genesis).unwrap()).unwrap();
    let data = tmp.path().join("datanode");
    let p = patient(9);
    let stream = consentry::ledger::stream_id_for(&p.public.to_bytes(), "vitals");
    const BATCH: u64 = 200;
    let mut rng = rand::thread_rng();
    let mut acknowledged_total = 0u64;
    for round in 0..3 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Child(
            std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
                .args(["datanode", "--name", NODE, "--ledger", "http://127.0.0.1:9"])
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--data")
                .arg(&data)
                .arg("--genesis")
                .arg(&genesis_file)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        let client =
            consentry::client::data::DataNodeClient::new(&format!("http://127.0.0.1:{port}"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let first = loop {
            match client.stream(&stream) {
                Ok(s) => break s.next_sequence,
                Err(_) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                }
                Err(e) => panic!("data node unreachable: {e}"),
            }
        };
        // The writer: one ingest after another until the process dies.
        let (acks, acked) = std::sync::mpsc::channel();
        let writer = {
            let p = p.clone();
            std::thread::spawn(move || {
                for seq in first.. {
                    let ingest =
                        Ingest::sign(&p, CHAIN, NODE, "vitals", seq, events(seq * BATCH, BATCH));
                    match client.ingest(&ingest) {
                        Ok(r) => {
                            assert_eq!(r.records, (seq + 1) * BATCH);
                            let _ = acks.send(seq);
                        }
                        Err(_) => return,
                    }
                }
            })
        };
        // Kill once the writer is well under way, at a random moment.
        let _ = acked
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("a first ack");
        std::thread::sleep(std::time::Duration::from_millis(rng.gen_range(10..300)));
        child.0.kill().expect("SIGKILL");
        child.0.wait().unwrap();
        writer.join().unwrap();
        let last_ack = acked.try_iter().last().unwrap_or(first);

        // Reopened: every acknowledged ingest, whole; at most one more (its answer was lost).
        let store = RecordStore::open(&data, CHAIN, NODE).unwrap();
        let next = store.next_sequence(&stream).unwrap();
        assert!(
            next == last_ack + 1 || next == last_ack + 2,
            "round {round}: acknowledged up to {last_ack}, the store's next is {next}"
        );
        assert_eq!(
            store.count(&stream).unwrap(),
            next * BATCH,
            "no ingest in part"
        );
        let all: Vec<serde_json::Value> =
            serde_json::from_slice(&store.records(&stream).unwrap()).unwrap();
        assert_eq!(
            all,
            events(0, next * BATCH),
            "round {round}: every record, in order"
        );
        acknowledged_total = next * BATCH;
    }
    assert!(acknowledged_total >= 3 * BATCH);
}

/// A patient who re-shares a stream requiring escrow stops deliveries to reads made
/// anonymously under the earlier share (the ledger refuses new plain reads; the data node
/// refuses the old ones), while an escrowed read is served.
#[test]
fn a_reshare_requiring_escrow_stops_deliveries_to_plain_reads() {
    use consentry::circuits::credential::Role;
    use consentry::client::NodeClient;
    use consentry::datanode::{deliver, Refusal};
    use consentry::ledger::fixture::{Fixture, CHAIN_ID, ISSUER_ID};
    use consentry::ledger::Body;
    use consentry::node::now_ms;

    let tmp = tempfile::tempdir().unwrap();
    let params = tmp.path().join("params");
    std::fs::create_dir_all(&params).unwrap();
    let mut fx = Fixture::new(4, &params, 32).with_inspector();
    let (node, genesis) = start_node(tmp.path(), &fx);
    let client = NodeClient::new(&node.url);
    let nodes = vec![NodeClient::new(&node.url)];
    let hospital = fx.institution(Role::Hospital, 3);
    let platform = fx.institution(Role::Platform, 1);
    for leaf in [hospital.leaf(), platform.leaf()] {
        client.issue(&fx.issue(leaf)).unwrap();
    }
    let tree = client.sync_tree(ISSUER_ID).unwrap();
    let day = (now_ms() / 86_400_000) as u32;
    let patient = fx.patient_key();
    let mut policy = Fixture::policy(&[Role::Hospital], 2);
    policy.valid_from = day - 1;
    policy.valid_until = day + 10;
    let first = fx.consent(&platform, &patient, &tree, "vitals", policy.clone(), day);
    client.submit(&first, true).unwrap();
    let stream = Fixture::stream_id(&patient, "vitals");
    let store = RecordStore::open(&tmp.path().join("datanode"), CHAIN_ID, NODE).unwrap();
    store
        .append(&Ingest::sign(
            &patient,
            CHAIN_ID,
            NODE,
            "vitals",
            0,
            events(0, 3),
        ))
        .unwrap();

    let plain = fx.access(&hospital, &tree, &stream, 2, day, 1);
    client.submit(&plain, true).unwrap();
    deliver(&store, &nodes, &genesis, plain.id(), day).expect("served under the first share");

    // The patient re-shares, requiring escrow.
    let mut body = fx
        .consent(
            &platform,
            &patient,
            &tree,
            "vitals",
            consentry::ledger::Policy {
                escrow: true,
                ..policy
            },
            day,
        )
        .body;
    if let Body::Consent(c) = &mut body {
        c.replaces = Some(first.id());
    }
    let reshare = fx.finish_consent(&platform, &patient, &tree, body);
    let r = client.submit(&reshare, true).unwrap();
    assert_eq!(r.status, consentry::api::TxStatus::Committed, "{r:?}");

    match deliver(&store, &nodes, &genesis, plain.id(), day) {
        Err(Refusal::PolicyDenied(why)) => assert!(why.contains("escrow"), "{why}"),
        other => panic!("the plain read is still served: {:?}", other.map(|_| ())),
    }
    let escrowed = fx.escrowed_access(&hospital, &tree, &stream, day, 2);
    let r = client.submit(&escrowed, true).unwrap();
    assert_eq!(r.status, consentry::api::TxStatus::Committed, "{r:?}");
    deliver(&store, &nodes, &genesis, escrowed.id(), day).expect("an escrowed read is served");
    node.stop().unwrap();
}
