//! A validator node: the ledger over RocksDB, its ordering engine (the single-validator
//! sequencer, or a consortium validator on Raft), the block loop, metrics, and the `--dev`
//! set-up (dev genesis and keys written to the data directory). Nothing here speaks HTTP:
//! the API and the peer listener are built on a node ([`crate::api::serve`]).

pub mod cluster;
mod metrics;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use consentry_circuits::groth;
use ed25519_dalek::SigningKey;

pub use metrics::Metrics;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use cluster::{Cluster, ClusterStatus, SubmitError, ValidatorStatus};

use crate::consensus::raft::{LedgerStateMachine, NodeId, Timing};
use crate::consensus::{Admission, Limits, Mempool, Rejections, Sequencer, SoloSequencer};
use crate::ledger::{
    self, keys, Genesis, IssuerEntry, Ledger, Rejection, Transaction, TxId, Verifiers,
    VerifyingKeyEntry,
};
use crate::params;
use crate::store::RocksStore;

/// The dev issuer's id.
pub const DEV_ISSUER_ID: u32 = 1;
/// The dev chain's revocation bound: a replaced registry root is accepted for five minutes
/// of block time, long enough for a client to sync and prove, short enough that a revoked
/// credential stops working within minutes however quiet the chain is.
pub const DEV_ROOT_WINDOW_SECS: u32 = 300;

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// How to start a node.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Data directory (RocksDB under `db/`, dev keys and genesis beside it).
    pub data: PathBuf,
    /// Parameter directory.
    pub params: PathBuf,
    /// Genesis file (JSON); required for a new chain unless `dev`.
    pub genesis: Option<PathBuf>,
    /// Validator key file; required unless `dev`.
    pub key: Option<PathBuf>,
    /// Create (first start) or reuse a development genesis and keys in `data`.
    pub dev: bool,
    /// Time between block seals.
    pub block_interval: Duration,
    /// What the mempool checks before admitting a transaction.
    pub admission: Admission,
    /// The `root_window_secs` of a dev genesis made on first start (ignored otherwise).
    pub dev_root_window_secs: u32,
    /// Set for a validator of a consortium (several validators ordering with Raft).
    pub cluster: Option<ClusterSettings>,
}

/// A consortium validator's place among the others.
#[derive(Clone, Debug)]
pub struct ClusterSettings {
    /// This validator's id: its 1-based position in the genesis `validators`.
    pub id: NodeId,
    /// Every validator's peer address (`host:port`), by id (this one's included).
    pub peers: BTreeMap<NodeId, String>,
    /// Raft timing and compaction.
    pub timing: Timing,
    /// The mempool's bounds.
    pub limits: Limits,
    /// Accept a genesis naming the INSECURE development verifying key (development
    /// clusters: `consentry cluster init --dev`).
    pub insecure_dev_params: bool,
}

/// How this node orders transactions.
pub enum Engine {
    /// It alone (its key is the whole quorum).
    Solo(Box<SoloSequencer<Arc<RocksStore>>>),
    /// With the other genesis validators, on Raft.
    Cluster(Arc<Cluster>),
}

/// Where a dev node wrote its keys.
#[derive(Clone, Debug)]
pub struct DevFiles {
    /// Validator key.
    pub validator_key: PathBuf,
    /// Issuer key (issuer id [`DEV_ISSUER_ID`]).
    pub issuer_key: PathBuf,
    /// Genesis (JSON).
    pub genesis: PathBuf,
    /// The development inspector's key (its secret comes from a public seed: INSECURE).
    pub inspector_key: PathBuf,
}

impl DevFiles {
    fn in_dir(data: &Path) -> DevFiles {
        DevFiles {
            validator_key: data.join("validator.key"),
            issuer_key: data.join("issuer.key"),
            genesis: data.join("genesis.json"),
            inspector_key: data.join("inspector.key"),
        }
    }
}

