//! `consentry datanode`: the data platform's service (records, ingest, deliveries).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::api::datanode::{serve_datanode, DataNode};
use crate::datanode::RecordStore;
use crate::ledger::Genesis;

/// Arguments of `consentry datanode`.
#[derive(clap::Args, Debug)]
pub struct DataNodeArgs {
    /// Data directory (its RocksDB and `records.key`, created on first use).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:7900")]
    pub listen: SocketAddr,
    /// Validators to ask, comma-separated base URLs; finality is checked on their answers
    /// against the genesis, and a withdrawal any of them proves final stops deliveries.
    #[arg(
        long,
        value_name = "URL[,URL…]",
        value_delimiter = ',',
        required = true
    )]
    pub ledger: Vec<String>,
    /// The chain's genesis file (`genesis.json`).
    #[arg(long, value_name = "FILE")]
    pub genesis: PathBuf,
    /// This data node's name: patients sign their ingests for it.
    #[arg(long, default_value = "datanode")]
    pub name: String,
}

/// Runs the data node until SIGINT or SIGTERM.
pub fn run(a: DataNodeArgs) -> anyhow::Result<()> {
    let genesis: Genesis = crate::files::read_json(&a.genesis)?;
    for url in &a.ledger {
        anyhow::ensure!(
            url.starts_with("http://") || url.starts_with("https://"),
            "--ledger {url:?}: not an http(s) URL"
        );
    }
    let store = RecordStore::open(&a.data, &genesis.chain_id, &a.name)
        .with_context(|| a.data.display().to_string())?;
    let dn = Arc::new(DataNode {
        store,
        ledger: a.ledger,
        genesis,
    });
    let rt = tokio::runtime::Runtime::new().context("tokio runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .with_context(|| format!("listen on {}", a.listen))?;
        errln!(
            "data node {:?} listening on http://{}",
            a.name,
            listener.local_addr()?
        );
        serve_datanode(dn, listener, crate::node::shutdown_signal()).await
    })
}
