//! The OpenAPI document, generated from the handlers' annotations.

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::OpenApi;

use super::problem::Problem;
use super::*;

/// The API description served at `/v1/openapi.json`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Consentry node API",
        description = "Privacy-preserving consent ledger: registry, tokens, transactions, streams, blocks."
    ),
    paths(
        chain::status,
        chain::block,
        chain::latest_block,
        chain::metrics,
        registry::registry,
        registry::leaves,
        registry::issue,
        registry::revoke,
        tokens::verify,
        transactions::submit,
        transactions::get,
        streams::stream,
        streams::history,
        streams::studies,
        streams::study,
        document
    ),
    components(schemas(Problem))
)]
pub struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", responses((status = 200, description = "OpenAPI 3.1 document", body = Object)))]
pub async fn document() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        ApiDoc::openapi().to_json().unwrap_or_default(),
    )
}
