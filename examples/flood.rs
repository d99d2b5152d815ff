//! Honest throughput while a flood of garbage proofs runs, on one embedded node (loopback
//! only, bounded in count and time).
//!
//! The flood: `FLOOD_CLIENTS` HTTP clients, from the loopback address 127.0.0.2, submit Access
//! transactions whose proofs are made of valid points (a real proof's bytes on other bodies),
//! so they pass every admission check but the pairing. Without bounds they would fill the
//! mempool and make every block bisect, and verifying each at admission would take the CPU
//! from honest submitters. The honest side, from 127.0.0.1: 1,000 proven accesses from 16
//! clients, as `consentry bench` measures them.
//!
//! Run: `cargo run --release --example flood [honest] [flood_max]` (defaults 1000, 50000).
//! Prints honest committed tx/s without and with the flood, and what became of the flood.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use consentry::bench::node::{committed_throughput, BenchNode, CLIENTS};
use consentry::bench::progress::Progress;
use consentry::ledger::Body;

const FLOOD_CLIENTS: usize = 8;
/// The flood stops after this long whatever happens.
const FLOOD_LIMIT: Duration = Duration::from_secs(60);

fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let honest = *args.first().unwrap_or(&1000);
    let flood_max = *args.get(1).unwrap_or(&50_000);
    let quiet = Progress::hidden(0);

    // Baseline: honest traffic alone.
    let mut node = BenchNode::start()?;
    let txs = node.accesses(honest, &quiet)?;
    let alone = committed_throughput(&node.urls(), &txs, CLIENTS, &quiet)?;
    println!(
        "honest alone: {} committed in {:.2?}: {:.0} tx/s",
        alone.transactions,
        alone.committed,
        alone.committed_tx_per_s()
    );
    node.stop()?;

    // The same with a flood running.
    let mut node = BenchNode::start()?;
    let txs = node.accesses(honest, &quiet)?;
    let template = node.access(u64::MAX);
    let url = node.url().to_string();
    let stop = AtomicBool::new(false);
    let sent = AtomicUsize::new(0);
    let (admitted, refused_proof, busy, other) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let started = Instant::now();
    let with = std::thread::scope(|s| {
        for _ in 0..FLOOD_CLIENTS {
            s.spawn(|| {
                let http = reqwest::blocking::Client::builder()
                    .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
                    .build()
                    .expect("client");
                while !stop.load(Ordering::Relaxed) && started.elapsed() < FLOOD_LIMIT {
                    let n = sent.fetch_add(1, Ordering::Relaxed);
                    if n >= flood_max {
                        break;
                    }
                    let mut tx = template.clone();
                    if let Body::Access(a) = &mut tx.body {
                        a.nonce = (1 << 40) + n as u64; // never an honest nonce
                    }
                    let code = http
                        .post(format!("{url}/v1/transactions"))
                        .json(&tx)
                        .send()
                        .ok()
                        .and_then(|r| r.json::<serde_json::Value>().ok())
                        .map(|v| v["code"].as_str().unwrap_or("").to_string());
                    match code.as_deref() {
                        Some("") => admitted.fetch_add(1, Ordering::Relaxed),
                        Some("ProofInvalid") => refused_proof.fetch_add(1, Ordering::Relaxed),
                        Some("Busy") => busy.fetch_add(1, Ordering::Relaxed),
                        _ => other.fetch_add(1, Ordering::Relaxed),
                    };
                }
            });
        }
        // Let the flood start, then run the honest traffic through it.
        std::thread::sleep(Duration::from_millis(500));
        let r = committed_throughput(std::slice::from_ref(&url), &txs, CLIENTS, &quiet);
        stop.store(true, Ordering::Relaxed);
        r
    })?;
    println!(
        "honest with flood: {} committed in {:.2?}: {:.0} tx/s ({:.0}% of alone)",
        with.transactions,
        with.committed,
        with.committed_tx_per_s(),
        100.0 * with.committed_tx_per_s() / alone.committed_tx_per_s()
    );
    println!(
        "flood: {} sent in {:.1?}: {} admitted (deferred, rejected in blocks), {} refused at admission (ProofInvalid), {} Busy (address refused or mempool full), {} other",
        sent.load(Ordering::Relaxed).min(flood_max),
        started.elapsed(),
        admitted.load(Ordering::Relaxed),
        refused_proof.load(Ordering::Relaxed),
        busy.load(Ordering::Relaxed),
        other.load(Ordering::Relaxed)
    );
    node.stop()?;
    Ok(())
}
