//! The peer listener's routes (`--peer-listen`): Raft RPCs, transactions forwarded to the
//! leader, and the block-signature exchange. Only genesis validators get in: the headers are
//! checked before the body is read, the signature over the whole request after, and every
//! answer is signed by this validator ([`crate::peer::auth`]).

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use openraft::raft::{AppendEntriesRequest, InstallSnapshotRequest, VoteRequest};

use super::blocking;
use super::problem::Problem;
use crate::consensus::raft::{NodeId, TypeConfig};
use crate::node::{now_ms, Cluster};
use crate::peer::network::paths;
use crate::peer::{Forward, Forwarded, SignaturesRequest, FORWARD_PATH, SIGNATURES_PATH};

/// Largest peer request: a few block proposals, or one snapshot chunk.
pub const MAX_PEER_BODY: usize = 256 * 1024 * 1024;

type PeerState = Arc<Cluster>;

async fn authenticate(State(cluster): State<PeerState>, req: Request, next: Next) -> Response {
    let now = now_ms();
    let (parts, body) = req.into_parts();
    let headers = &parts.headers;
    let auth = match cluster.auth.check_headers(
        |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        },
        now,
    ) {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, path = %parts.uri.path(), "refused a peer request");
            return Problem::new(
                StatusCode::UNAUTHORIZED,
                "PeerAuth",
                "Not a validator",
                e.to_string(),
            )
            .into_response();
        }
    };
    let bytes = match to_bytes(body, MAX_PEER_BODY).await {
        Ok(b) => b,
        Err(e) => {
            return Problem::for_status(StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
                .into_response()
        }
    };
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    if let Err(e) = cluster
        .auth
        .check_body(&auth, parts.method.as_str(), &path, &bytes, now)
    {
        tracing::warn!(error = %e, path, validator = auth.validator + 1, "refused a peer request");
        return Problem::new(
            StatusCode::UNAUTHORIZED,
            "PeerAuth",
            "Not authenticated",
            e.to_string(),
        )
        .into_response();
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let signature = cluster.sign_response(&auth.nonce, parts.status.as_u16(), &bytes);
    if let Ok(v) = signature.parse() {
        parts.headers.insert(crate::peer::auth::SIGNATURE_HEADER, v);
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn vote(
    State(c): State<PeerState>,
    Json(req): Json<VoteRequest<NodeId>>,
) -> impl IntoResponse {
    Json(c.raft.vote(req).await)
}

async fn append(
    State(c): State<PeerState>,
    Json(req): Json<AppendEntriesRequest<TypeConfig>>,
) -> impl IntoResponse {
    Json(c.raft.append_entries(req).await)
}

async fn snapshot(
    State(c): State<PeerState>,
    Json(req): Json<InstallSnapshotRequest<TypeConfig>>,
) -> impl IntoResponse {
    Json(c.raft.install_snapshot(req).await)
}

async fn forward(
    State(c): State<PeerState>,
    Json(fwd): Json<Forward>,
) -> Result<Response, Problem> {
    let id = blocking(move || c.admit_forwarded(fwd).map_err(Problem::from)).await?;
    Ok(Json(Forwarded { id: id.to_hex() }).into_response())
}

async fn signatures(
    State(c): State<PeerState>,
    Json(req): Json<SignaturesRequest>,
) -> Result<Response, Problem> {
    let answer = blocking(move || c.signatures(&req).map_err(Problem::from)).await?;
    Ok(Json(answer).into_response())
}

/// The peer listener's router for a cluster validator.
pub fn router(cluster: Arc<Cluster>) -> Router {
    Router::new()
        .route(paths::VOTE, post(vote))
        .route(paths::APPEND, post(append))
        .route(paths::SNAPSHOT, post(snapshot))
        .route(FORWARD_PATH, post(forward))
        .route(SIGNATURES_PATH, post(signatures))
        .fallback(|| async { Problem::not_found("no such peer route") })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_PEER_BODY))
        .layer(axum::middleware::from_fn_with_state(
            cluster.clone(),
            authenticate,
        ))
        .with_state(cluster)
}
