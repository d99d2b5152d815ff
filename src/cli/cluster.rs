//! `consentry cluster init`: a consortium of validators on this machine (keys, genesis, one
//! config file per validator), and the config file `consentry node --config` reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use super::ParamsArg;
use crate::consensus::raft::Timing;
use crate::consensus::{Admission, Limits};
use crate::ledger::{keys, Genesis, InspectorEntry, IssuerEntry, VerifyingKeyEntry};
use crate::node::{self, ClusterSettings, NodeConfig};
use crate::params;

/// `consentry cluster …`.
#[derive(clap::Subcommand, Debug)]
pub enum ClusterCommand {
    /// Write a genesis naming N validator keys, each validator's key and config file
    /// (addresses on 127.0.0.1), and an issuer key (issuer id 1).
    Init(InitArgs),
}

/// Arguments of `consentry cluster init`.
#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// Number of validators (a quorum is a majority of them).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=15))]
    pub validators: u64,
    /// Output directory (must not hold a cluster already).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Validator i listens on BASE+i (API) and BASE+100+i (peers).
    #[arg(long, default_value_t = 7710, value_parser = clap::value_parser!(u16).range(1..=65000))]
    pub base_port: u16,
    /// Chain id.
    #[arg(long, default_value = "consentry-consortium")]
    pub chain_id: String,
    /// Accept the INSECURE development verifying key (made from a public seed) when the
    /// parameter directory holds it; without it, keys from `consentry setup --random` are
    /// required.
    #[arg(long)]
    pub dev: bool,
    /// Milliseconds between block proposals.
    #[arg(long, default_value_t = 100)]
    pub block_ms: u64,
    /// The chain's inspector: a JSON file `{"name": ..., "escrow_key": ..., "signing_key":
    /// ...}` (the keys as `consentry inspector keygen` prints them); the parameter directory
    /// must hold the escrow keys made for it (`consentry setup --inspector`). With --dev and
    /// without this, the INSECURE development inspector (its key written to `inspector.key`).
    #[arg(long, value_name = "FILE")]
    pub inspector: Option<PathBuf>,
    /// Parameter directory.
    #[command(flatten)]
    pub params: ParamsArg,
}

/// An inspector as `cluster init --inspector FILE` reads it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InspectorFile {
    name: String,
    #[serde(with = "crate::ledger::types::hex_bytes")]
    escrow_key: [u8; 32],
    #[serde(with = "crate::ledger::types::hex_bytes")]
    signing_key: [u8; 32],
}

/// The genesis entry of the inspector described by `file`, with the escrow verifying key of
/// `params_dir` (which must have been made for its escrow key).
fn inspector_entry(file: &Path, params_dir: &Path) -> anyhow::Result<InspectorEntry> {
    let f: InspectorFile = crate::files::read_json(file)?;
    let (_, digest) = params::load_escrow_verifier(params_dir, 20)?;
    Ok(InspectorEntry {
        name: f.name,
        escrow_key: f.escrow_key,
        signing_key: f.signing_key,
        verifying_keys: vec![VerifyingKeyEntry {
            depth: 20,
            digest: crate::ledger::Hash32(digest),
        }],
    })
}

/// A validator's config file (TOML). Relative paths are relative to the file's directory.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorFile {
    /// This validator's id (1-based position in the genesis `validators`).
    pub id: u64,
    /// Data directory.
    pub data: PathBuf,
    /// Validator key file.
    pub key: PathBuf,
    /// Genesis file.
    pub genesis: PathBuf,
    /// Parameter directory (default: the usual search).
    #[serde(default)]
    pub params: Option<PathBuf>,
    /// Public API address.
    pub listen: String,
    /// Peer listener address.
    pub peer_listen: String,
    /// Milliseconds between block proposals while leading.
    #[serde(default = "default_block_ms")]
    pub block_ms: u64,
    /// Accept the INSECURE development verifying key.
    #[serde(default)]
    pub insecure_dev_params: bool,
    /// A snapshot every this many log entries.
    #[serde(default = "default_snapshot_every")]
    pub snapshot_every: u64,
    /// Log entries kept behind a snapshot.
    #[serde(default = "default_snapshot_keep")]
    pub snapshot_keep: u64,
    /// Most transactions in one block.
    #[serde(default = "default_max_block_txs")]
    pub max_block_txs: usize,
    /// Every validator of the genesis, in order.
    pub validators: Vec<ValidatorAddr>,
}

