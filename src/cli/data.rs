//! The data path's client commands: `patient put` (sign and send records to a data node) and
//! `institution fetch` (receive an access's records, sealed to this identity, and check them).

use std::path::Path;

use anyhow::{bail, Context};

use super::clients::NodeArg;
use crate::api::datanode::{DeliveryRequest, StreamRecords};
use crate::client::NodeClient;
use crate::datanode::Ingest;
use crate::delivery::{open, SealedRecords};
use crate::ledger::{keys, stream_id_for, Body, Transaction, TxId};

fn post<T: serde::Serialize, R: serde::de::DeserializeOwned>(
    url: &str,
    body: &T,
) -> anyhow::Result<R> {
    let r = reqwest::blocking::Client::new()
        .post(url)
        .json(body)
        .send()
        .with_context(|| format!("the data node at {url} cannot be reached"))?;
    let status = r.status();
    let text = r.text().unwrap_or_default();
    if !status.is_success() {
        let detail = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                Some(format!(
                    "{} ({})",
                    v["detail"].as_str()?,
                    v["code"].as_str()?
                ))
            })
            .unwrap_or(text);
        bail!("the data node refused: {detail}");
    }
    serde_json::from_str(&text).context("unexpected answer from the data node")
}

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
    let stream = stream_id_for(&patient.public.to_bytes(), name);
    let chain = NodeClient::new(&node.node).status()?.chain_id;
    let base = datanode.trim_end_matches('/');
    let next: StreamRecords = reqwest::blocking::get(format!("{base}/v1/streams/{stream}/next"))
        .with_context(|| format!("the data node at {base} cannot be reached"))?
        .json()
        .context("unexpected answer from the data node")?;
    let ingest = Ingest::sign(
        &patient,
        &chain,
        datanode_name,
        name,
        next.next_sequence,
        records,
    );
    ingest
        .verify(&chain, datanode_name)
        .map_err(|e| anyhow::anyhow!("{}: {e}; nothing was sent", file.display()))?;
    let done: StreamRecords = post(&format!("{base}/v1/ingest"), &ingest)?;
    outln!(
        "stream {stream}: {} records held, next sequence {}",
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
    let client = NodeClient::new(&node.node);
    let chain = client.status()?.chain_id;
    let r = client.transaction(&id.to_hex())?;
    let access: Transaction = match (r.height, r.transaction) {
        (Some(_), Some(t)) => serde_json::from_value(t).context("the node's transaction")?,
        _ => bail!("check failed: transaction {id} is not committed"),
    };
    if access.id() != id {
        bail!("check failed: the node answered another transaction than {id}");
    }
    let Body::Access(a) = &access.body else {
        bail!("check failed: transaction {id} is not an access");
    };
    let (secret, public) = crate::delivery::derive(&sk, &a.stream_id, a.nonce);
    if public != a.delivery_key {
        bail!("check failed: the access's delivery key is not this identity's (another institution's access?)");
    }
    let sealed: SealedRecords = post(
        &format!("{}/v1/deliveries", datanode.trim_end_matches('/')),
        &DeliveryRequest {
            access_tx: id.to_hex(),
        },
    )?;
    let plain =
        open(&secret, &chain, id, &sealed).map_err(|e| anyhow::anyhow!("check failed: {e}"))?;
    let records: Vec<serde_json::Value> = serde_json::from_slice(&plain)
        .map_err(|_| anyhow::anyhow!("check failed: the records are not a JSON array"))?;
    crate::files::write_atomic(out, &plain, 0o600)?;
    outln!(
        "{} records of stream {} written to {} (digest {})",
        records.len(),
        a.stream_id,
        out.display(),
        hex::encode(sealed.digest)
    )?;
    Ok(())
}
