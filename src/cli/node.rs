//! `consentry node`: run a validator node.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::ParamsArg;
use crate::consensus::Admission;
use crate::node::{self, Node, NodeConfig};
use crate::params;

/// Arguments of `consentry node`.
#[derive(clap::Args, Debug)]
pub struct NodeArgs {
    /// Data directory (RocksDB under db/).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7700")]
    pub listen: SocketAddr,
    /// Genesis file (JSON) for a new chain.
    #[arg(long, value_name = "FILE")]
    pub genesis: Option<PathBuf>,
    /// Validator key file.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Development chain: create a dev genesis, validator and issuer key in DIR on first
    /// start (INSECURE dev parameters), reuse them afterwards.
    #[arg(long)]
    pub dev: bool,
    /// Milliseconds between blocks.
    #[arg(long, default_value_t = 200)]
    pub block_ms: u64,
    /// Verify Groth16 proofs at mempool admission too (refuses bad proofs at once, at about
    /// 1.2 ms of CPU per token); by default proofs are verified once, in the block's batch.
    #[arg(long)]
    pub verify_on_admission: bool,
    /// Parameter directory.
    #[command(flatten)]
    pub params: ParamsArg,
}

/// Logs to stderr; `RUST_LOG` sets the filter (default `info`).
pub fn init_tracing() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs `consentry node` until SIGINT or SIGTERM.
pub fn run(a: NodeArgs) -> anyhow::Result<()> {
    init_tracing();
    let cfg = NodeConfig {
        data: a.data.clone(),
        params: params::resolve_dir(a.params.params.as_deref()),
        genesis: a.genesis,
        key: a.key,
        dev: a.dev,
        block_interval: Duration::from_millis(a.block_ms.max(10)),
        admission: if a.verify_on_admission {
            Admission::VerifyProofs
        } else {
            Admission::DeferProofs
        },
        dev_root_window_secs: node::DEV_ROOT_WINDOW_SECS,
    };
    let node = Arc::new(Node::open(&cfg)?);
    if let Some(dev) = &node.dev {
        eprintln!(
            "dev chain (INSECURE keys): genesis {}, validator key {}, issuer key {} (issuer id {})",
            dev.genesis.display(),
            dev.validator_key.display(),
            dev.issuer_key.display(),
            node::DEV_ISSUER_ID
        );
    }
    let rt = tokio::runtime::Runtime::new().context("tokio runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("listen on {}", a.listen))?;
        let addr = listener.local_addr()?;
        tracing::info!(%addr, data = %a.data.display(), "node listening");
        // A plain line for scripts and tests (`--listen 127.0.0.1:0` picks a free port).
        eprintln!("listening on http://{addr}");
        node::serve(node, listener, cfg.block_interval, node::shutdown_signal()).await
    })
}
