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

use consentry::bench::node::{committed_throughput, BenchNode, CLIENTS, NODE_DEPTH};
use consentry::bench::progress::Progress;

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

    // The node, a hospital accredited through it and a consent for it (shared with
    // `consentry bench`).
    let mut node = BenchNode::start()?;
    let quiet = Progress::hidden(0);

    // 1. Verify load.
    let token_tx = node.access(u64::MAX);
    let claim = token_tx.body.claim().unwrap().clone();
    let token = serde_json::json!({
        "version": 1, "depth": NODE_DEPTH, "proof": hex::encode(&token_tx.auth.proof),
        "public": {
            "root": format!("0x{}", claim.root.to_hex()), "scope": format!("0x{}", claim.scope.to_hex()),
            "pseudonym": format!("0x{}", claim.pseudonym.to_hex()),
            "message": consentry::circuits::field::to_hex(&token_tx.body.message(consentry::ledger::fixture::CHAIN_ID)),
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
                node.url().to_string(),
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
    let txs = node.accesses(accesses, &quiet)?;
    println!(
        "proved {} access tokens in {:.1?} (depth {NODE_DEPTH})",
        txs.len(),
        proving.elapsed()
    );
    let t = committed_throughput(&node.urls(), &txs, CLIENTS, &quiet)?;
    println!(
        "access: {} transactions admitted in {:.2?}, all committed in {:.2?}: {:.0} committed tx/s",
        t.transactions,
        t.admitted,
        t.committed,
        t.committed_tx_per_s()
    );
    node.stop()?;
    Ok(())
}