/// The development inspector as a genesis names it, with the escrow keys of `params_dir`
/// (made for it by `consentry setup --dev`), and its key file written to `key_file`; none
/// when the parameter directory holds no escrow keys (a chain without an inspector).
pub fn dev_inspector(
    params_dir: &Path,
    key_file: &Path,
) -> anyhow::Result<Option<ledger::InspectorEntry>> {
    let manifest = groth::Manifest::read(params_dir)?;
    if !manifest
        .entries
        .contains_key(&groth::Circuit::Escrow.vk_file_name(20))
    {
        tracing::warn!(
            params = %params_dir.display(),
            "no escrow keys: this chain has no inspector (consentry setup --dev makes them)"
        );
        return Ok(None);
    }
    let secret = consentry_circuits::escrow::InspectorSecret::dev();
    let (_, digest) = params::load_escrow_verifier(params_dir, 20).with_context(|| {
        format!(
            "{}: the development escrow keys (consentry setup --out {} --dev)",
            params_dir.display(),
            params_dir.display()
        )
    })?;
    if !key_file.exists() {
        keys::write_inspector(key_file, &secret)?;
    }
    Ok(Some(ledger::InspectorEntry {
        name: "Consentry Dev Data Protection Authority (INSECURE)".into(),
        escrow_key: secret.public().to_bytes(),
        signing_key: keys::inspector_signing_key(&secret)
            .verifying_key()
            .to_bytes(),
        verifying_keys: vec![VerifyingKeyEntry {
            depth: 20,
            digest: ledger::Hash32(digest),
        }],
    }))
}

/// A running node's state, shared by the HTTP handlers and the block loop.
pub struct Node {
    /// The ordering engine (and through it the mempool and the ledger).
    pub engine: Engine,
    /// Verifiers for `POST /v1/tokens/verify`.
    pub verifiers: Verifiers,
    /// Metrics.
    pub metrics: Metrics,
    /// This validator's public key.
    pub validator: [u8; 32],
    /// Parameter files and their SHA-256 (hex).
    pub params_digests: Vec<(String, String)>,
    /// Dev files, when started with `--dev`.
    pub dev: Option<DevFiles>,
    /// Woken when a single validator's mempool holds a full block ([`BLOCK_CUT_TXS`]): the
    /// block is sealed at once instead of at the next tick.
    block_full: tokio::sync::Notify,
}

/// A single validator cuts a block when this many transactions wait for one, or when the
/// block interval ends, whichever comes first (as Hyperledger Fabric's orderer cuts on
/// `BatchSize.MaxMessageCount` or `BatchTimeout`). Under load, blocks then follow each other
/// as fast as they can be sealed, and a burst is committed without waiting for ticks; a lone
/// transaction still waits at most one interval.
pub const BLOCK_CUT_TXS: usize = 256;

fn dev_genesis(
    data: &Path,
    params_dir: &Path,
    root_window_secs: u32,
) -> anyhow::Result<(Genesis, SigningKey, DevFiles)> {
    let files = DevFiles::in_dir(data);
    if files.genesis.exists() {
        let genesis: Genesis = serde_json::from_str(&std::fs::read_to_string(&files.genesis)?)
            .with_context(|| files.genesis.display().to_string())?;
        let key = keys::read_ed25519(&files.validator_key, "validator")?;
        return Ok((genesis, key, files));
    }
    let mut rng = rand::rngs::OsRng;
    let validator = SigningKey::generate(&mut rng);
    let issuer = SigningKey::generate(&mut rng);
    keys::write_ed25519(&files.validator_key, "validator", &validator)?;
    keys::write_ed25519(&files.issuer_key, "issuer", &issuer)?;
    let (_, digest) = params::load_verifier(params_dir, 20)?;
    let inspector = dev_inspector(params_dir, &files.inspector_key)?;
    let genesis = Genesis {
        chain_id: "consentry-dev".into(),
        validators: vec![validator.verifying_key().to_bytes()],
        quorum: 1,
        issuers: vec![IssuerEntry {
            issuer_id: DEV_ISSUER_ID,
            name: "Consentry Dev Accreditation (INSECURE)".into(),
            key: issuer.verifying_key().to_bytes(),
        }],
        verifying_keys: vec![VerifyingKeyEntry {
            depth: 20,
            digest: ledger::Hash32(digest),
        }],
        root_window_secs,
        registry_depth: 20,
        time_ms: now_ms(),
        inspector,
    };
    crate::files::write_atomic(&files.genesis, &serde_json::to_vec_pretty(&genesis)?, 0o644)?;
    Ok((genesis, validator, files))
}

