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

#[cfg(test)]
mod tests {
    use super::*;

    /// A parameter declared `in: path` must be a `{name}` of its route, and the paging and
    /// wait parameters are query parameters: a generated client puts each where the handler
    /// reads it.
    #[test]
    fn every_parameter_is_declared_where_the_handler_reads_it() {
        let doc: serde_json::Value =
            serde_json::from_str(&ApiDoc::openapi().to_json().unwrap()).unwrap();
        let mut query = vec![];
        for (route, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let name = p["name"].as_str().unwrap();
                    match p["in"].as_str().unwrap() {
                        "path" => assert!(
                            route.contains(&format!("{{{name}}}")),
                            "{method} {route}: `{name}` is declared in the path but is not in it"
                        ),
                        "query" => query.push(format!("{method} {route} {name}")),
                        other => panic!("{method} {route}: `{name}` in {other}"),
                    }
                }
            }
        }
        query.sort();
        assert_eq!(
            query,
            [
                "get /v1/registry/{issuer}/leaves from",
                "get /v1/registry/{issuer}/leaves limit",
                "get /v1/streams/{id}/history from",
                "get /v1/streams/{id}/history limit",
                "get /v1/studies from",
                "get /v1/studies limit",
                "post /v1/transactions wait",
            ]
        );
    }
}
