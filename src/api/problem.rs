//! RFC 9457 problem details: every error the API returns, with a stable `type` per reason.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ledger::{LedgerError, Rejection};

/// `application/problem+json` body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the problem kind: `urn:consentry:problem:<Code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What went wrong in this instance (never secrets).
    pub detail: String,
    /// The rejection code, for transaction rejections (`Replay`, `RootNotInWindow`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Seconds to wait before retrying, sent as a `Retry-After` header (429 answers).
    #[serde(skip, default)]
    pub retry_after: Option<u32>,
}

impl Problem {
    /// A problem with a code (the `type` is derived from it).
    pub fn new(status: StatusCode, code: &str, title: &str, detail: impl Into<String>) -> Problem {
        Problem {
            kind: format!("urn:consentry:problem:{code}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            code: Some(code.into()),
            retry_after: None,
        }
    }

    /// A problem whose code and title follow from an HTTP status (framework rejections).
    pub fn for_status(status: StatusCode, detail: String) -> Problem {
        let (code, title) = match status {
            StatusCode::PAYLOAD_TOO_LARGE => ("PayloadTooLarge", "Request body too large"),
            StatusCode::REQUEST_TIMEOUT => ("Timeout", "Request timed out"),
            StatusCode::METHOD_NOT_ALLOWED => ("MethodNotAllowed", "Method not allowed"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ("UnsupportedMediaType", "Unsupported media type")
            }
            StatusCode::NOT_FOUND => ("NotFound", "Not found"),
            s if s.is_server_error() => ("Internal", "Internal error"),
            _ => ("BadRequest", "Malformed request"),
        };
        let detail = if detail.is_empty() {
            title.to_string()
        } else {
            detail
        };
        Problem::new(status, code, title, detail)
    }

    /// 400: the request body or parameters are malformed.
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Malformed request",
            detail,
        )
    }

    /// 404: no such resource.
    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "NotFound", "Not found", detail)
    }

    /// 500: a server fault (details are logged, not returned).
    pub fn internal() -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal",
            "Internal error",
            "the node failed; see its log",
        )
    }
}

impl From<Rejection> for Problem {
    fn from(r: Rejection) -> Problem {
        let retry_after = match &r {
            Rejection::Busy {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        };
        let status = match &r {
            Rejection::Replay(_) => StatusCode::CONFLICT,
            Rejection::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::Busy { .. } => StatusCode::TOO_MANY_REQUESTS,
            Rejection::Malformed(_) | Rejection::InvalidField { .. } => StatusCode::BAD_REQUEST,
            Rejection::UnknownStream(_) | Rejection::UnknownStudy(_) => StatusCode::NOT_FOUND,
            Rejection::BadIssuerSignature
            | Rejection::BadPatientSignature
            | Rejection::ProofInvalid => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let mut p = Problem::new(status, r.code(), "Transaction rejected", r.to_string());
        p.retry_after = retry_after;
        p
    }
}

impl From<crate::node::SubmitError> for Problem {
    fn from(e: crate::node::SubmitError) -> Problem {
        use crate::node::SubmitError;
        match e {
            SubmitError::Rejected(r) => r.into(),
            // The leader's own answer, passed on as it is (it names the rule that refused).
            SubmitError::Leader { status, body } => serde_json::from_str::<Problem>(&body)
                .unwrap_or_else(|_| {
                    Problem::for_status(
                        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                        body,
                    )
                }),
            SubmitError::NotLeader => Problem::new(
                StatusCode::MISDIRECTED_REQUEST,
                "NotLeader",
                "Not the leader",
                "this validator does not lead; forward to the leader",
            ),
            SubmitError::Unavailable(why) => Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "NoQuorum",
                "Writes are unavailable",
                why,
            ),
        }
    }
}

impl From<LedgerError> for Problem {
    fn from(e: LedgerError) -> Problem {
        tracing::error!(error = %e, "ledger failure");
        Problem::internal()
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut resp = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        resp
    }
}

/// Handler result: JSON or a problem.
pub type ApiResult<T> = Result<axum::Json<T>, Problem>;

/// Turns every error response that is not already a problem (rejections from axum's
/// extractors, the body limit, the timeout, unknown methods) into `application/problem+json`,
/// so clients see one error format whatever failed.
pub async fn problemize(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    if is_problem {
        return resp;
    }
    let bytes = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .unwrap_or_default();
    let detail = String::from_utf8_lossy(&bytes).trim().to_string();
    let detail = if status.is_server_error() {
        String::new()
    } else {
        detail
    };
    Problem::for_status(status, detail).into_response()
}