/// What opening a data directory gives: the ledger, this validator's key, the verifying keys.
struct Opened {
    ledger: Ledger<Arc<RocksStore>>,
    store: Arc<RocksStore>,
    key: SigningKey,
    keys: ledger::LoadedKeys,
    dev: Option<DevFiles>,
}

fn open_ledger(cfg: &NodeConfig) -> anyhow::Result<Opened> {
    std::fs::create_dir_all(&cfg.data).with_context(|| cfg.data.display().to_string())?;
    let (genesis, key, dev) = if cfg.dev {
        let (g, k, files) = dev_genesis(&cfg.data, &cfg.params, cfg.dev_root_window_secs)?;
        (Some(g), k, Some(files))
    } else {
        let key_path = cfg
            .key
            .as_ref()
            .context("--key FILE (the validator key) is required without --dev")?;
        let key = keys::read_ed25519(key_path, "validator")?;
        let genesis = match &cfg.genesis {
            Some(p) => Some(
                serde_json::from_str::<Genesis>(&std::fs::read_to_string(p)?)
                    .with_context(|| p.display().to_string())?,
            ),
            None => None,
        };
        (genesis, key, None)
    };
    let refuse_dev_keys = |g: &Genesis| {
        let dev_ok = cfg.dev || cfg.cluster.as_ref().is_some_and(|c| c.insecure_dev_params);
        if !dev_ok && params::accepts_dev_keys(g) {
            anyhow::bail!(
                "the genesis accepts the INSECURE development verifying key, made from a \
                 public seed: anyone can forge tokens under it. Make keys with `consentry \
                 setup --random` and name their digest in the genesis, or run a development \
                 chain with --dev"
            );
        }
        Ok(())
    };
    if let Some(g) = &genesis {
        refuse_dev_keys(g)?;
    }
    let db = cfg.data.join("db");
    let store = Arc::new(RocksStore::open(&db).with_context(|| db.display().to_string())?);
    if ledger::read_height(&store)?.is_some() {
        refuse_dev_keys(&ledger::read_genesis(&store)?)?;
    }
    let (ledger, keys) = match ledger::read_height(&store)? {
        Some(_) => {
            let g = ledger::read_genesis(&store)?;
            let keys = params::load_genesis_keys(&cfg.params, &g)?;
            (Ledger::open(store.clone(), keys.clone())?, keys)
        }
        None => {
            let g = genesis.context("a new chain needs --genesis FILE (or --dev)")?;
            let keys = params::load_genesis_keys(&cfg.params, &g)?;
            (Ledger::create(store.clone(), g, keys.clone(), &key)?, keys)
        }
    };
    Ok(Opened {
        ledger,
        store,
        key,
        keys,
        dev,
    })
}

impl Node {
    /// Opens (or creates) the chain in `cfg.data` as a single validator (`cfg.cluster` must
    /// be unset; [`Node::start`] opens either kind).
    pub fn open(cfg: &NodeConfig) -> anyhow::Result<Node> {
        anyhow::ensure!(
            cfg.cluster.is_none(),
            "a cluster validator is started with Node::start"
        );
        let opened = open_ledger(cfg)?;
        let validator = opened.key.verifying_key().to_bytes();
        let engine = Engine::Solo(Box::new(SoloSequencer::new(
            opened.ledger,
            opened.key,
            cfg.admission,
        )));
        Self::assemble(cfg, engine, validator, opened.dev)
    }

