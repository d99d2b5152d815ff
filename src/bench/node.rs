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

/// Started embedded validators (one, or a consortium on Raft) with an accredited hospital
/// allowed to read [`STREAM`].
pub struct BenchNode {
    nodes: Vec<EmbeddedNode>,
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
        Self::start_validators(1)
    }

    /// [`BenchNode::start`] with `validators` validators: one is the single-validator
    /// sequencer; more are a consortium on Raft, each validator with its own RocksDB, API and
    /// peer listener on 127.0.0.1, all in this process (so they share its cores, as three
    /// processes on one machine would).
    pub fn start_validators(validators: usize) -> anyhow::Result<BenchNode> {
        anyhow::ensure!(validators >= 1, "at least one validator");
        let tmp = tempfile::tempdir()?;
        let params = tmp.path().join("params");
        std::fs::create_dir_all(&params)?;
        let mut fx = Fixture::new(NODE_DEPTH, &params, 9);
        let day = (now_ms() / 86_400_000) as u32;
        let mut keys = vec![fx.validator.clone()];
        keys.extend((1..validators).map(|_| ed25519_dalek::SigningKey::generate(&mut OsRng)));
        let mut genesis = fx.genesis(64);
        genesis.time_ms = now_ms() - 1000;
        genesis.validators = keys.iter().map(|k| k.verifying_key().to_bytes()).collect();
        genesis.quorum = (validators / 2 + 1) as u32;
        let genesis_file = tmp.path().join("genesis.json");
        std::fs::write(&genesis_file, serde_json::to_vec(&genesis)?)?;
        let bind = || std::net::TcpListener::bind("127.0.0.1:0").context("bind 127.0.0.1");
        let api: Vec<_> = (0..validators).map(|_| bind()).collect::<Result<_, _>>()?;
        let peer: Vec<_> = (0..validators).map(|_| bind()).collect::<Result<_, _>>()?;
        let peers: std::collections::BTreeMap<u64, String> = peer
            .iter()
            .enumerate()
            .map(|(i, l)| Ok((i as u64 + 1, l.local_addr()?.to_string())))
            .collect::<anyhow::Result<_>>()?;
        let mut nodes = Vec::new();
        for (i, ((key, api), peer)) in keys.iter().zip(api).zip(peer).enumerate() {
            let key_file = tmp.path().join(format!("validator-{}.key", i + 1));
            crate::ledger::keys::write_ed25519(&key_file, "validator", key)?;
            let cfg = NodeConfig {
                data: tmp.path().join(format!("node-{}", i + 1)),
                params: params.clone(),
                genesis: Some(genesis_file.clone()),
                key: Some(key_file),
                dev: false,
                block_interval: BLOCK_INTERVAL,
                admission: Admission::DeferProofs,
                dev_root_window_secs: crate::node::DEV_ROOT_WINDOW_SECS,
                cluster: (validators > 1).then(|| crate::node::ClusterSettings {
                    id: i as u64 + 1,
                    peers: peers.clone(),
                    timing: Default::default(),
                    limits: Default::default(),
                    insecure_dev_params: false,
                }),
            };
            let peer = (validators > 1).then_some(peer);
            nodes.push(EmbeddedNode::start_on(cfg, api, peer)?);
        }
        let node = &nodes[0];
        if validators > 1 {
            // Writes need a leader: wait for the election.
            let started = Instant::now();
            while NodeClient::new(&node.url)
                .status()?
                .cluster
                .and_then(|c| c.leader)
                .is_none()
            {
                anyhow::ensure!(
                    started.elapsed() < Duration::from_secs(10),
                    "no leader elected"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
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
            nodes,
            fx,
            hospital,
            tree,
            day,
            _tmp: tmp,
        })
    }

    /// The first validator's base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.nodes[0].url
    }

    /// Every validator's base URL.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.url.clone()).collect()
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

    /// Stops the validators gracefully.
    pub fn stop(self) -> anyhow::Result<()> {
        for n in self.nodes {
            n.stop()?;
        }
        Ok(())
    }
}

/// Submits `txs` through `clients` concurrent HTTP clients (`POST /v1/transactions`, without
/// waiting), spread over the validators at `urls` (client `i` talks to `urls[i % len]`), and
/// times until no validator has a transaction pending (the leader has applied the last
/// block, after a quorum stored it); then checks every one is committed on every validator
/// (untimed). One tick per admitted transaction and one when all are committed.
pub fn committed_throughput(
    urls: &[String],
    txs: &[Transaction],
    clients: usize,
    progress: &Progress,
) -> anyhow::Result<Throughput> {
    anyhow::ensure!(!urls.is_empty(), "no validator to submit to");
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..clients.max(1))
            .map(|w| {
                let url = &urls[w % urls.len()];
                let next = &next;
                s.spawn(move || -> anyhow::Result<()> {
                    let c = NodeClient::new(url);
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        if i >= txs.len() {
                            return Ok(());
                        }
                        c.submit(&txs[i], false)
                            .with_context(|| format!("submitting transaction {i} to {url}"))?;
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
    let nodes: Vec<NodeClient> = urls.iter().map(|u| NodeClient::new(u)).collect();
    loop {
        let mut pending = 0;
        for n in &nodes {
            pending += n.status()?.pending;
        }
        if pending == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let committed = started.elapsed();
    progress.tick();
    let last = txs.last().map(|t| t.id().to_hex());
    for n in &nodes {
        // Followers apply the last block a moment after the leader.
        let waiting = Instant::now();
        while let Some(id) = &last {
            let done = n
                .transaction(id)
                .map(|r| r.status == TxStatus::Committed)
                .unwrap_or(false);
            if done || waiting.elapsed() > Duration::from_secs(10) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let not_committed = txs
            .iter()
            .filter(|t| {
                n.transaction(&t.id().to_hex())
                    .map(|r| r.status != TxStatus::Committed)
                    .unwrap_or(true)
            })
            .count();
        anyhow::ensure!(
            not_committed == 0,
            "{not_committed} of {} transactions were not committed",
            txs.len()
        );
    }
    Ok(Throughput {
        transactions: txs.len(),
        admitted,
        committed,
    })
}

/// The whole end-to-end figure: start the node, prove `n` Access transactions, submit them
/// with [`CLIENTS`] clients, stop the node. `2 n + FIXED_STEPS` ticks.
pub fn run(n: usize, validators: usize, progress: &Progress) -> anyhow::Result<Throughput> {
    progress.phase(format!(
        "node: starting {validators} validator(s) (depth-{NODE_DEPTH} keys, RocksDB, HTTP)"
    ));
    let mut node = BenchNode::start_validators(validators)?;
    progress.tick();
    progress.phase(format!("node: proving {n} Access transactions (not timed)"));
    let txs = node.accesses(n, progress)?;
    progress.phase(format!(
        "node: submitting {n} transactions, {CLIENTS} clients"
    ));
    let t = committed_throughput(&node.urls(), &txs, CLIENTS, progress)?;
    node.stop()?;
    Ok(t)
}
