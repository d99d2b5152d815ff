//! End-to-end throughput: committed Access transactions per second through HTTP on an
//! embedded node (real axum server on 127.0.0.1, RocksDB in a temporary directory, the
//! single-validator sequencer, proofs verified in the block's batch as a node does by default).
//!
//! The world is the depth-4 test fixture ([`Fixture`]): a genesis with one issuer, a hospital
//! and a data platform accredited through the node, and a patient's consent for the hospital
//! on stream [`STREAM`]. Tokens are proven at depth 4 because proving is the slow part of
//! setting up the run (256 proofs at depth 20 take about two minutes on two cores), while the
//! node's cost per transaction does not depend on the depth: a Groth16 verification costs the
//! same for every depth (eight public inputs), and the Merkle path never reaches the node.
//!
//! Used by `consentry bench` and by `examples/load.rs`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use consentry_circuits::credential::Role;
use consentry_circuits::groth::ProofCache;
use consentry_circuits::registry::RegistryTree;
use rand::rngs::OsRng;
use rayon::prelude::*;

use super::progress::Progress;
use crate::api::TxStatus;
use crate::client::{builder, NodeClient};
use crate::consensus::Admission;
use crate::demo::EmbeddedNode;
use crate::ledger::fixture::{Fixture, Institution};
use crate::ledger::Transaction;
use crate::node::{now_ms, NodeConfig};

/// Registry depth of the tokens submitted to the node.
pub const NODE_DEPTH: usize = 4;
/// Concurrent HTTP clients submitting transactions.
pub const CLIENTS: usize = 16;
/// The stream's name (its id is derived from the patient's key and this name).
pub const STREAM: &str = "load";
/// Time between block seals.
pub const BLOCK_INTERVAL: Duration = Duration::from_millis(100);

/// Progress steps of [`BenchNode::start`] plus [`committed_throughput`]'s wait, beyond one
/// step per proven and per submitted transaction.
pub const FIXED_STEPS: u64 = 2;

/// A started embedded node with an accredited hospital allowed to read [`STREAM`].
pub struct BenchNode {
    node: EmbeddedNode,
    /// The stream's id (derived from the patient key and [`STREAM`]).
    stream: String,
    fx: Fixture,
    hospital: Institution,
    tree: RegistryTree,
    day: u32,
    // Last: the node's data and keys are removed after the node stopped.
    _tmp: tempfile::TempDir,
}

/// How long a batch of transactions took through the node.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    /// Transactions submitted.
    pub transactions: usize,
    /// From the first submission until every one was admitted.
    pub admitted: Duration,
    /// From the first submission until the last was committed.
    pub committed: Duration,
}

impl Throughput {
    /// Committed transactions per second.
    pub fn committed_tx_per_s(&self) -> f64 {
        self.transactions as f64 / self.committed.as_secs_f64()
    }
}

impl BenchNode {
    /// Writes depth-4 keys and a genesis into a temporary directory, starts the node, accredits
    /// a hospital and a data platform, and commits the platform's consent for the hospital.
    pub fn start() -> anyhow::Result<BenchNode> {
        let tmp = tempfile::tempdir()?;
        let params = tmp.path().join("params");
        std::fs::create_dir_all(&params)?;
        let mut fx = Fixture::new(NODE_DEPTH, &params, 9);
        let day = (now_ms() / 86_400_000) as u32;
        let mut genesis = fx.genesis(64);
        genesis.time_ms = now_ms() - 1000;
        let genesis_file = tmp.path().join("genesis.json");
        std::fs::write(&genesis_file, serde_json::to_vec(&genesis)?)?;
        let key_file = tmp.path().join("validator.key");
        crate::ledger::keys::write_ed25519(&key_file, "validator", &fx.validator)?;
        let node = EmbeddedNode::start(NodeConfig {
            data: tmp.path().join("node"),
            params: params.clone(),
            genesis: Some(genesis_file),
            key: Some(key_file),
            dev: false,
            block_interval: BLOCK_INTERVAL,
            admission: Admission::DeferProofs,
            dev_root_window_secs: crate::node::DEV_ROOT_WINDOW_SECS,
            cluster: None,
        })?;
        let client = NodeClient::new(&node.url);
        let hospital = fx.institution(Role::Hospital, 3);
        let platform = fx.institution(Role::Platform, 1);
        for leaf in [hospital.leaf(), platform.leaf()] {
            client.issue(&fx.issue(leaf)).context("accrediting")?;
        }
        let tree = client.sync_tree(crate::ledger::fixture::ISSUER_ID)?;
        let patient = fx.patient_key();
        let mut policy = Fixture::policy(&[Role::Hospital], 2);
        policy.valid_from = day - 1;
        policy.valid_until = day + 10;
        let consent = fx.consent(&platform, &patient, &tree, STREAM, policy, day);
        client.submit(&consent, true).context("the consent")?;
        Ok(BenchNode {
            stream: Fixture::stream_id(&patient, STREAM),
            node,
            fx,
            hospital,
            tree,
            day,
            _tmp: tmp,
        })
    }