    /// Opens (or creates) the chain in `cfg.data` and starts its engine: a single validator,
    /// or, with `cfg.cluster`, a consortium validator (its Raft engine is running on return).
    pub async fn start(cfg: &NodeConfig) -> anyhow::Result<Node> {
        let Some(settings) = &cfg.cluster else {
            return Self::open(cfg);
        };
        let opened = {
            let cfg = cfg.clone();
            tokio::task::spawn_blocking(move || open_ledger(&cfg)).await??
        };
        let validator = opened.key.verifying_key().to_bytes();
        let validators = opened.ledger.genesis().validators.clone();
        anyhow::ensure!(
            validators.get((settings.id as usize).wrapping_sub(1)) == Some(&validator),
            "validator {} of the genesis is not this key ({})",
            settings.id,
            hex::encode(validator)
        );
        let mut peers = BTreeMap::new();
        for (i, key) in validators.iter().enumerate() {
            let id = i as u64 + 1;
            let addr = settings
                .peers
                .get(&id)
                .with_context(|| format!("no peer address for validator {id}"))?;
            if id != settings.id {
                peers.insert(
                    id,
                    crate::peer::Peer {
                        key: *key,
                        addr: addr.clone(),
                    },
                );
            }
        }
        let rejections = Arc::new(Rejections::default());
        let ledger = Arc::new(std::sync::Mutex::new(opened.ledger));
        let pool = Arc::new(Mempool::new(
            ledger.clone(),
            rejections.clone(),
            cfg.admission,
            settings.limits,
        ));
        let sm = LedgerStateMachine::new(
            ledger,
            opened.store.clone(),
            opened.key.clone(),
            opened.keys,
            rejections,
        );
        let cluster = Cluster::start(
            settings.id,
            opened.key,
            opened.store,
            pool,
            sm,
            peers,
            settings.timing,
            crate::peer::Faults::from_env(),
        )
        .await?;
        Self::assemble(cfg, Engine::Cluster(cluster), validator, opened.dev)
    }

    fn assemble(
        cfg: &NodeConfig,
        engine: Engine,
        validator: [u8; 32],
        dev: Option<DevFiles>,
    ) -> anyhow::Result<Node> {
        let pool: &Mempool<Arc<RocksStore>> = match &engine {
            Engine::Solo(s) => s,
            Engine::Cluster(c) => &c.pool,
        };
        let verifiers = pool.verifiers().clone();
        let height = pool.with_ledger(|l| l.tip().height);
        let mut params_digests = Vec::new();
        for (name, digest) in groth::Manifest::read(&cfg.params)?.entries {
            params_digests.push((name, hex::encode(digest)));
        }
        let metrics = Metrics::default();
        metrics.block_height.set(height as i64);
        Ok(Node {
            validator,
            engine,
            verifiers,
            metrics,
            params_digests,
            dev,
            block_full: tokio::sync::Notify::new(),
        })
    }

    /// The mempool (the solo sequencer's, or this cluster validator's) and through it the
    /// ledger.
    pub fn pool(&self) -> &Mempool<Arc<RocksStore>> {
        match &self.engine {
            Engine::Solo(s) => s,
            Engine::Cluster(c) => &c.pool,
        }
    }

    /// The cluster validator, if this node is one.
    pub fn cluster(&self) -> Option<&Arc<Cluster>> {
        match &self.engine {
            Engine::Solo(_) => None,
            Engine::Cluster(c) => Some(c),
        }
    }

    /// Admits a transaction that came from network address `source` (counting rejections);
    /// a cluster validator that does not lead forwards it to the leader.
    pub async fn submit(
        self: &Arc<Self>,
        tx: Transaction,
        source: Option<std::net::IpAddr>,
    ) -> Result<TxId, SubmitError> {
        let started = Instant::now();
        let has_token = tx.body.claim().is_some();
        let out = match &self.engine {
            Engine::Solo(_) => {
                let node = self.clone();
                let admitted = tokio::task::spawn_blocking(move || {
                    node.pool().submit_from(tx, source, now_ms())
                })
                .await
                .map_err(|e| SubmitError::Unavailable(e.to_string()))?
                .map_err(SubmitError::Rejected);
                if admitted.is_ok() && self.pool().pending_len() >= BLOCK_CUT_TXS {
                    self.block_full.notify_one();
                }
                admitted
            }
            Engine::Cluster(c) => c.submit(tx, source).await,
        };
        if has_token {
            self.metrics
                .verify_seconds
                .observe(started.elapsed().as_secs_f64());
        }
        if let Err(SubmitError::Rejected(r)) = &out {
            self.metrics.rejected(r.code());
        }
        out
    }

