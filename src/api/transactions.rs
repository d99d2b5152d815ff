//! Submitting transactions and reading them back.

use std::time::{Duration, Instant};

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::problem::{ApiResult, Problem};
use super::{blocking, AppState, TxResponse, TxStatus, WaitQuery};
use crate::ledger::{Hash32, Transaction, TxId};

/// How long `?wait=true` and the credential endpoints wait for a block.
pub const WAIT: Duration = Duration::from_secs(10);

/// A JSON body, or a 400 problem naming what is wrong with it.
pub fn json_body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, Problem> {
    body.map(|Json(t)| t).map_err(|e| match e {
        JsonRejection::MissingJsonContentType(_) => Problem::for_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send Content-Type: application/json".into(),
        ),
        other => {
            let status = if other.status() == StatusCode::PAYLOAD_TOO_LARGE {
                other.status()
            } else {
                StatusCode::BAD_REQUEST
            };
            Problem::for_status(status, other.body_text())
        }
    })
}

/// The network address a request came from, when the server records it (the node serves
/// with connection info); the sequencer uses it only to refuse addresses that sent too many
/// invalid proofs.
pub struct Source(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Source(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// Admits a transaction into the mempool (verification off the executor).
pub async fn admit(node: &AppState, tx: Transaction, source: Source) -> Result<TxId, Problem> {
    node.submit(tx, source.0).await.map_err(Problem::from)
}

/// The status of a transaction.
pub async fn status_of(
    node: &AppState,
    id: TxId,
    with_body: bool,
) -> Result<Option<TxResponse>, Problem> {
    let node = node.clone();
    blocking(move || {
        // Mempool first: a transaction leaves it only after its block (or its rejection) is
        // recorded, so this order never misses one in flight.
        if node.is_pending(&id) {
            return Ok(Some(TxResponse {
                id: id.to_hex(),
                status: TxStatus::Pending,
                height: None,
                reason: None,
                transaction: None,
            }));
        }
        if let Some((height, tx)) = node.pool().with_ledger(|l| l.transaction(&id))? {
            return Ok(Some(TxResponse {
                id: id.to_hex(),
                status: TxStatus::Committed,
                height: Some(height),
                reason: None,
                transaction: if with_body {
                    serde_json::to_value(&tx).ok()
                } else {
                    None
                },
            }));
        }
        if let Some(r) = node.rejection(&id) {
            return Ok(Some(TxResponse {
                id: id.to_hex(),
                status: TxStatus::Rejected,
                height: None,
                reason: Some(r.code().into()),
                transaction: None,
            }));
        }
        Ok(None)
    })
    .await
}

/// Waits (up to [`WAIT`]) until a transaction is committed or rejected.
pub async fn wait_for(node: &AppState, id: TxId) -> Result<TxResponse, Problem> {
    let started = Instant::now();
    loop {
        let status = status_of(node, id, false)
            .await?
            .ok_or_else(|| Problem::not_found(format!("transaction {id} is unknown")))?;
        if status.status != TxStatus::Pending || started.elapsed() > WAIT {
            return Ok(status);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Submit a transaction. `202` with `pending`, or with `?wait=true` `200` once committed;
/// a rejection is a problem whose `type` names the reason.
#[utoipa::path(post, path = "/v1/transactions", params(WaitQuery), request_body(content = super::schemas::TransactionDoc, description = "A transaction (JSON)"),
    responses((status = 202, body = TxResponse), (status = 200, body = TxResponse), (status = 400, body = Problem),
               (status = 409, description = "Replay", body = Problem), (status = 422, body = Problem)))]
pub async fn submit(
    State(node): State<AppState>,
    source: Source,
    Query(q): Query<WaitQuery>,
    body: Result<Json<Transaction>, JsonRejection>,
) -> Result<Response, Problem> {
    let tx = json_body(body)?;
    let id = admit(&node, tx, source).await?;
    if !q.wait {
        let pending = TxResponse {
            id: id.to_hex(),
            status: TxStatus::Pending,
            height: None,
            reason: None,
            transaction: None,
        };
        return Ok((StatusCode::ACCEPTED, Json(pending)).into_response());
    }
    let done = wait_for(&node, id).await?;
    if let (TxStatus::Rejected, Some(code)) = (&done.status, &done.reason) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code,
            "Transaction rejected",
            "rejected when its block was built",
        ));
    }
    let code = if done.status == TxStatus::Committed {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((code, Json(done)).into_response())
}

/// A transaction by id.
#[utoipa::path(get, path = "/v1/transactions/{id}", params(("id" = String, Path, description = "Transaction id (64 hex digits)")),
    responses((status = 200, body = TxResponse), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn get(State(node): State<AppState>, Path(id): Path<String>) -> ApiResult<TxResponse> {
    let id =
        Hash32::from_hex(&id).map_err(|e| Problem::bad_request(format!("transaction id: {e}")))?;
    status_of(&node, id, true)
        .await?
        .map(Json)
        .ok_or_else(|| Problem::not_found(format!("transaction {id} is unknown")))
}
