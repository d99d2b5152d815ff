//! The audit page at `/`: a patient's or an auditor's view of the ledger (a stream's consent
//! and timeline of readers, the chain's blocks and transactions, studies), so that neither
//! needs curl. The page is three static files compiled into the binary (no CDN, no build
//! step) and reads only the public `/v1` API from the browser, so it can show nothing the
//! API does not; this module only serves the files.
//!
//! Served with a strict Content-Security-Policy (scripts, styles, images and fetches from
//! this origin only; no inline script; not frameable): the page displays strings that
//! anyone can write into a transaction (a purpose), and it inserts them as text, but the
//! policy is the second wall if that ever slips.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

const INDEX_HTML: &str = include_str!("web/index.html");
const APP_JS: &str = include_str!("web/app.js");
const STYLE_CSS: &str = include_str!("web/style.css");
const ICON_SVG: &str = include_str!("web/icon.svg");

/// The policy every page asset is served with (see the module comment).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            // Small files that change with the binary: always revalidate.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}

/// The page's routes: `/` and `/assets/*`, merged into the API router.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/assets/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/assets/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE_CSS) }),
        )
        .route(
            "/assets/icon.svg",
            get(|| async { asset("image/svg+xml", ICON_SVG) }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page references exactly the assets this module serves (a renamed file would
    /// otherwise be a 404 that only a browser notices).
    #[test]
    fn index_references_served_assets() {
        for path in ["/assets/app.js", "/assets/style.css", "/assets/icon.svg"] {
            assert!(INDEX_HTML.contains(path), "index.html does not load {path}");
        }
        let referenced: Vec<&str> = INDEX_HTML
            .match_indices("/assets/")
            .map(|(i, _)| {
                let rest = &INDEX_HTML[i..];
                &rest[..rest.find('"').unwrap()]
            })
            .collect();
        for r in referenced {
            assert!(
                ["/assets/app.js", "/assets/style.css", "/assets/icon.svg"].contains(&r),
                "index.html loads {r}, which is not served"
            );
        }
    }

    /// No inline script or style attribute: the Content-Security-Policy would block it.
    #[test]
    fn index_has_no_inline_script_or_style() {
        assert!(!INDEX_HTML.contains("<script>"));
        assert!(!INDEX_HTML.contains("style="));
        assert!(!INDEX_HTML.contains("onclick"));
        assert!(!APP_JS.contains("innerHTML"), "strings go in as text");
    }
}
