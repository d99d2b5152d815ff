//! Verifying a presentation token without submitting anything.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::Json;
use consentry_circuits::field;
use consentry_circuits::token::Token;

use super::problem::{ApiResult, Problem};
use super::{blocking, AppState, Disclosed, VerifyResponse};
use crate::ledger::Hash32;

/// Verify a token (JSON form). Malformed tokens (bad hex, wrong lengths, points off the curve
/// or outside the subgroup, non-canonical field elements) are a 400 problem; a well-formed
/// token whose proof fails is `valid: false` with the reason.
#[utoipa::path(post, path = "/v1/tokens/verify", request_body(content = super::schemas::TokenDoc, description = "A token in its JSON form"),
    responses((status = 200, body = VerifyResponse), (status = 400, body = Problem)))]
pub async fn verify(
    State(node): State<AppState>,
    source: super::transactions::Source,
    body: Result<Json<Token>, JsonRejection>,
) -> ApiResult<VerifyResponse> {
    let token = super::transactions::json_body(body)?;
    blocking(move || {
        let started = std::time::Instant::now();
        let key = crate::ledger::KeyId::of(&token);
        let verifier = node.verifiers.get(&key).ok_or_else(|| {
            let unknown = key.unknown();
            Problem::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                unknown.code(),
                if key.escrow {
                    "Unknown escrow depth"
                } else {
                    "Unknown depth"
                },
                unknown.to_string(),
            )
        })?;
        let result = verifier.verify(&token);
        if result.is_err() {
            // Garbage sent here costs a pairing as on submission: it counts toward the
            // sender's ban the same way.
            node.pool()
                .record_bad_proof(source.0, crate::node::now_ms());
        }
        node.metrics
            .verify_seconds
            .observe(started.elapsed().as_secs_f64());
        let root = Hash32(field::to_bytes(&token.public.root));
        let p_issuer = token.public.issuer_id;
        let root_in_window = node.pool().with_ledger(|l| {
            l.recent_roots(p_issuer, crate::node::now_ms())
                .contains(&root)
        });
        let p = &token.public;
        Ok(Json(VerifyResponse {
            valid: result.is_ok(),
            reason: result.err().map(|e| e.to_string()),
            root_in_window,
            disclosed: Disclosed {
                role: p.role.to_string(),
                issuer_id: p.issuer_id,
                min_level: p.min_level,
                today: p.today,
                root: field::to_hex(&p.root),
                scope: field::to_hex(&p.scope),
                pseudonym: field::to_hex(&p.pseudonym),
                message: field::to_hex(&p.message),
            },
        }))
    })
    .await
}
