//! A validator node: the ledger over RocksDB, the single-validator sequencer, the block loop,
//! metrics, and the `--dev` set-up (dev genesis and keys written to the data directory).

mod metrics;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use consentry_circuits::groth::{self, Verifier};
use ed25519_dalek::SigningKey;

pub use metrics::Metrics;

use crate::consensus::{Admission, Sequencer, SoloSequencer};
use crate::ledger::{
    self, keys, Genesis, IssuerEntry, Ledger, Rejection, Transaction, TxId, VerifyingKeyEntry,
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
}

impl DevFiles {
    fn in_dir(data: &Path) -> DevFiles {
        DevFiles {
            validator_key: data.join("validator.key"),
            issuer_key: data.join("issuer.key"),
            genesis: data.join("genesis.json"),
        }
    }
}

/// A running node's state, shared by the HTTP handlers and the block loop.
pub struct Node {
    /// The sequencer (and through it the ledger).
    pub seq: SoloSequencer<RocksStore>,
    /// Verifiers for `POST /v1/tokens/verify`.
    pub verifiers: HashMap<u8, Verifier>,
    /// Metrics.
    pub metrics: Metrics,
    /// This validator's public key.
    pub validator: [u8; 32],
    /// Parameter files and their SHA-256 (hex).
    pub params_digests: Vec<(String, String)>,
    /// Dev files, when started with `--dev`.
    pub dev: Option<DevFiles>,
}

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
    };
    crate::files::write_atomic(&files.genesis, &serde_json::to_vec_pretty(&genesis)?, 0o644)?;
    Ok((genesis, validator, files))
}

impl Node {
    /// Opens (or creates) the chain in `cfg.data`.
    pub fn open(cfg: &NodeConfig) -> anyhow::Result<Node> {
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
            if !cfg.dev && params::accepts_dev_keys(g) {
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
        let store = RocksStore::open(&db).with_context(|| db.display().to_string())?;
        if ledger::read_height(&store)?.is_some() {
            refuse_dev_keys(&ledger::read_genesis(&store)?)?;
        }
        let ledger = match ledger::read_height(&store)? {
            Some(_) => {
                let g = ledger::read_genesis(&store)?;
                let keys = params::load_genesis_keys(&cfg.params, &g)?;
                Ledger::open(store, keys)?
            }
            None => {
                let g = genesis.context("a new chain needs --genesis FILE (or --dev)")?;
                let keys = params::load_genesis_keys(&cfg.params, &g)?;
                Ledger::create(store, g, keys, &key)?
            }
        };
        let verifiers = ledger.verifiers().clone();
        let mut params_digests = Vec::new();
        for (name, digest) in groth::Manifest::read(&cfg.params)?.entries {
            params_digests.push((name, hex::encode(digest)));
        }
        let metrics = Metrics::default();
        metrics.block_height.set(ledger.tip().height as i64);
        Ok(Node {
            validator: key.verifying_key().to_bytes(),
            seq: SoloSequencer::new(ledger, key, cfg.admission),
            verifiers,
            metrics,
            params_digests,
            dev,
        })
    }

    /// Admits a transaction that came from network address `source` (counting rejections).
    pub fn submit(
        &self,
        tx: Transaction,
        source: Option<std::net::IpAddr>,
    ) -> Result<TxId, Rejection> {
        let started = Instant::now();
        let has_token = tx.body.claim().is_some();
        let out = self.seq.submit_from(tx, source, now_ms());
        if has_token {
            self.metrics
                .verify_seconds
                .observe(started.elapsed().as_secs_f64());
        }
        if let Err(r) = &out {
            self.metrics.rejected(r.code());
        }
        out
    }

    /// Seals the pending transactions into a block, if any (blocking; run off the executor).
    pub fn seal(&self) -> Result<Option<u64>, ledger::LedgerError> {
        let started = Instant::now();
        let Some(sealed) = self.seq.seal(now_ms())? else {
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
        self.seq.rejection(id)
    }

    /// Whether a transaction is waiting for a block.
    pub fn is_pending(&self, id: &TxId) -> bool {
        self.seq.is_pending(id)
    }
}

/// Serves the API on `listener` and seals a block every `block_interval` until `shutdown`
/// resolves. On shutdown the server stops accepting requests, in-flight requests finish, the
/// sealing task completes the block it is committing (each block is one atomic batch, so it
/// is committed or not at all), and the transactions admitted so far are sealed one last time.
pub async fn serve(
    node: std::sync::Arc<Node>,
    listener: tokio::net::TcpListener,
    block_interval: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let sealer = {
        let node = node.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(block_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop_rx.changed() => break,
                }
                let n = node.clone();
                match tokio::task::spawn_blocking(move || n.seal()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "sealing failed"),
                    Err(e) => tracing::error!(error = %e, "sealing task failed"),
                }
            }
        })
    };
    let app = crate::api::router(node.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    let _ = stop_tx.send(true);
    let _ = sealer.await;
    let n = node.clone();
    tokio::task::spawn_blocking(move || n.seal()).await??;
    tracing::info!("node stopped");
    Ok(())
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
