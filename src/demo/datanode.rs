//! A data node (`consentry datanode`'s service) on a background thread, for the demo, tests
//! and benches that want one beside their validators without a process.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;

use super::Background;
use crate::api::datanode::{serve_datanode, DataNode};
use crate::datanode::RecordStore;
use crate::ledger::Genesis;

/// A data node serving on 127.0.0.1, stopped (gracefully) on drop.
pub struct EmbeddedDataNode {
    /// Its base URL.
    pub url: String,
    server: Background,
}

impl EmbeddedDataNode {
    /// Opens (or creates) the record store in `dir` for the data node `name` and serves it
    /// on an ephemeral port, asking the validators `ledger` and checking finality against
    /// `genesis`.
    pub fn start(
        dir: &Path,
        name: &str,
        ledger: Vec<String>,
        genesis: Genesis,
    ) -> anyhow::Result<EmbeddedDataNode> {
        let store = RecordStore::open(dir, &genesis.chain_id, name)
            .with_context(|| dir.display().to_string())?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").context("bind 127.0.0.1")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let dn = Arc::new(DataNode {
            store,
            ledger,
            genesis,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || -> anyhow::Result<()> {
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)?;
                serve_datanode(dn, listener, async {
                    let _ = stopped.await;
                })
                .await
            })
        });
        Ok(EmbeddedDataNode {
            url,
            server: Background::new("data node", stop, thread),
        })
    }

    /// Stops the data node and waits for it (its store is closed when this returns).
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.server.shutdown()
    }
}
