//! Status, blocks and metrics.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

use super::problem::{ApiResult, Problem};
use super::{blocking, AppState, ParamDigest, StatusResponse};
use crate::ledger::Block;

/// Node status.
#[utoipa::path(get, path = "/v1/status", responses((status = 200, body = StatusResponse)))]
pub async fn status(State(node): State<AppState>) -> ApiResult<StatusResponse> {
    blocking(move || {
        let pending = node.pool().pending_len();
        let (chain_id, height, tip_hash, root, size) = node.pool().with_ledger(|l| {
            (
                l.genesis().chain_id.clone(),
                l.tip().height,
                l.tip().hash().to_hex(),
                l.registry_digest().to_hex(),
                l.registries().map(|(_, t)| t.len()).sum::<u64>(),
            )
        });
        Ok(Json(StatusResponse {
            chain_id,
            height,
            tip_hash,
            registry_digest: root,
            registry_size: size,
            validator: hex::encode(node.validator),
            version: env!("CARGO_PKG_VERSION").into(),
            pending,
            params: node
                .params_digests
                .iter()
                .map(|(f, d)| ParamDigest {
                    file: f.clone(),
                    sha256: d.clone(),
                })
                .collect(),
            cluster: node.cluster().map(|c| c.status()),
        }))
    })
    .await
}

/// A block by height.
#[utoipa::path(get, path = "/v1/blocks/{height}", params(("height" = u64, Path, description = "Block height")),
    responses((status = 200, description = "The block", body = super::schemas::BlockDoc), (status = 404, body = Problem)))]
pub async fn block(State(node): State<AppState>, Path(height): Path<String>) -> ApiResult<Block> {
    let height: u64 = height
        .parse()
        .map_err(|_| Problem::bad_request(format!("height {height:?} is not a number")))?;
    blocking(move || {
        node.pool()
            .with_ledger(|l| l.block(height))?
            .map(Json)
            .ok_or_else(|| Problem::not_found(format!("no block at height {height}")))
    })
    .await
}

/// The latest block.
#[utoipa::path(get, path = "/v1/blocks/latest", responses((status = 200, description = "The latest block", body = super::schemas::BlockDoc)))]
pub async fn latest_block(State(node): State<AppState>) -> ApiResult<Block> {
    blocking(move || {
        node.pool()
            .with_ledger(|l| l.block(l.tip().height))?
            .map(Json)
            .ok_or_else(Problem::internal)
    })
    .await
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format", body = String)))]
pub async fn metrics(State(node): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        node.metrics.encode(),
    )
}