    /// The node's base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.node.url
    }

    /// One proven Access by the hospital, with `nonce` (distinct nonces, distinct ids).
    pub fn access(&mut self, nonce: u64) -> Transaction {
        self.fx
            .access(&self.hospital, &self.tree, &self.stream, 2, self.day, nonce)
    }

    /// `n` proven Access transactions (nonces `0..n`), proven in parallel through a proof
    /// cache per rayon split (`map_init`), so most proofs are repeat proofs; one tick per
    /// proof.
    pub fn accesses(&mut self, n: usize, progress: &Progress) -> anyhow::Result<Vec<Transaction>> {
        let bodies: Vec<_> = (0..n as u64)
            .map(|nonce| {
                self.fx
                    .access_body(&self.hospital, &self.tree, &self.stream, 2, self.day, nonce)
            })
            .collect();
        let (fx, hospital, tree) = (&self.fx, &self.hospital, &self.tree);
        bodies
            .into_par_iter()
            .map_init(ProofCache::new, |cache, body| {
                let proof = hospital.prove_cached(
                    &fx.prover,
                    cache,
                    crate::ledger::fixture::CHAIN_ID,
                    tree,
                    &body,
                    &mut OsRng,
                )?;
                progress.tick();
                Ok(builder::with_proof(body, proof))
            })
            .collect()
    }

    /// Stops the node gracefully.
    pub fn stop(self) -> anyhow::Result<()> {
        self.node.stop()
    }
}

/// Submits `txs` through `clients` concurrent HTTP clients (`POST /v1/transactions`, without
/// waiting) and times until the node has committed the last one; then checks every one is
/// committed (untimed). One tick per admitted transaction and one when all are committed.
pub fn committed_throughput(
    url: &str,
    txs: &[Transaction],
    clients: usize,
    progress: &Progress,
) -> anyhow::Result<Throughput> {
    let client = NodeClient::new(url);
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..clients.max(1))
            .map(|_| {
                s.spawn(|| -> anyhow::Result<()> {
                    let c = NodeClient::new(url);
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= txs.len() {
                            return Ok(());
                        }
                        c.submit(&txs[i], false)
                            .with_context(|| format!("submitting transaction {i}"))?;
                        progress.tick();
                    }
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| anyhow::anyhow!("a client thread panicked"))??;
        }
        Ok(())
    })?;
    let admitted = started.elapsed();
    while client.status()?.pending > 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let committed = started.elapsed();
    progress.tick();
    let not_committed = txs
        .iter()
        .filter(|t| {
            client
                .transaction(&t.id().to_hex())
                .map(|r| r.status != TxStatus::Committed)
                .unwrap_or(true)
        })
        .count();
    anyhow::ensure!(
        not_committed == 0,
        "{not_committed} of {} transactions were not committed",
        txs.len()
    );
    Ok(Throughput {
        transactions: txs.len(),
        admitted,
        committed,
    })
}

/// The whole end-to-end figure: start the node, prove `n` Access transactions, submit them
/// with [`CLIENTS`] clients, stop the node. `2 n + FIXED_STEPS` ticks.
pub fn run(n: usize, progress: &Progress) -> anyhow::Result<Throughput> {
    progress.phase(format!(
        "node: starting (depth-{NODE_DEPTH} keys, RocksDB, HTTP)"
    ));
    let mut node = BenchNode::start()?;
    progress.tick();
    progress.phase(format!("node: proving {n} Access transactions (not timed)"));
    let txs = node.accesses(n, progress)?;
    progress.phase(format!(
        "node: submitting {n} transactions, {CLIENTS} clients"
    ));
    let t = committed_throughput(node.url(), &txs, CLIENTS, progress)?;
    node.stop()?;
    Ok(t)
}