    /// Seals the pending transactions into a block, if any (blocking; run off the executor).
    pub fn seal(&self) -> Result<Option<u64>, ledger::LedgerError> {
        let Engine::Solo(seq) = &self.engine else {
            // A cluster validator proposes from its own task (`Cluster::run_sealer`).
            return Ok(None);
        };
        let started = Instant::now();
        let Some(sealed) = seq.seal(now_ms())? else {
            return Ok(None);
        };
        for (id, reason) in &sealed.rejected {
            tracing::info!(tx = %id, reason = reason.code(), "rejected in block");
            self.metrics.rejected(reason.code());
        }
        let Some(block) = sealed.block else {
            return Ok(None);
        };
        self.metrics
            .commit_seconds
            .observe(started.elapsed().as_secs_f64());
        self.metrics.block_height.set(block.header.height as i64);
        self.metrics.tx_accepted.inc_by(block.tx_ids.len() as u64);
        tracing::info!(
            height = block.header.height,
            txs = block.tx_ids.len(),
            ms = started.elapsed().as_millis() as u64,
            "block committed"
        );
        Ok(Some(block.header.height))
    }

    /// A transaction rejected at block time, if remembered.
    pub fn rejection(&self, id: &TxId) -> Option<Rejection> {
        self.pool().rejection(id)
    }

    /// Whether a transaction is waiting for a block.
    pub fn is_pending(&self, id: &TxId) -> bool {
        match &self.engine {
            Engine::Solo(s) => s.is_pending(id),
            Engine::Cluster(c) => c.is_pending(id),
        }
    }
}

/// The node's background work (sealing blocks; for a cluster validator also the signature
/// exchange), running until [`EngineTasks::stop`].
pub struct EngineTasks {
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    node: Arc<Node>,
}

impl EngineTasks {
    /// Starts them: a block every `block_interval`, and for a single validator also as soon
    /// as [`BLOCK_CUT_TXS`] transactions wait.
    pub fn spawn(node: Arc<Node>, block_interval: Duration) -> EngineTasks {
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        match &node.engine {
            Engine::Solo(_) => {
                let node = node.clone();
                let mut stop_rx = stop_rx;
                tasks.push(tokio::spawn(async move {
                    let mut tick = tokio::time::interval(block_interval);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        tokio::select! {
                            _ = tick.tick() => {}
                            _ = node.block_full.notified() => {}
                            _ = stop_rx.changed() => break,
                        }
                        let n = node.clone();
                        match tokio::task::spawn_blocking(move || n.seal()).await {
                            Ok(Ok(_)) => {}
                            Ok(Err(e)) => tracing::error!(error = %e, "sealing failed"),
                            Err(e) => tracing::error!(error = %e, "sealing task failed"),
                        }
                    }
                }));
            }
            Engine::Cluster(c) => {
                tasks.push(tokio::spawn(
                    c.clone().run_sealer(block_interval, stop_rx.clone()),
                ));
                tasks.push(tokio::spawn(c.clone().run_resubmit(stop_rx.clone())));
                tasks.push(tokio::spawn(c.clone().run_signatures(stop_rx)));
            }
        }
        EngineTasks { stop, tasks, node }
    }

    /// Stops the tasks (a block being committed completes: each is one atomic batch), seals
    /// what a single validator admitted one last time, and shuts a cluster validator's Raft
    /// engine down.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        match &self.node.engine {
            Engine::Solo(_) => {
                let n = self.node.clone();
                tokio::task::spawn_blocking(move || n.seal()).await??;
            }
            Engine::Cluster(c) => {
                let _ = c.raft.shutdown().await;
            }
        }
        tracing::info!("node stopped");
        Ok(())
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
