//! The data node's HTTP API (`consentry datanode`): a patient's signed ingest, and deliveries
//! for committed accesses. Problems are RFC 9457 documents like the validator's.
//!
//! - `POST /v1/ingest` ([`Ingest`]) → `{stream_id, records}`: 400 malformed, 409 `Sequence`
//!   (a replay or a gap), 422 `BadSignature`, `NotThePatientsStream`, `OtherDataNode`.
//! - `GET /v1/streams/{id}/next` → `{stream_id, next_sequence, records}`.
//! - `POST /v1/deliveries` `{access_tx}` → [`SealedRecords`]: 409 `NotFinal`, 422
//!   `NotAnAccess`, 404 `UnknownStream`, 403 `ConsentRevoked` or `PolicyDenied`, 409
//!   `SnapshotMissing` (the share names records this node does not hold).

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::blocking;
use super::problem::Problem;
use super::transactions::json_body;
use crate::client::NodeClient;
use crate::datanode::{deliver, Ingest, IngestError, RecordStore, RecordStoreError, Refusal};
use crate::delivery::SealedRecords;
use crate::ledger::{Genesis, TxId};

/// Largest ingest body: 10,000 records of up to 64 KiB would be more; a client splits.
pub const MAX_INGEST_BODY: usize = 16 * 1024 * 1024;

/// What a data node serves from.
pub struct DataNode {
    /// Its records.
    pub store: RecordStore,
    /// The validators it asks (base URLs).
    pub ledger: Vec<String>,
    /// The chain's genesis: what finality is checked against.
    pub genesis: Genesis,
}

/// `POST /v1/deliveries` body.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliveryRequest {
    /// The committed access transaction's id (hex).
    pub access_tx: String,
}

/// A stream as the data node holds it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StreamRecords {
    /// Stream id.
    pub stream_id: String,
    /// The sequence number the next ingest must carry.
    pub next_sequence: u64,
    /// Records held.
    pub records: u64,
}

fn store_problem(e: RecordStoreError) -> Problem {
    match e {
        RecordStoreError::Ingest(i) => {
            let (status, code) = match &i {
                IngestError::Invalid { .. } => (StatusCode::BAD_REQUEST, "BadRequest"),
                IngestError::Sequence { .. } => (StatusCode::CONFLICT, "Sequence"),
                IngestError::BadSignature => (StatusCode::UNPROCESSABLE_ENTITY, "BadSignature"),
                IngestError::NotThePatientsStream => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "NotThePatientsStream")
                }
                IngestError::OtherDataNode(_) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "OtherDataNode")
                }
            };
            Problem::new(status, code, "Ingest refused", i.to_string())
        }
        other => {
            tracing::error!(error = %other, "record store");
            Problem::internal()
        }
    }
}

async fn ingest(
    State(dn): State<Arc<DataNode>>,
    body: Result<Json<Ingest>, JsonRejection>,
) -> Result<Json<StreamRecords>, Problem> {
    let ingest = json_body(body)?;
    blocking(move || {
        let count = dn.store.append(&ingest).map_err(store_problem)?;
        Ok(Json(StreamRecords {
            stream_id: ingest.stream_id.clone(),
            next_sequence: ingest.sequence + 1,
            records: count,
        }))
    })
    .await
}

async fn stream(
    State(dn): State<Arc<DataNode>>,
    Path(id): Path<String>,
) -> Result<Json<StreamRecords>, Problem> {
    crate::ledger::check_stream_id(&id).map_err(|e| Problem::bad_request(e.to_string()))?;
    blocking(move || {
        Ok(Json(StreamRecords {
            next_sequence: dn.store.next_sequence(&id).map_err(store_problem)?,
            records: dn.store.count(&id).map_err(store_problem)?,
            stream_id: id,
        }))
    })
    .await
}

async fn delivery(
    State(dn): State<Arc<DataNode>>,
    body: Result<Json<DeliveryRequest>, JsonRejection>,
) -> Result<Json<SealedRecords>, Problem> {
    let req = json_body(body)?;
    let id = TxId::from_hex(&req.access_tx)
        .map_err(|e| Problem::bad_request(format!("access_tx: {e}")))?;
    blocking(move || {
        let nodes: Vec<NodeClient> = dn.ledger.iter().map(|u| NodeClient::new(u)).collect();
        let today = (crate::node::now_ms() / 86_400_000) as u32;
        deliver(&dn.store, &nodes, &dn.genesis, id, today)
            .map(Json)
            .map_err(|r| {
                let status = match &r {
                    Refusal::NotFinal(_) | Refusal::SnapshotMissing(_) => StatusCode::CONFLICT,
                    Refusal::NotAnAccess(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    Refusal::UnknownStream(_) => StatusCode::NOT_FOUND,
                    Refusal::ConsentRevoked(_) | Refusal::PolicyDenied(_) => StatusCode::FORBIDDEN,
                    Refusal::Store(e) => {
                        tracing::error!(error = %e, "delivery");
                        return Problem::internal();
                    }
                };
                Problem::new(status, r.code(), "Delivery refused", r.to_string())
            })
    })
    .await
}

/// The data node's router.
pub fn datanode_router(dn: Arc<DataNode>) -> Router {
    Router::new()
        .route("/v1/ingest", post(ingest))
        .route("/v1/streams/{id}/next", get(stream))
        .route("/v1/deliveries", post(delivery))
        .layer(DefaultBodyLimit::max(MAX_INGEST_BODY))
        .with_state(dn)
}

/// Serves the data node on `listener` until `shutdown` completes.
pub async fn serve_datanode(
    dn: Arc<DataNode>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(listener, datanode_router(dn))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
