//! Streams (a patient's audit) and study requests.

use axum::extract::{Path, Query, State};
use axum::Json;

use super::problem::{ApiResult, Problem};
use super::{
    blocking, AppState, CriterionView, HistoryItem, HistoryResponse, Page, StreamResponse,
    StudiesResponse, StudyResponse, StudyStream,
};
use crate::ledger::{check_stream_id, records::HistoryKind, Body, Hash32};

fn stream_id(id: &str) -> Result<(), Problem> {
    check_stream_id(id).map_err(|e| Problem::bad_request(e.to_string()))
}

/// A stream's latest consent and access.
#[utoipa::path(get, path = "/v1/streams/{id}", params(("id" = String, Path, description = "Stream id")),
    responses((status = 200, body = StreamResponse), (status = 404, body = Problem)))]
pub async fn stream(
    State(node): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StreamResponse> {
    stream_id(&id)?;
    blocking(move || {
        let s = node
            .pool()
            .with_ledger(|l| l.stream(&id))?
            .ok_or_else(|| Problem::not_found(format!("stream {id:?} has no consent")))?;
        Ok(Json(StreamResponse {
            stream_id: id,
            shared: s.shared,
            latest_consent: s.latest_consent.to_hex(),
            latest_access: s.latest_access.map(|a| a.to_hex()),
            policy: serde_json::to_value(&s.policy).unwrap_or_default(),
            distinct_accessors: s.distinct_accessors,
            history_len: s.history_len,
        }))
    })
    .await
}

/// A stream's full history (the patient's audit): every consent and access in order, with
/// pseudonyms and the number of distinct accessors.
#[utoipa::path(get, path = "/v1/streams/{id}/history", params(("id" = String, Path, description = "Stream id"), Page),
    responses((status = 200, body = HistoryResponse), (status = 404, body = Problem)))]
pub async fn history(
    State(node): State<AppState>,
    Path(id): Path<String>,
    Query(page): Query<Page>,
) -> ApiResult<HistoryResponse> {
    stream_id(&id)?;
    blocking(move || {
        node.pool().with_ledger(
            |l| -> Result<ApiResult<HistoryResponse>, crate::ledger::LedgerError> {
                let Some(state) = l.stream(&id)? else {
                    return Ok(Err(Problem::not_found(format!(
                        "stream {id:?} has no consent"
                    ))));
                };
                let mut entries = Vec::new();
                // Entries of one block share its time: read each block once.
                let mut block_time = (u64::MAX, 0u64);
                for (i, e) in l
                    .history(&id, page.from, page.limit())?
                    .into_iter()
                    .enumerate()
                {
                    if block_time.0 != e.height {
                        let time = l.block(e.height)?.map_or(0, |b| b.header.time_ms);
                        block_time = (e.height, time);
                    }
                    let (mut purpose, mut escrow, mut opens, mut case, mut inspector) =
                        (None, None, None, None, None);
                    match l.transaction(&e.tx)?.map(|(_, tx)| tx.body) {
                        Some(Body::Access(a)) => {
                            purpose = Some(a.purpose);
                            escrow = a.claim.escrow.map(|e| hex::encode(e.0));
                        }
                        Some(Body::Consent(c)) => purpose = Some(c.policy.purpose),
                        Some(Body::Opening(o)) => {
                            opens = Some(o.access.to_hex());
                            case = Some(o.case);
                            inspector = l.genesis().inspector.as_ref().map(|i| i.name.clone());
                        }
                        _ => {}
                    }
                    entries.push(HistoryItem {
                        seq: page.from + i as u64,
                        tx: e.tx.to_hex(),
                        kind: match e.kind {
                            HistoryKind::Share => "share",
                            HistoryKind::Revoke => "revoke",
                            HistoryKind::Access => "access",
                            HistoryKind::Opening => "opening",
                        }
                        .into(),
                        height: e.height,
                        pseudonym: e.pseudonym.map(|p| format!("0x{}", p.to_hex())),
                        purpose,
                        time_ms: block_time.1,
                        escrow,
                        opens,
                        case,
                        inspector,
                    });
                }
                Ok(Ok(Json(HistoryResponse {
                    stream_id: id,
                    distinct_accessors: state.distinct_accessors,
                    entries,
                })))
            },
        )?
    })
    .await
}

/// Study request ids.
#[utoipa::path(get, path = "/v1/studies", params(Page), responses((status = 200, body = StudiesResponse)))]
pub async fn studies(
    State(node): State<AppState>,
    Query(page): Query<Page>,
) -> ApiResult<StudiesResponse> {
    blocking(move || {
        let ids = node.pool().with_ledger(|l| l.studies(page.limit()))?;
        Ok(Json(StudiesResponse {
            studies: ids.iter().map(|i| i.to_hex()).collect(),
        }))
    })
    .await
}

/// Most consenting streams a study page lists.
const MAX_STUDY_STREAMS: usize = 10_000;

/// A study request: its criteria and the eligible consents received (never a value).
#[utoipa::path(get, path = "/v1/studies/{id}", params(("id" = String, Path, description = "Study request transaction id")),
    responses((status = 200, body = StudyResponse), (status = 400, body = Problem), (status = 404, body = Problem)))]
pub async fn study(
    State(node): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StudyResponse> {
    let id = Hash32::from_hex(&id).map_err(|e| Problem::bad_request(format!("study id: {e}")))?;
    blocking(move || {
        node.pool().with_ledger(
            |l| -> Result<ApiResult<StudyResponse>, crate::ledger::LedgerError> {
                let Some((height, tx)) = l.transaction(&id)? else {
                    return Ok(Err(Problem::not_found(format!("no study request {id}"))));
                };
                let Body::StudyRequest(s) = tx.body else {
                    return Ok(Err(Problem::not_found(format!("no study request {id}"))));
                };
                let mut streams = Vec::new();
                for (stream_id, consent) in l.study_consents(&id, MAX_STUDY_STREAMS)? {
                    let current = l
                        .stream(&stream_id)?
                        .is_some_and(|st| st.shared && st.latest_consent == consent);
                    streams.push(StudyStream {
                        stream_id,
                        consent: consent.to_hex(),
                        current,
                    });
                }
                Ok(Ok(Json(StudyResponse {
                    id: id.to_hex(),
                    height,
                    purpose: s.purpose,
                    required_role: s.required_role.name().into(),
                    min_level: s.min_level,
                    criteria: s
                        .cohort
                        .iter()
                        .map(|r| CriterionView {
                            attribute: r.attribute.clone(),
                            lo: r.lo,
                            hi: r.hi,
                            bits: crate::cohort::bits_for(&r.criterion()).unwrap_or(64) as u32,
                        })
                        .collect(),
                    eligible_consents: streams.len() as u64,
                    streams,
                })))
            },
        )?
    })
    .await
}
