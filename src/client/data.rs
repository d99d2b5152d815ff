//! The data path's client side: a patient puts signed records into a data node
//! ([`DataNodeClient::put`]); a reader fetches an access's records and checks every step
//! ([`fetch`]). The CLI (`patient put`, `institution fetch`) and the demo share this code.

use zeroize::Zeroizing;

use super::{ClientError, NodeClient};
use crate::api::datanode::{DeliveryRequest, StreamRecords};
use crate::datanode::Ingest;
use crate::delivery::{derive, open, DeliveryError, SealedRecords};
use crate::ledger::{stream_id_for, Body, Hash32, Transaction, TxId};
use consentry_circuits::credential::SecretKey;

/// A blocking HTTP client of one data node.
pub struct DataNodeClient {
    http: NodeClient,
}

impl DataNodeClient {
    /// A client of the data node at `base` (e.g. `http://127.0.0.1:7900`).
    pub fn new(base: &str) -> DataNodeClient {
        DataNodeClient {
            http: NodeClient::new(base),
        }
    }

    /// `GET /v1/streams/{id}/next`.
    pub fn stream(&self, stream_id: &str) -> Result<StreamRecords, ClientError> {
        self.http.get(&format!("/v1/streams/{stream_id}/next"))
    }

    /// `POST /v1/ingest`.
    pub fn ingest(&self, ingest: &Ingest) -> Result<StreamRecords, ClientError> {
        self.http.post("/v1/ingest", ingest)
    }

    /// `POST /v1/deliveries`.
    pub fn delivery(&self, access_tx: TxId) -> Result<SealedRecords, ClientError> {
        self.http.post(
            "/v1/deliveries",
            &DeliveryRequest {
                access_tx: access_tx.to_hex(),
            },
        )
    }

    /// Signs `records` with the stream key `patient` for the stream `name` held by the data
    /// node `datanode_name` on `chain`, at the stream's next sequence, and sends them. The
    /// ingest is checked locally first, so a malformed record is refused before anything is
    /// sent.
    pub fn put(
        &self,
        patient: &schnorrkel::Keypair,
        chain: &str,
        datanode_name: &str,
        name: &str,
        records: Vec<serde_json::Value>,
    ) -> Result<StreamRecords, PutError> {
        let stream = stream_id_for(&patient.public.to_bytes(), name);
        let next = self.stream(&stream)?.next_sequence;
        let ingest = Ingest::sign(patient, chain, datanode_name, name, next, records);
        ingest.verify(chain, datanode_name)?;
        Ok(self.ingest(&ingest)?)
    }
}

/// Why a put failed.
#[derive(Debug, thiserror::Error)]
pub enum PutError {
    /// The records are not acceptable (checked before sending; nothing was sent).
    #[error("{0}; nothing was sent")]
    Invalid(#[from] crate::datanode::IngestError),
    /// The data node is unreachable or refused.
    #[error("the data node: {0}")]
    DataNode(#[from] ClientError),
}

/// Records a reader received and checked.
pub struct Fetched {
    /// The stream they belong to.
    pub stream_id: String,
    /// The records, a JSON array exactly as sealed.
    pub plaintext: Zeroizing<Vec<u8>>,
    /// Their number.
    pub count: usize,
    /// Their records digest (checked).
    pub digest: [u8; 32],
    /// Whether the share named this digest (`data_digest`) and it matched.
    pub snapshot_checked: bool,
}

/// Which check of a fetch failed. Each says what, never a secret or a record.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The validator is unreachable or refused.
    #[error("the validator: {0}")]
    Node(ClientError),
    /// The data node is unreachable or refused (its problem code is in the message, e.g.
    /// `ConsentRevoked`).
    #[error("the data node refused: {0}")]
    DataNode(ClientError),
    /// The validator does not show the transaction in a block.
    #[error("check failed: transaction {0} is not committed")]
    NotCommitted(TxId),
    /// The validator answered another transaction than the one asked for.
    #[error("check failed: the validator answered another transaction than {0}")]
    OtherTransaction(TxId),
    /// The transaction is not an access.
    #[error("check failed: transaction {0} is not an access")]
    NotAnAccess(TxId),
    /// The access's delivery key is not the one this identity derives for it.
    #[error(
        "check failed: the access's delivery key is not this identity's (another institution's access?)"
    )]
    NotThisIdentity,
    /// The sealed records do not open for this access, or do not match their digest.
    #[error("check failed: {0}")]
    Open(#[from] DeliveryError),
    /// The share names a snapshot (`data_digest`) and these records are not it.
    #[error("check failed: the records are not the snapshot the share names (data_digest {0})")]
    NotTheSnapshot(Hash32),
    /// The decrypted plaintext is not a JSON array.
    #[error("check failed: the records are not a JSON array")]
    NotJson,
}

/// Fetches the records of the committed access `id` from `datanode` and checks them with the
/// identity secret `sk`: the access is committed (as `node` shows), it is this transaction
/// and an access, its delivery key is the one `sk` derives for its stream and nonce, the
/// answer opens under that key for this access and chain, its digest matches the plaintext,
/// and, where the stream's share names a `data_digest`, that digest too.
pub fn fetch(
    node: &NodeClient,
    datanode: &DataNodeClient,
    sk: &SecretKey,
    id: TxId,
) -> Result<Fetched, FetchError> {
    let chain = node.status().map_err(FetchError::Node)?.chain_id;
    let r = node.transaction(&id.to_hex()).map_err(FetchError::Node)?;
    let access: Transaction = match (r.height, r.transaction) {
        (Some(_), Some(t)) => serde_json::from_value(t)
            .map_err(|e| FetchError::Node(ClientError::Protocol(e.to_string())))?,
        _ => return Err(FetchError::NotCommitted(id)),
    };
    if access.id() != id {
        return Err(FetchError::OtherTransaction(id));
    }
    let Body::Access(a) = &access.body else {
        return Err(FetchError::NotAnAccess(id));
    };
    let (secret, public) = derive(sk, &a.stream_id, a.nonce);
    if public != a.delivery_key {
        return Err(FetchError::NotThisIdentity);
    }
    let sealed = datanode.delivery(id).map_err(FetchError::DataNode)?;
    let plaintext = Zeroizing::new(open(&secret, &chain, id, &sealed)?);
    let count = serde_json::from_slice::<Vec<serde_json::Value>>(&plaintext)
        .map_err(|_| FetchError::NotJson)?
        .len();
    let mut snapshot_checked = false;
    if let Some(named) = share_digest(node, &a.stream_id)? {
        if named.0 != sealed.digest {
            return Err(FetchError::NotTheSnapshot(named));
        }
        snapshot_checked = true;
    }
    Ok(Fetched {
        stream_id: a.stream_id.clone(),
        plaintext,
        count,
        digest: sealed.digest,
        snapshot_checked,
    })
}

/// The `data_digest` of the stream's latest consent, if it is a share that names one.
fn share_digest(node: &NodeClient, stream_id: &str) -> Result<Option<Hash32>, FetchError> {
    let Some(stream) = node.stream(stream_id).map_err(FetchError::Node)? else {
        return Ok(None);
    };
    let r = node
        .transaction(&stream.latest_consent)
        .map_err(FetchError::Node)?;
    let Some(tx) = r.transaction else {
        return Ok(None);
    };
    let tx: Transaction = serde_json::from_value(tx)
        .map_err(|e| FetchError::Node(ClientError::Protocol(e.to_string())))?;
    Ok(match tx.body {
        Body::Consent(c) if c.stream_id == stream_id => c.data_digest,
        _ => None,
    })
}
