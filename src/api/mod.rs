//! The HTTP API (axum), versioned under `/v1`: JSON bodies, RFC 9457 problem details for
//! errors, an OpenAPI document at `/v1/openapi.json`, Prometheus metrics at `/metrics`, and
//! the audit page at `/` ([`web`]), which reads only `/v1`.
//!
//! Handlers call the node and the ledger; the ledger knows nothing of HTTP. Blocking work
//! (token verification, ledger reads under the lock) runs on the blocking pool, never on the
//! async executor. Bodies are limited to [`MAX_BODY`] bytes and requests to [`TIMEOUT`].

mod chain;
pub mod datanode;
mod dto;
mod openapi;
pub mod peer;
pub mod problem;
mod registry;
mod schemas;
mod streams;
mod tokens;
mod transactions;
pub mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tower_http::timeout::TimeoutLayer;

pub use dto::*;
pub use openapi::ApiDoc;

use crate::node::Node;
use problem::Problem;

/// Largest accepted request body.
pub const MAX_BODY: usize = 256 * 1024;
/// Longest a request may take.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// Shared handler state.
pub type AppState = Arc<Node>;

/// Runs blocking work off the executor; a panic or cancellation becomes a 500.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Problem> + Send + 'static,
) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        tracing::error!(error = %e, "blocking task failed");
        Err(Problem::internal())
    })
}

/// Refuses a write from an address the sequencer refuses (too many invalid proofs lately)
/// before its body is read or decoded; reads are always served.
async fn refuse_banned_sources(
    axum::extract::State(node): axum::extract::State<AppState>,
    source: transactions::Source,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if req.method() == axum::http::Method::POST {
        if let Some(ip) = source.0 {
            if let Err(r) = node.pool().check_source(ip, crate::node::now_ms()) {
                return axum::response::IntoResponse::into_response(Problem::from(r));
            }
        }
    }
    next.run(req).await
}

/// The router with every route.
pub fn router(node: AppState) -> Router {
    Router::new()
        .route("/v1/status", get(chain::status))
        .route("/v1/blocks/latest", get(chain::latest_block))
        .route("/v1/blocks/{height}", get(chain::block))
        .route("/v1/registry", get(registry::registry))
        .route("/v1/registry/{issuer}/leaves", get(registry::leaves))
        .route("/v1/credentials", post(registry::issue))
        .route("/v1/credentials/{index}/revoke", post(registry::revoke))
        .route("/v1/tokens/verify", post(tokens::verify))
        .route("/v1/transactions", post(transactions::submit))
        .route("/v1/transactions/{id}", get(transactions::get))
        .route("/v1/streams/{id}", get(streams::stream))
        .route("/v1/streams/{id}/history", get(streams::history))
        .route("/v1/studies", get(streams::studies))
        .route("/v1/studies/{id}", get(streams::study))
        .route("/v1/openapi.json", get(openapi::document))
        .route("/metrics", get(chain::metrics))
        .merge(web::routes())
        .fallback(|| async { Problem::not_found("no such route") })
        .layer(axum::middleware::from_fn_with_state(
            node.clone(),
            refuse_banned_sources,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            TIMEOUT,
        ))
        .layer(axum::middleware::map_response(problem::problemize))
        .with_state(node)
}

/// Serves the API on `listener` (and, for a cluster validator, the peer routes on
/// `peer_listener`) with the node's engine running, until `shutdown` resolves. On shutdown
/// the servers stop accepting requests, in-flight requests finish, and the engine stops
/// ([`crate::node::EngineTasks::stop`]: a block being committed completes).
pub async fn serve(
    node: Arc<Node>,
    listener: tokio::net::TcpListener,
    peer_listener: Option<tokio::net::TcpListener>,
    block_interval: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let engine = crate::node::EngineTasks::spawn(node.clone(), block_interval);
    let (stop_peers, peers_stopped) = tokio::sync::oneshot::channel::<()>();
    let peer_server = match (peer_listener, node.cluster()) {
        (Some(l), Some(c)) => {
            let app = peer::router(c.clone());
            Some(tokio::spawn(async move {
                axum::serve(l, app)
                    .with_graceful_shutdown(async {
                        let _ = peers_stopped.await;
                    })
                    .await
            }))
        }
        (None, Some(_)) => anyhow::bail!("a cluster validator needs its peer listener"),
        _ => None,
    };
    let app = router(node.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    engine.stop().await?;
    let _ = stop_peers.send(());
    if let Some(p) = peer_server {
        let _ = p.await;
    }
    served?;
    Ok(())
}
