//! The credential registry: root, the public leaf list, issuing and revoking.
//!
//! There is deliberately no endpoint that returns the Merkle path of a given leaf: fetching
//! one's own path by index would link an institution to its leaf. Clients sync the leaf list
//! and compute paths locally.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::Json;

use super::problem::{ApiResult, Problem};
use super::transactions::{admit, wait_for};
use super::{
    blocking, AppState, IssuedResponse, LeavesResponse, Page, RegistryResponse, TxResponse,
    TxStatus,
};
use crate::ledger::{Body, Transaction};
use consentry_circuits::field;

/// Registry root, size and root window.
#[utoipa::path(get, path = "/v1/registry", responses((status = 200, body = RegistryResponse)))]
pub async fn registry(State(node): State<AppState>) -> ApiResult<RegistryResponse> {
    blocking(move || {
        Ok(Json(node.seq.with_ledger(|l| {
            RegistryResponse {
                depth: l.genesis().registry_depth,
                size: l.registry().len(),
                root: field::to_hex(&l.registry_root()),
                root_window: l.genesis().root_window,
                recent_roots: l
                    .recent_roots()
                    .iter()
                    .map(|r| format!("0x{}", r.to_hex()))
                    .collect(),
            }
        })))
    })
    .await
}

/// A page of the public leaf list.
#[utoipa::path(get, path = "/v1/registry/leaves", params(Page), responses((status = 200, body = LeavesResponse)))]
pub async fn leaves(
    State(node): State<AppState>,
    Query(page): Query<Page>,
) -> ApiResult<LeavesResponse> {
    blocking(move || {
        Ok(Json(node.seq.with_ledger(|l| {
            let all = l.registry().leaves();
            let from = (page.from as usize).min(all.len());
            let to = (from + page.limit()).min(all.len());
            LeavesResponse {
                from: from as u64,
                total: all.len() as u64,
                leaves: all[from..to].iter().map(field::to_hex).collect(),
            }
        })))
    })
    .await
}

/// Issue a credential: an issuer-signed `issue_credential` transaction. Answers once it is
/// committed, with the leaf index.
#[utoipa::path(post, path = "/v1/credentials", request_body(content = Object, description = "An issuer-signed issue_credential transaction"),
    responses((status = 200, body = IssuedResponse), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn issue(
    State(node): State<AppState>,
    body: Result<Json<Transaction>, JsonRejection>,
) -> ApiResult<IssuedResponse> {
    let tx = super::transactions::json_body(body)?;
    let Body::IssueCredential(issue) = &tx.body else {
        return Err(Problem::bad_request(
            "expected an issue_credential transaction",
        ));
    };
    let leaf =
        field::from_bytes(&issue.leaf.0).map_err(|e| Problem::bad_request(format!("leaf: {e}")))?;
    let id = admit(&node, tx).await?;
    let done = wait_for(&node, id).await?;
    let height = committed(&done)?;
    let leaf_index = blocking(move || {
        node.seq
            .with_ledger(|l| l.registry().position(&leaf))
            .ok_or_else(Problem::internal)
    })
    .await?;
    Ok(Json(IssuedResponse {
        id: id.to_hex(),
        leaf_index,
        height,
    }))
}

/// Revoke a credential: an issuer-signed `revoke_credential` transaction for `index`.
#[utoipa::path(post, path = "/v1/credentials/{index}/revoke", params(("index" = u64, Path, description = "Leaf index")),
    request_body(content = Object, description = "An issuer-signed revoke_credential transaction"),
    responses((status = 200, body = TxResponse), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn revoke(
    State(node): State<AppState>,
    Path(index): Path<String>,
    body: Result<Json<Transaction>, JsonRejection>,
) -> ApiResult<TxResponse> {
    let index: u64 = index
        .parse()
        .map_err(|_| Problem::bad_request(format!("index {index:?} is not a number")))?;
    let tx = super::transactions::json_body(body)?;
    match &tx.body {
        Body::RevokeCredential(r) if r.index == index => {}
        Body::RevokeCredential(r) => {
            return Err(Problem::bad_request(format!(
                "the transaction revokes leaf {}, the path says {index}",
                r.index
            )))
        }
        _ => {
            return Err(Problem::bad_request(
                "expected a revoke_credential transaction",
            ))
        }
    }
    let id = admit(&node, tx).await?;
    let done = wait_for(&node, id).await?;
    committed(&done)?;
    Ok(Json(done))
}

fn committed(r: &TxResponse) -> Result<u64, Problem> {
    match (&r.status, r.height) {
        (TxStatus::Committed, Some(h)) => Ok(h),
        (TxStatus::Rejected, _) => Err(Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            r.reason.as_deref().unwrap_or("Rejected"),
            "Transaction rejected",
            "rejected when its block was built",
        )),
        _ => Err(Problem::new(
            axum::http::StatusCode::ACCEPTED,
            "Pending",
            "Still pending",
            format!("transaction {} is not committed yet", r.id),
        )),
    }
}
