//! The credential registry: root, the public leaf list, issuing and revoking.
//!
//! There is deliberately no endpoint that returns the Merkle path of a given leaf: fetching
//! one's own path by index would link an institution to its leaf. Clients sync the leaf list
//! and compute paths locally.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::Json;

use super::problem::{ApiResult, Problem};
use super::transactions::{admit, wait_for, Source};
use super::{
    blocking, AppState, IssuedResponse, IssuerRegistry, LeavesResponse, Page, RegistryResponse,
    TxResponse, TxStatus,
};
use crate::ledger::{Body, Transaction};
use consentry_circuits::field;

/// Every issuer's registry: size, current root and the roots tokens may be proven against.
#[utoipa::path(get, path = "/v1/registry", responses((status = 200, body = RegistryResponse)))]
pub async fn registry(State(node): State<AppState>) -> ApiResult<RegistryResponse> {
    blocking(move || {
        let now = crate::node::now_ms();
        Ok(Json(node.pool().with_ledger(|l| {
            let genesis = l.genesis();
            RegistryResponse {
                depth: genesis.registry_depth,
                root_window_secs: genesis.root_window_secs,
                digest: l.registry_digest().to_hex(),
                issuers: l
                    .registries()
                    .map(|(issuer_id, tree)| IssuerRegistry {
                        issuer_id,
                        name: genesis
                            .issuers
                            .iter()
                            .find(|i| i.issuer_id == issuer_id)
                            .map(|i| i.name.clone())
                            .unwrap_or_default(),
                        size: tree.len(),
                        root: field::to_hex(&tree.root()),
                        recent_roots: l
                            .recent_roots(issuer_id, now)
                            .iter()
                            .map(|r| format!("0x{}", r.to_hex()))
                            .collect(),
                    })
                    .collect(),
            }
        })))
    })
    .await
}

/// A page of one issuer's public leaf list.
#[utoipa::path(get, path = "/v1/registry/{issuer}/leaves", params(("issuer" = u32, Path, description = "Issuer id"), Page),
    responses((status = 200, body = LeavesResponse), (status = 404, body = Problem)))]
pub async fn leaves(
    State(node): State<AppState>,
    Path(issuer): Path<String>,
    Query(page): Query<Page>,
) -> ApiResult<LeavesResponse> {
    let issuer_id: u32 = issuer
        .parse()
        .map_err(|_| Problem::bad_request(format!("issuer {issuer:?} is not a number")))?;
    blocking(move || {
        node.pool().with_ledger(|l| {
            let tree = l
                .registry(issuer_id)
                .ok_or_else(|| Problem::not_found(format!("no issuer {issuer_id}")))?;
            let all = tree.leaves();
            let from = (page.from as usize).min(all.len());
            let to = (from + page.limit()).min(all.len());
            Ok(Json(LeavesResponse {
                issuer_id,
                from: from as u64,
                total: all.len() as u64,
                leaves: all[from..to].iter().map(field::to_hex).collect(),
            }))
        })
    })
    .await
}

/// Issue a credential: an issuer-signed `issue_credential` transaction. Answers once it is
/// committed, with the index of the leaf this transaction appended in the issuer's tree.
#[utoipa::path(post, path = "/v1/credentials", request_body(content = super::schemas::TransactionDoc, description = "An issuer-signed issue_credential transaction"),
    responses((status = 200, body = IssuedResponse), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn issue(
    State(node): State<AppState>,
    source: Source,
    body: Result<Json<Transaction>, JsonRejection>,
) -> ApiResult<IssuedResponse> {
    let tx = super::transactions::json_body(body)?;
    if !matches!(tx.body, Body::IssueCredential(_)) {
        return Err(Problem::bad_request(
            "expected an issue_credential transaction",
        ));
    }
    let id = admit(&node, tx, source).await?;
    let done = wait_for(&node, id).await?;
    let height = committed(&done)?;
    let issued = blocking(move || {
        node.pool()
            .with_ledger(|l| l.issued_leaf(&id))?
            .ok_or_else(Problem::internal)
    })
    .await?;
    Ok(Json(IssuedResponse {
        id: id.to_hex(),
        issuer_id: issued.issuer_id,
        leaf_index: issued.index,
        height,
    }))
}

/// Revoke a credential: an issuer-signed `revoke_credential` transaction for `index`.
#[utoipa::path(post, path = "/v1/credentials/{index}/revoke", params(("index" = u64, Path, description = "Leaf index in the signing issuer's tree")),
    request_body(content = super::schemas::TransactionDoc, description = "An issuer-signed revoke_credential transaction"),
    responses((status = 200, body = TxResponse), (status = 400, body = Problem), (status = 422, body = Problem)))]
pub async fn revoke(
    State(node): State<AppState>,
    source: Source,
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
    let id = admit(&node, tx, source).await?;
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
