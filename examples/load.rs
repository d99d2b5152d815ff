//! A bounded load generator against a real node on 127.0.0.1 (no other address is ever used).
//!
//! 1. `POST /v1/tokens/verify` at a fixed open-loop rate (default 200 requests/s for 10 s):
//!    throughput and p50/p99 latency, measured from each request's scheduled send time.
//! 2. Committed Access transactions per second through the HTTP path: N pre-proven Access
//!    transactions submitted by concurrent clients, timed until the last one is committed.
//!
//! Tokens are proven at registry depth 4 (fast set-up); verification cost does not depend on
//! the depth. Run: `cargo run --release --example load -- [RPS] [SECONDS] [ACCESSES]`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use consentry::circuits::credential::Role;
use consentry::client::NodeClient;
use consentry::demo::EmbeddedNode;
use consentry::ledger::fixture::Fixture;
use consentry::ledger::ConsentAction;
use consentry::node::{now_ms, NodeConfig};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn main() -> anyhow::Result<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rps = *args.first().unwrap_or(&200);
    let seconds = *args.get(1).unwrap_or(&10);
    let accesses = *args.get(2).unwrap_or(&1000) as usize;

    let tmp = tempfile::tempdir()?;
    let params = tmp.path().join("params");
    std::fs::create_dir_all(&params)?;
    let mut fx = Fixture::new(4, &params, 9);
    let day = (now_ms() / 86_400_000) as u32;
    let mut genesis = fx.genesis(64);
    genesis.time_ms = now_ms() - 1000;
    let genesis_file = tmp.path().join("genesis.json");
    std::fs::write(&genesis_file, serde_json::to_vec(&genesis)?)?;
    let key_file = tmp.path().join("validator.key");
    consentry::ledger::keys::write_ed25519(&key_file, "validator", &fx.validator)?;
    let node = EmbeddedNode::start(NodeConfig {
        data: tmp.path().join("node"),
        params: params.clone(),
        genesis: Some(genesis_file),
        key: Some(key_file),
        dev: false,
        block_interval: Duration::from_millis(100),
        admission: consentry::consensus::Admission::DeferProofs,
    })?;
    let client = NodeClient::new(&node.url);
    let hospital = fx.institution(Role::Hospital, 3);
    let platform = fx.institution(Role::Platform, 1);
    for leaf in [hospital.leaf(), platform.leaf()] {
        client.issue(&fx.issue(leaf))?;
    }
    let leaves: Vec<_> = client
        .all_leaves()?
        .iter()
        .map(|l| consentry::circuits::field::from_hex(l))
        .collect::<Result<_, _>>()?;
    let tree = consentry::circuits::registry::RegistryTree::from_leaves(4, &leaves)?;
    let patient = fx.patient_key();
    let mut policy = Fixture::policy(&[Role::Hospital], 2);
    policy.valid_from = day - 1;
    policy.valid_until = day + 10;
    client.submit(
        &fx.consent(
            &platform,
            &patient,
            &tree,
            "load",
            ConsentAction::Share,
            policy,
            day,
        ),
        true,
    )?;

    // 1. Verify load.
    let token_tx = fx.access(&hospital, &tree, "load", 2, day, u64::MAX);
    let claim = token_tx.body.claim().unwrap().clone();
    let token = serde_json::json!({
        "version": 1, "depth": 4, "proof": hex::encode(&token_tx.auth.proof),
        "public": {
            "root": format!("0x{}", claim.root.to_hex()), "scope": format!("0x{}", claim.scope.to_hex()),
            "pseudonym": format!("0x{}", claim.pseudonym.to_hex()),
            "message": consentry::circuits::field::to_hex(&token_tx.body.message()),
            "role": "hospital", "issuer_id": claim.issuer_id, "min_level": claim.min_level, "today": claim.today
        }
    });
    let total = (rps * seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / rps as f64);
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now() + Duration::from_millis(200);
    let workers = 32;
    std::thread::scope(|s| {
        for _ in 0..workers {
            let (latencies, next, token, url) = (
                latencies.clone(),
                next.clone(),
                token.clone(),
                node.url.clone(),
            );
            s.spawn(move || {
                let http = reqwest::blocking::Client::new();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= total {
                        break;
                    }
                    let scheduled = start + interval * i as u32;
                    if let Some(wait) = scheduled.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let r = http
                        .post(format!("{url}/v1/tokens/verify"))
                        .json(&token)
                        .send()
                        .expect("request");
                    assert!(r.status().is_success());
                    latencies.lock().unwrap().push(scheduled.elapsed());
                }
            });
        }
    });
    let elapsed = start.elapsed();
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort();
    println!(
        "verify: {} requests at {} rps offered in {:.2?} ({:.0} rps achieved); p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        lat.len(), rps, elapsed, lat.len() as f64 / elapsed.as_secs_f64(),
        percentile(&lat, 0.50), percentile(&lat, 0.99), lat[lat.len() - 1]
    );

    // 2. Committed Access throughput through HTTP.
    let proving = Instant::now();
    let txs: Vec<_> = (0..accesses as u64)
        .map(|n| fx.access(&hospital, &tree, "load", 2, day, n))
        .collect();
    println!(
        "proved {} access tokens in {:.1?} (depth 4)",
        txs.len(),
        proving.elapsed()
    );
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..16 {
            s.spawn(|| {
                let c = NodeClient::new(&node.url);
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= txs.len() {
                        break;
                    }
                    c.submit(&txs[i], false).expect("admitted");
                }
            });
        }
    });
    let admitted = started.elapsed();
    while client.status()?.pending > 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let committed = started.elapsed();
    let not_committed = txs
        .iter()
        .filter(|t| {
            client
                .transaction(&t.id().to_hex())
                .map(|r| r.status != consentry::api::TxStatus::Committed)
                .unwrap_or(true)
        })
        .count();
    anyhow::ensure!(
        not_committed == 0,
        "{not_committed} transactions were not committed"
    );
    println!(
        "access: {} transactions admitted in {:.2?}, all committed in {:.2?}: {:.0} committed tx/s",
        txs.len(),
        admitted,
        committed,
        txs.len() as f64 / committed.as_secs_f64()
    );
    node.stop()?;
    Ok(())
}
