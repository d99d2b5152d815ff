//! Three validators as real processes on 127.0.0.1 (`consentry node --config`), each with its
//! own RocksDB: ordering through openraft, every validator executing and signing, a leader
//! killed with SIGKILL mid-load, a validator catching up by snapshot, writes refused without
//! a quorum, and the peer listener refusing strangers and replays. Bounded in time: every
//! wait has a deadline, none is a performance assertion (the figures are printed).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use consentry::api::TxStatus;
use consentry::circuits::credential::Role;
use consentry::circuits::groth::ProofCache;
use consentry::client::{builder, ClientError, NodeClient};
use consentry::ledger::fixture::{Fixture, CHAIN_ID, ISSUER_ID};
use consentry::ledger::Transaction;
use ed25519_dalek::SigningKey;
use rand::rngs::OsRng;
use rayon::prelude::*;

const VALIDATORS: usize = 3;
const ACCESSES: usize = 1_000;

/// A port for one validator's listener, never handed out twice in this process: counted up
/// from a per-process start in 20000–29999, below Linux's ephemeral range (32768–60999). A
/// port the kernel picked (`bind(0)`) and this test then released could be picked again for a
/// parallel test, or taken by an outgoing connection, before the validator binds it; a
/// validator started on a taken port never joins (seen once: "no leader agreed among [0, 1,
/// 2]: [None, Some(3), Some(3)]").
fn free_port() -> u16 {
    static NEXT: std::sync::OnceLock<std::sync::atomic::AtomicU16> = std::sync::OnceLock::new();
    let next = NEXT.get_or_init(|| {
        std::sync::atomic::AtomicU16::new(20_000 + (std::process::id() % 1000) as u16 * 10)
    });
    loop {
        let port = next.fetch_add(1, Ordering::Relaxed);
        assert!(port < 32_768, "ran out of test ports");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

struct Cluster {
    dir: PathBuf,
    api: Vec<String>,
    peer: Vec<String>,
    children: Mutex<Vec<Option<Child>>>,
}

impl Cluster {
    fn url(&self, i: usize) -> String {
        format!("http://{}", self.api[i])
    }

    fn config(&self, i: usize) -> PathBuf {
        self.dir.join(format!("validator-{}.toml", i + 1))
    }

    fn start(&self, i: usize) {
        let log =
            std::fs::File::create(self.dir.join(format!("log-{}-{}.txt", i + 1, now()))).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(["node", "--config"])
            .arg(self.config(i))
            .env("RUST_LOG", "info,openraft=warn")
            .env("CONSENTRY_PEER_FAULTS", self.dir.join("faults"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.children.lock().unwrap()[i] = Some(child);
    }

    fn signal(&self, i: usize, sig: i32) {
        let child = self.children.lock().unwrap()[i].take();
        if let Some(mut c) = child {
            unsafe { libc::kill(c.id() as i32, sig) };
            c.wait().unwrap();
        }
    }

    /// Freezes validator `i` (SIGSTOP): it holds what it has and answers nothing.
    fn pause(&self, i: usize) {
        if let Some(c) = &self.children.lock().unwrap()[i] {
            unsafe { libc::kill(c.id() as i32, libc::SIGSTOP) };
        }
    }

    /// Thaws a validator frozen by [`Cluster::pause`].
    fn resume(&self, i: usize) {
        if let Some(c) = &self.children.lock().unwrap()[i] {
            unsafe { libc::kill(c.id() as i32, libc::SIGCONT) };
        }
    }

    fn status(&self, i: usize) -> Option<consentry::api::StatusResponse> {
        NodeClient::new(&self.url(i)).status().ok()
    }

    /// The leader as validator `i` sees it.
    fn leader(&self, i: usize) -> Option<u64> {
        self.status(i)
            .and_then(|s| s.cluster)
            .and_then(|c| c.leader)
    }

    fn wait_leader(&self, among: &[usize], not: Option<u64>, limit: Duration) -> u64 {
        let started = Instant::now();
        loop {
            let seen: Vec<Option<u64>> = among.iter().map(|i| self.leader(*i)).collect();
            if let Some(Some(l)) = seen.first() {
                if seen.iter().all(|s| *s == Some(*l)) && Some(*l) != not {
                    return *l;
                }
            }
            assert!(
                started.elapsed() < limit,
                "no leader agreed among {among:?}: {seen:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything validator `i` logged, over all its starts.
    fn log(&self, i: usize) -> String {
        std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("log-{}-", i + 1))
            })
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .collect()
    }

    /// Block `h` as each of `among` serves it; panics unless header and ids are the same.
    fn same_block(&self, among: &[usize], h: u64) -> serde_json::Value {
        let blocks: Vec<serde_json::Value> = among
            .iter()
            .map(|i| {
                reqwest::blocking::get(format!("{}/v1/blocks/{h}", self.url(*i)))
                    .unwrap()
                    .json()
                    .unwrap()
            })
            .collect();
        for b in &blocks[1..] {
            assert_eq!(b["header"], blocks[0]["header"], "block {h} differs");
            assert_eq!(b["tx_ids"], blocks[0]["tx_ids"], "block {h} differs");
        }
        blocks.into_iter().next().unwrap()
    }

    /// Stops validator `i` (SIGTERM) and runs `verify-chain` on its data.
    fn stop_and_verify_chain(&self, i: usize) {
        self.signal(i, libc::SIGTERM);
        let out = Command::new(env!("CARGO_BIN_EXE_consentry"))
            .args(["verify-chain", "--data"])
            .arg(self.dir.join(format!("validator-{}", i + 1)))
            .arg("--params")
            .arg(self.dir.join("params"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "verify-chain on validator {}: {}",
            i + 1,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn heights(&self, among: &[usize]) -> Vec<u64> {
        among
            .iter()
            .map(|i| self.status(*i).map_or(0, |s| s.height))
            .collect()
    }

    /// Waits until the validators in `among` have the same tip and it is final everywhere.
    fn wait_settled(&self, among: &[usize], limit: Duration) -> u64 {
        let started = Instant::now();
        loop {
            let st: Vec<_> = among.iter().filter_map(|i| self.status(*i)).collect();
            if st.len() == among.len() {
                let h = st[0].height;
                let same = st
                    .iter()
                    .all(|s| s.height == h && s.tip_hash == st[0].tip_hash);
                let fin = st
                    .iter()
                    .all(|s| s.cluster.as_ref().is_some_and(|c| c.final_height == h));
                if same && fin {
                    return h;
                }
            }
            assert!(
                started.elapsed() < limit,
                "validators {among:?} did not settle: heights {:?}",
                self.heights(among)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in self.children.get_mut().unwrap().iter_mut().flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn now() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

/// The knobs a test turns: registry depth, snapshot policy, block size and interval.
struct Shape {
    depth: usize,
    snapshot_every: u64,
    snapshot_keep: u64,
    max_block_txs: usize,
    block_ms: u64,
}

impl Shape {
    /// A depth-4 registry (16 leaves per issuer), 50 ms blocks.
    fn small(snapshot_every: u64, max_block_txs: usize) -> Shape {
        Shape {
            depth: 4,
            snapshot_every,
            snapshot_keep: snapshot_every,
            max_block_txs,
            block_ms: 50,
        }
    }
}

/// A world of `shape`: fixture keys, a genesis naming three fresh validator keys, configs.
fn setup(dir: &Path, shape: Shape) -> (Cluster, Fixture) {
    let params = dir.join("params");
    std::fs::create_dir_all(&params).unwrap();
    let fx = Fixture::new(shape.depth, &params, 21);
    let keys: Vec<SigningKey> = (0..VALIDATORS)
        .map(|_| SigningKey::generate(&mut OsRng))
        .collect();
    let mut genesis = fx.genesis(300);
    genesis.time_ms = now() as u64 - 1000;
    genesis.validators = keys.iter().map(|k| k.verifying_key().to_bytes()).collect();
    genesis.quorum = 2;
    std::fs::write(
        dir.join("genesis.json"),
        serde_json::to_vec(&genesis).unwrap(),
    )
    .unwrap();
    let api: Vec<String> = (0..VALIDATORS)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let peer: Vec<String> = (0..VALIDATORS)
        .map(|_| format!("127.0.0.1:{}", free_port()))
        .collect();
    let mut validators = String::new();
    for i in 0..VALIDATORS {
        validators += &format!(
            "\n[[validators]]\nid = {}\napi = \"{}\"\npeer = \"{}\"\n",
            i + 1,
            api[i],
            peer[i]
        );
    }
    for (i, key) in keys.iter().enumerate() {
        consentry::ledger::keys::write_ed25519(
            &dir.join(format!("validator-{}.key", i + 1)),
            "validator",
            key,
        )
        .unwrap();
        let toml = format!(
            "id = {id}\ndata = \"validator-{id}\"\nkey = \"validator-{id}.key\"\ngenesis = \"genesis.json\"\n\
             params = \"params\"\nlisten = \"{api}\"\npeer_listen = \"{peer}\"\n\
             block_ms = {block_ms}\nsnapshot_every = {every}\nsnapshot_keep = {keep}\n\
             max_block_txs = {max}\n{validators}",
            id = i + 1,
            api = api[i],
            peer = peer[i],
            block_ms = shape.block_ms,
            every = shape.snapshot_every,
            keep = shape.snapshot_keep,
            max = shape.max_block_txs,
        );
        std::fs::write(dir.join(format!("validator-{}.toml", i + 1)), toml).unwrap();
    }
    let c = Cluster {
        dir: dir.to_path_buf(),
        api,
        peer,
        children: Mutex::new((0..VALIDATORS).map(|_| None).collect()),
    };
    for i in 0..VALIDATORS {
        c.start(i);
    }
    (c, fx)
}

/// Retries a submission on the validators in turn while they are unreachable or have no
/// quorum; `Ok(true)` when it was acknowledged as committed.
fn submit_anywhere(c: &Cluster, live: &[usize], start: usize, tx: &Transaction) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut k = start;
    loop {
        let i = live[k % live.len()];
        match NodeClient::new(&c.url(i)).submit(tx, true) {
            Ok(r) if r.status == TxStatus::Committed => return true,
            // Still pending after the wait (e.g. its leader died before proposing it).
            Ok(_) => {}
            Err(ClientError::Problem { code, .. }) if code == "Replay" => return false,
            Err(ClientError::Problem { status: 503, .. })
            | Err(ClientError::NotSent { .. })
            | Err(ClientError::Unreachable { .. }) => {}
            Err(e) => panic!("submitting to validator {}: {e}", i + 1),
        }
        assert!(
            Instant::now() < deadline,
            "a transaction found no validator to commit it"
        );
        k += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn three_validators_survive_a_leader_kill_and_agree_on_every_block() {
    let tmp = tempfile::tempdir().unwrap();
    // Small blocks and frequent snapshots: the killed validator misses far more entries than
    // the log keeps, so it must come back through a snapshot.
    let (c, mut fx) = setup(tmp.path(), Shape::small(20, 8));
    let all: Vec<usize> = (0..VALIDATORS).collect();
    let first = c.wait_leader(&all, None, Duration::from_secs(20));
    eprintln!("leader: validator {first}");

    // A hospital and a platform accredited, a consent for the hospital: through followers.
    let follower = all
        .iter()
        .copied()
        .find(|i| *i as u64 + 1 != first)
        .unwrap();
    let client = NodeClient::new(&c.url(follower));
    let hospital = fx.institution(Role::Hospital, 3);
    let platform = fx.institution(Role::Platform, 1);
    for leaf in [hospital.leaf(), platform.leaf()] {
        client.issue(&fx.issue(leaf)).unwrap();
    }
    let tree = client.sync_tree(ISSUER_ID).unwrap();
    let patient = fx.patient_key();
    let day = (now() / 86_400_000) as u32;
    let mut policy = Fixture::policy(&[Role::Hospital], 2);
    policy.valid_from = day - 1;
    policy.valid_until = day + 10;
    let consent = fx.consent(&platform, &patient, &tree, "vitals", policy, day);
    assert_eq!(
        client.submit(&consent, true).unwrap().status,
        TxStatus::Committed
    );
    let stream = Fixture::stream_id(&patient, "vitals");

    let bodies: Vec<_> = (0..ACCESSES as u64)
        .map(|n| fx.access_body(&hospital, &tree, &stream, 2, day, n))
        .collect();
    let txs: Vec<Transaction> = bodies
        .into_par_iter()
        .map_init(ProofCache::new, |cache, body| {
            let proof = hospital
                .prove_cached(&fx.prover, cache, CHAIN_ID, &tree, &body, &mut OsRng)
                .unwrap();
            builder::with_proof(body, proof)
        })
        .collect();

    // 1,000 Accesses from 16 clients to random validators; the leader is SIGKILLed half-way.
    let next = AtomicUsize::new(0);
    let acked = Mutex::new(Vec::new());
    let killed = AtomicBool::new(false);
    let leader_index = first as usize - 1;
    let survivors: Vec<usize> = all.iter().copied().filter(|i| *i != leader_index).collect();
    let started = Instant::now();
    let mut failover = None;
    std::thread::scope(|s| {
        for w in 0..16 {
            let (next, acked, killed, c, txs, survivors, all) =
                (&next, &acked, &killed, &c, &txs, &survivors, &all);
            s.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= txs.len() {
                    return;
                }
                let live = if killed.load(Ordering::SeqCst) {
                    survivors
                } else {
                    all
                };
                if submit_anywhere(c, live, w + i, &txs[i]) {
                    acked.lock().unwrap().push(txs[i].id());
                }
            });
        }
        while next.load(Ordering::SeqCst) < ACCESSES / 2 {
            std::thread::sleep(Duration::from_millis(5));
        }
        let before = c.heights(&survivors).into_iter().max().unwrap_or(0);
        let killed_at = Instant::now();
        c.signal(leader_index, libc::SIGKILL);
        killed.store(true, Ordering::SeqCst);
        let new = c.wait_leader(&survivors, Some(first), Duration::from_secs(30));
        let elected = killed_at.elapsed();
        // The next block committed after the kill (the clients keep submitting).
        while c.heights(&survivors).into_iter().max().unwrap_or(0) <= before {
            assert!(
                killed_at.elapsed() < Duration::from_secs(30),
                "no block after the kill"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        failover = Some((new, elected, killed_at.elapsed()));
    });
    let elapsed = started.elapsed();
    let (new_leader, elected, next_block) = failover.unwrap();
    let acked = acked.into_inner().unwrap();
    eprintln!(
        "{} of {ACCESSES} acknowledged as committed in {elapsed:.2?}; new leader {new_leader} \
         {elected:.2?} after the SIGKILL, next block committed {next_block:.2?} after it",
        acked.len()
    );
    assert_ne!(new_leader, first);
    assert!(
        acked.len() > ACCESSES / 2,
        "most accesses commit despite the kill"
    );

    // Every acknowledged transaction is in every live validator's chain, once.
    let height = c.wait_settled(&survivors, Duration::from_secs(30));
    for i in &survivors {
        let n = NodeClient::new(&c.url(*i));
        for id in &acked {
            let r = n.transaction(&id.to_hex()).unwrap();
            assert_eq!(
                r.status,
                TxStatus::Committed,
                "validator {} lacks {id}",
                i + 1
            );
        }
    }

    // The killed validator restarts and catches up (by snapshot: it missed more entries than
    // the others keep), then every block is identical on all three.
    let restarted = Instant::now();
    c.start(leader_index);
    let caught = c.wait_settled(&all, Duration::from_secs(60));
    let catch_up = restarted.elapsed();
    eprintln!("validator {first} caught up to height {caught} in {catch_up:.2?}");
    assert!(caught >= height);
    assert!(
        c.log(leader_index).contains("snapshot installed"),
        "the restarted validator installed a snapshot"
    );

    let mut seen = HashSet::new();
    for h in 0..=caught {
        let block = c.same_block(&all, h);
        for id in block["tx_ids"].as_array().unwrap() {
            assert!(seen.insert(id.as_str().unwrap().to_string()), "{id} twice");
        }
        // Final: at least a quorum of distinct validators signed it.
        let signers: HashSet<_> = block["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["validator"].as_str().unwrap().to_string())
            .collect();
        assert!(
            signers.len() >= 2,
            "block {h} has {} signers",
            signers.len()
        );
    }

    // Two of three stopped: writes refused with 503, reads served; one back: writes resume.
    let (a, b) = (survivors[0], survivors[1]);
    c.signal(a, libc::SIGTERM);
    c.signal(b, libc::SIGTERM);
    let alone = NodeClient::new(&c.url(leader_index));
    let research = fx.institution(Role::Research, 1);
    let extra = fx.issue(research.leaf());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match alone.submit(&extra, false) {
            Err(ClientError::Problem {
                status: 503, code, ..
            }) => {
                assert_eq!(code, "NoQuorum");
                break;
            }
            other => {
                assert!(
                    Instant::now() < deadline,
                    "writes still taken alone: {other:?}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    assert_eq!(alone.status().unwrap().height, caught, "reads are served");
    c.start(a);
    c.wait_leader(&[leader_index, a], None, Duration::from_secs(20));
    assert!(submit_anywhere(&c, &[leader_index, a], 0, &extra));

    // Stopped cleanly, every validator's chain passes verify-chain.
    c.start(b);
    c.wait_settled(&all, Duration::from_secs(30));
    for i in all.clone() {
        c.stop_and_verify_chain(i);
    }
}

#[test]
fn the_peer_listener_refuses_strangers_and_replays_and_the_cluster_heals_after_message_loss() {
    let tmp = tempfile::tempdir().unwrap();
    let (c, mut fx) = setup(tmp.path(), Shape::small(1_000, 2_000));
    let all: Vec<usize> = (0..VALIDATORS).collect();
    c.wait_leader(&all, None, Duration::from_secs(20));

    // A request to the peer listener: signed by a stranger, by a validator, then replayed.
    let genesis: consentry::ledger::Genesis =
        serde_json::from_slice(&std::fs::read(c.dir.join("genesis.json")).unwrap()).unwrap();
    let body = serde_json::to_vec(&consentry::peer::SignaturesRequest { from: 0, to: 0 }).unwrap();
    let post = |key: &SigningKey| {
        let (headers, _) = consentry::peer::auth::sign_request(
            key,
            &genesis.chain_id,
            "POST",
            consentry::peer::SIGNATURES_PATH,
            &body,
            now() as u64,
        );
        headers
    };
    let send = |headers: &[(&'static str, String)]| {
        let mut r = reqwest::blocking::Client::new()
            .post(format!(
                "http://{}{}",
                c.peer[0],
                consentry::peer::SIGNATURES_PATH
            ))
            .header("content-type", "application/json")
            .body(body.clone());
        for (k, v) in headers {
            r = r.header(*k, v);
        }
        let resp = r.send().unwrap();
        (resp.status().as_u16(), resp.text().unwrap())
    };
    let stranger = SigningKey::generate(&mut OsRng);
    let (status, text) = send(&post(&stranger));
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("not a validator"), "{text}");
    let v2 =
        consentry::ledger::keys::read_ed25519(&c.dir.join("validator-2.key"), "validator").unwrap();
    let signed = post(&v2);
    assert_eq!(send(&signed).0, 200);
    let (status, text) = send(&signed);
    assert_eq!(status, 401, "{text}");
    assert!(text.contains("replayed"), "{text}");
    // The public API serves no Raft route.
    let r = reqwest::blocking::Client::new()
        .post(format!("{}/raft/vote", c.url(0)))
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // 30 % of peer messages dropped and 20 ms added to the rest: no divergence, progress
    // once it heals.
    std::fs::write(c.dir.join("faults"), "drop=300 delay=20").unwrap();
    // (A depth-4 registry holds 16 leaves.)
    let txs: Vec<Transaction> = (0..12)
        .map(|_| {
            let inst = fx.institution(Role::Research, 1);
            fx.issue(inst.leaf())
        })
        .collect();
    std::thread::scope(|s| {
        for (k, tx) in txs.iter().enumerate() {
            let c = &c;
            let all = &all;
            s.spawn(move || submit_anywhere(c, all, k, tx));
        }
    });
    std::fs::write(c.dir.join("faults"), "drop=0 delay=0").unwrap();
    let h = c.wait_settled(&all, Duration::from_secs(30));
    for tx in &txs {
        for i in &all {
            let r = NodeClient::new(&c.url(*i))
                .transaction(&tx.id().to_hex())
                .unwrap();
            assert_eq!(r.status, TxStatus::Committed);
        }
    }
    eprintln!("healed at height {h}");
}

#[test]
fn a_follower_down_while_5000_blocks_are_compacted_comes_back_through_a_snapshot() {
    const BLOCKS: usize = 5_000;
    let tmp = tempfile::tempdir().unwrap();
    // The default snapshot policy (one every 1,000 entries, 64 kept behind it), one
    // transaction per block, and depth-12 registries (4,096 leaves for each of the two
    // issuers), so 5,000 credential issuances (issuer-signed, no proof to make) are 5,000
    // blocks.
    let (c, mut fx) = setup(
        tmp.path(),
        Shape {
            depth: 12,
            snapshot_every: 1_000,
            snapshot_keep: 64,
            max_block_txs: 1,
            block_ms: 10,
        },
    );
    let all: Vec<usize> = (0..VALIDATORS).collect();
    let leader = c.wait_leader(&all, None, Duration::from_secs(20)) as usize - 1;
    let down = (leader + 1) % VALIDATORS;
    let up: Vec<usize> = all.iter().copied().filter(|i| *i != down).collect();
    c.signal(down, libc::SIGKILL);
    let start_height = c.heights(&up).into_iter().max().unwrap();

    let txs: Vec<Transaction> = (0..BLOCKS)
        .map(|i| {
            let leaf = fx.institution(Role::Research, 1).leaf();
            if i % 2 == 0 {
                fx.issue(leaf)
            } else {
                fx.issue_by_second_issuer(leaf)
            }
        })
        .collect();
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for w in 0..8 {
            let (next, txs, c, up) = (&next, &txs, &c, &up);
            s.spawn(move || {
                let client = NodeClient::new(&c.url(up[w % up.len()]));
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= txs.len() {
                        return;
                    }
                    client.submit(&txs[i], false).unwrap();
                }
            });
        }
    });
    let target = start_height + BLOCKS as u64;
    let deadline = Instant::now() + Duration::from_secs(600);
    while c.heights(&up).into_iter().min().unwrap() < target {
        assert!(
            Instant::now() < deadline,
            "{BLOCKS} blocks not committed: heights {:?}",
            c.heights(&up)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let height = c.wait_settled(&up, Duration::from_secs(60));
    let committed = started.elapsed();
    eprintln!(
        "{BLOCKS} one-transaction blocks committed by two validators in {committed:.2?} \
         ({:.0} blocks/s)",
        BLOCKS as f64 / committed.as_secs_f64()
    );

    // The validator that was down comes back: the others purged what it missed, so it installs
    // a snapshot, then follows the log.
    let restarted = Instant::now();
    c.start(down);
    let caught = c.wait_settled(&all, Duration::from_secs(120));
    let catch_up = restarted.elapsed();
    eprintln!(
        "validator {} caught up {caught} blocks in {catch_up:.2?} ({:.0} blocks/s)",
        down + 1,
        caught as f64 / catch_up.as_secs_f64()
    );
    assert!(caught >= height);
    assert!(
        c.log(leader).contains("snapshot built"),
        "the leader compacted its log"
    );
    assert!(
        c.log(down).contains("snapshot installed"),
        "the validator that was down installed a snapshot"
    );

    // After the snapshot, the log: one more block reaches all three.
    let research = fx.institution(Role::Research, 1);
    assert!(submit_anywhere(&c, &all, 0, &fx.issue(research.leaf())));
    let last = c.wait_settled(&all, Duration::from_secs(30));
    assert_eq!(last, caught + 1);
    // Same tip hash everywhere (wait_settled), hence the same chain: each header commits to
    // its predecessor's hash. Spot-check some blocks byte for byte anyway.
    for h in [1, 999, 2_500, 4_937, last] {
        c.same_block(&all, h);
    }

    // Stopped, the validator that came back through a snapshot passes verify-chain.
    c.stop_and_verify_chain(down);
}

/// The validator a client talked to keeps its transaction going: a leader that took it and
/// died before proposing it does not lose it, the next leader gets it again.
#[test]
fn a_transaction_whose_leader_dies_before_proposing_it_still_commits() {
    let tmp = tempfile::tempdir().unwrap();
    // Slow blocks: the leader holds the transaction in its mempool for up to 3 s.
    let (c, mut fx) = setup(
        tmp.path(),
        Shape {
            block_ms: 3_000,
            ..Shape::small(1_000, 2_000)
        },
    );
    let all: Vec<usize> = (0..VALIDATORS).collect();
    let leader = c.wait_leader(&all, None, Duration::from_secs(20)) as usize - 1;
    let follower = (leader + 1) % VALIDATORS;
    let client = NodeClient::new(&c.url(follower));
    let mut stranded = None;
    for _ in 0..5 {
        let leaf = fx.institution(Role::Research, 1).leaf();
        let tx = fx.issue(leaf);
        assert_eq!(client.submit(&tx, false).unwrap().status, TxStatus::Pending);
        // Frozen at once; if its block was proposed in the meantime, try another.
        c.pause(leader);
        std::thread::sleep(Duration::from_millis(200));
        if client.transaction(&tx.id().to_hex()).unwrap().status == TxStatus::Pending {
            stranded = Some(tx);
            break;
        }
        c.resume(leader);
        c.wait_settled(&all, Duration::from_secs(20));
    }
    let tx = stranded.expect("a transaction held by the leader when it froze");
    c.signal(leader, libc::SIGKILL);
    let survivors: Vec<usize> = all.iter().copied().filter(|i| *i != leader).collect();
    c.wait_leader(&survivors, Some(leader as u64 + 1), Duration::from_secs(30));
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.transaction(&tx.id().to_hex()).unwrap().status != TxStatus::Committed {
        assert!(
            Instant::now() < deadline,
            "the transaction the dead leader held never committed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    c.wait_settled(&survivors, Duration::from_secs(30));
    for i in &survivors {
        let r = NodeClient::new(&c.url(*i))
            .transaction(&tx.id().to_hex())
            .unwrap();
        assert_eq!(r.status, TxStatus::Committed, "on validator {}", i + 1);
    }
}