/// Where one validator is reached.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidatorAddr {
    /// Its id.
    pub id: u64,
    /// Public API address.
    pub api: String,
    /// Peer listener address.
    pub peer: String,
}

fn default_block_ms() -> u64 {
    100
}
fn default_snapshot_every() -> u64 {
    Timing::default().snapshot_every
}
fn default_snapshot_keep() -> u64 {
    Timing::default().snapshot_keep
}
fn default_max_block_txs() -> usize {
    Limits::default().max_block_txs
}

impl ValidatorFile {
    /// Reads and checks a config file.
    pub fn read(path: &Path) -> anyhow::Result<ValidatorFile> {
        let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
        let mut f: ValidatorFile = toml::from_str(&text)
            .with_context(|| format!("{}: not a validator config", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut f.data, &mut f.key, &mut f.genesis] {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        if let Some(p) = &mut f.params {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        anyhow::ensure!(
            f.validators.iter().any(|v| v.id == f.id),
            "{}: validator {} is not in its own validators list",
            path.display(),
            f.id
        );
        anyhow::ensure!(f.max_block_txs >= 1, "max_block_txs must be at least 1");
        anyhow::ensure!(f.snapshot_every >= 1, "snapshot_every must be at least 1");
        Ok(f)
    }

    /// The node configuration it describes.
    pub fn node_config(&self, admission: Admission) -> NodeConfig {
        NodeConfig {
            data: self.data.clone(),
            params: params::resolve_dir(self.params.as_deref()),
            genesis: Some(self.genesis.clone()),
            key: Some(self.key.clone()),
            dev: false,
            block_interval: Duration::from_millis(self.block_ms.max(10)),
            admission,
            dev_root_window_secs: node::DEV_ROOT_WINDOW_SECS,
            cluster: Some(ClusterSettings {
                id: self.id,
                peers: self
                    .validators
                    .iter()
                    .map(|v| (v.id, v.peer.clone()))
                    .collect::<BTreeMap<_, _>>(),
                timing: Timing {
                    snapshot_every: self.snapshot_every,
                    snapshot_keep: self.snapshot_keep,
                    ..Timing::default()
                },
                limits: Limits {
                    max_block_txs: self.max_block_txs,
                    ..Limits::default()
                },
                insecure_dev_params: self.insecure_dev_params,
            }),
        }
    }
}

/// Runs `consentry cluster …`.
pub fn run(c: ClusterCommand) -> anyhow::Result<()> {
    match c {
        ClusterCommand::Init(a) => init(a),
    }
}

/// What a consortium's files are made of ([`write_cluster`]).
pub struct ClusterPlan<'a> {
    /// Output directory.
    pub out: &'a Path,
    /// Every validator's addresses, in genesis order.
    pub addrs: Vec<ValidatorAddr>,
    /// Chain id.
    pub chain_id: String,
    /// Accept the INSECURE development verifying key.
    pub dev: bool,
    /// Milliseconds between block proposals.
    pub block_ms: u64,
    /// The genesis `root_window_secs`.
    pub root_window_secs: u32,
    /// Parameter directory (its depth-20 verifying key is named in the genesis).
    pub params_dir: PathBuf,
    /// The inspector's public description (`--inspector`), if any.
    pub inspector: Option<PathBuf>,
}

/// Writes a consortium: `genesis.json` (the validators' keys, quorum a majority, issuer 1),
/// `validator-N.key` and `validator-N.toml` for each, and `issuer.key`. Refuses a directory
/// that holds a cluster, and the development verifying key unless `dev`.
pub fn write_cluster(plan: &ClusterPlan) -> anyhow::Result<Genesis> {
    let out = plan.out;
    let genesis_path = out.join("genesis.json");
    anyhow::ensure!(
        !genesis_path.exists(),
        "{} exists: {} holds a cluster already",
        genesis_path.display(),
        out.display()
    );
    std::fs::create_dir_all(out).with_context(|| out.display().to_string())?;
    let (_, digest) = params::load_verifier(&plan.params_dir, 20)?;
    let mut rng = rand::rngs::OsRng;
    let keys: Vec<SigningKey> = plan
        .addrs
        .iter()
        .map(|_| SigningKey::generate(&mut rng))
        .collect();
    let issuer = SigningKey::generate(&mut rng);
    let inspector = match (&plan.inspector, plan.dev) {
        (Some(file), _) => Some(inspector_entry(file, &plan.params_dir)?),
        (None, true) => node::dev_inspector(&plan.params_dir, &out.join("inspector.key"))?,
        (None, false) => None,
    };
    let genesis = Genesis {
        chain_id: plan.chain_id.clone(),
        validators: keys.iter().map(|k| k.verifying_key().to_bytes()).collect(),
        quorum: (keys.len() / 2 + 1) as u32,
        issuers: vec![IssuerEntry {
            issuer_id: 1,
            name: "Consortium Accreditation".into(),
            key: issuer.verifying_key().to_bytes(),
        }],
        verifying_keys: vec![VerifyingKeyEntry {
            depth: 20,
            digest: crate::ledger::Hash32(digest),
        }],
        root_window_secs: plan.root_window_secs,
        registry_depth: 20,
        time_ms: node::now_ms(),
        inspector,
    };
    if params::accepts_dev_keys(&genesis) && !plan.dev {
        anyhow::bail!(
            "{} holds the INSECURE development verifying key: make keys with `consentry setup \
             --random`, or pass --dev for a development cluster",
            plan.params_dir.display()
        );
    }
    keys::write_ed25519(&out.join("issuer.key"), "issuer", &issuer)?;
    for (i, key) in keys.iter().enumerate() {
        let id = i as u64 + 1;
        keys::write_ed25519(&out.join(format!("validator-{id}.key")), "validator", key)?;
        let file = ValidatorFile {
            id,
            data: PathBuf::from(format!("validator-{id}")),
            key: PathBuf::from(format!("validator-{id}.key")),
            genesis: PathBuf::from("genesis.json"),
            params: Some(std::path::absolute(&plan.params_dir)?),
            listen: plan.addrs[i].api.clone(),
            peer_listen: plan.addrs[i].peer.clone(),
            block_ms: plan.block_ms,
            insecure_dev_params: plan.dev,
            snapshot_every: default_snapshot_every(),
            snapshot_keep: default_snapshot_keep(),
            max_block_txs: default_max_block_txs(),
            validators: plan.addrs.clone(),
        };
        crate::files::write_atomic(
            &out.join(format!("validator-{id}.toml")),
            toml::to_string_pretty(&file)?.as_bytes(),
            0o644,
        )?;
    }
    crate::files::write_atomic(&genesis_path, &serde_json::to_vec_pretty(&genesis)?, 0o644)?;
    Ok(genesis)
}

fn init(a: InitArgs) -> anyhow::Result<()> {
    let addrs: Vec<ValidatorAddr> = (1..=a.validators)
        .map(|i| ValidatorAddr {
            id: i,
            api: format!("127.0.0.1:{}", a.base_port as u64 + i),
            peer: format!("127.0.0.1:{}", a.base_port as u64 + 100 + i),
        })
        .collect();
    let genesis = write_cluster(&ClusterPlan {
        out: &a.out,
        addrs: addrs.clone(),
        chain_id: a.chain_id.clone(),
        dev: a.dev,
        block_ms: a.block_ms,
        root_window_secs: node::DEV_ROOT_WINDOW_SECS,
        params_dir: params::resolve_dir(a.params.params.as_deref()),
        inspector: a.inspector.clone(),
    })?;
    outln!(
        "cluster of {} validators (quorum {}) in {}",
        a.validators,
        genesis.quorum,
        a.out.display()
    )?;
    for v in &addrs {
        outln!(
            "  consentry node --config {}   # API http://{}, peers {}",
            a.out.join(format!("validator-{}.toml", v.id)).display(),
            v.api,
            v.peer
        )?;
    }
    outln!(
        "issuer key (issuer id 1): {}",
        a.out.join("issuer.key").display()
    )?;
    Ok(())
}
