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
    /// A validator config file (`consentry cluster init` writes them): a consortium
    /// validator with its data directory, key, genesis, addresses and peers. The flags
    /// below are for a single validator.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["data", "genesis", "key", "dev", "listen"])]
    pub config: Option<PathBuf>,
    /// Data directory (RocksDB under db/).
    #[arg(long, value_name = "DIR", required_unless_present = "config")]
    pub data: Option<PathBuf>,
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

/// Logs to stderr, in colour only when it is a terminal; `RUST_LOG` sets the filter (default
/// `info`).
pub fn init_tracing() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    use std::io::IsTerminal;
    // Colour codes only for a terminal: a log file or a pipe gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Runs `consentry node` until SIGINT or SIGTERM.
pub fn run(a: NodeArgs) -> anyhow::Result<()> {
    init_tracing();
    let admission = if a.verify_on_admission {
        Admission::VerifyProofs
    } else {
        Admission::DeferProofs
    };
    let (cfg, listen, peer_listen) = match &a.config {
        Some(path) => {
            let file = super::cluster::ValidatorFile::read(path)?;
            let listen: SocketAddr = file
                .listen
                .parse()
                .with_context(|| format!("{}: listen {:?}", path.display(), file.listen))?;
            let peer: SocketAddr = file.peer_listen.parse().with_context(|| {
                format!("{}: peer_listen {:?}", path.display(), file.peer_listen)
            })?;
            (file.node_config(admission), listen, Some(peer))
        }
        None => (
            NodeConfig {
                data: a.data.clone().context("--data DIR is required")?,
                params: params::resolve_dir(a.params.params.as_deref()),
                genesis: a.genesis,
                key: a.key,
                dev: a.dev,
                block_interval: Duration::from_millis(a.block_ms.max(10)),
                admission,
                dev_root_window_secs: node::DEV_ROOT_WINDOW_SECS,
                cluster: None,
            },
            a.listen,
            None,
        ),
    };
    let rt = tokio::runtime::Runtime::new().context("tokio runtime")?;
    rt.block_on(async {
        // Bind first: a port in use is reported before anything is opened.
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listen on {listen}"))?;
        let peer_listener = match peer_listen {
            Some(p) => Some(
                tokio::net::TcpListener::bind(p)
                    .await
                    .with_context(|| format!("peer listen on {p}"))?,
            ),
            None => None,
        };
        let node = Arc::new(Node::start(&cfg).await?);
        if let Some(dev) = &node.dev {
            errln!(
                "dev chain (INSECURE keys): genesis {}, validator key {}, issuer key {} (issuer id {})",
                dev.genesis.display(),
                dev.validator_key.display(),
                dev.issuer_key.display(),
                node::DEV_ISSUER_ID
            );
        }
        let addr = listener.local_addr()?;
        tracing::info!(%addr, data = %cfg.data.display(), "node listening");
        // A plain line for scripts and tests (`--listen 127.0.0.1:0` picks a free port).
        errln!("listening on http://{addr}");
        crate::api::serve(
            node,
            listener,
            peer_listener,
            cfg.block_interval,
            node::shutdown_signal(),
        )
        .await
    })
}
