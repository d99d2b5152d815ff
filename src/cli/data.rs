//! The data path's client commands: `patient put` (sign and send records to a data node) and
//! `institution fetch` (receive an access's records, sealed to this identity, and check them).

use std::path::Path;

use anyhow::bail;

use super::args::NodeArg;
use crate::client::data::DataNodeClient;
use crate::client::{self, NodeClient};
use crate::ledger::{keys, TxId};

/// `consentry patient put`: the records of `file` (a JSON array of objects with `time_ms`)
/// into the stream `name` of the key `key`, signed for the data node `datanode_name`.
pub fn put(
    key: &Path,
    name: &str,
    file: &Path,
    datanode: &str,
    datanode_name: &str,
    node: &NodeArg,
) -> anyhow::Result<()> {
    let patient = keys::read_patient(key)?;
    let records: Vec<serde_json::Value> = crate::files::read_json(file)?;
    let chain = NodeClient::new(&node.node).status()?.chain_id;
    let done = DataNodeClient::new(datanode)
        .put(&patient, &chain, datanode_name, name, records)
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    outln!(
        "stream {}: {} records held, next sequence {}",
        done.stream_id,
        done.records,
        done.next_sequence
    )?;
    Ok(())
}

/// `consentry institution fetch`: the records of the access `tx`, from `datanode`, decrypted
/// with the key re-derived from `identity`, checked, written to `out` (mode 0600). Every
/// check that fails says which in one line, and nothing is written.
pub fn fetch(
    identity: &Path,
    tx: &str,
    datanode: &str,
    out: &Path,
    node: &NodeArg,
) -> anyhow::Result<()> {
    if out.exists() {
        bail!("{}: exists; nothing was fetched", out.display());
    }
    let sk = crate::files::read_identity(identity)?;
    let id = TxId::from_hex(tx).map_err(|e| anyhow::anyhow!("--tx: {e}"))?;
    let got = client::data::fetch(
        &NodeClient::new(&node.node),
        &DataNodeClient::new(datanode),
        &sk,
        id,
    )?;
    crate::files::write_atomic(out, &got.plaintext, 0o600)?;
    outln!(
        "{} records of stream {} written to {} (digest {}{})",
        got.count,
        got.stream_id,
        out.display(),
        hex::encode(got.digest),
        if got.snapshot_checked {
            ", the snapshot the share names"
        } else {
            ""
        }
    )?;
    Ok(())
}
