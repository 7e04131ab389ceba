//! The pages the server serves to browsers: plain HTML, CSS and ES modules compiled into the
//! binary (no build step, no files to deploy beside it), in Simplified Chinese, with one style
//! sheet for every page. `/console` is the operators' console (issue 12: sign-in, the call's
//! pop-up and browser phone, the work order and the knowledge base); `/knowledge` the
//! knowledge-base editors' page. Every page is sent with a Content-Security-Policy that allows
//! only the server's own scripts, styles and sockets.

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

const STYLE: &str = include_str!("style.css");
const CONSOLE_HTML: &str = include_str!("console.html");
const CONSOLE_JS: &str = include_str!("console.js");
const PHONE_JS: &str = include_str!("phone.js");
const COMMON_JS: &str = include_str!("common.js");
const KNOWLEDGE_HTML: &str = include_str!("knowledge.html");
const KNOWLEDGE_JS: &str = include_str!("knowledge.js");

/// Only the server's own scripts, styles and API; no frames.
const CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";

fn page(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The pages' routes, to merge with the API's.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route(
            "/console",
            get(|| async { page("text/html; charset=utf-8", CONSOLE_HTML) }),
        )
        .route(
            "/static/style.css",
            get(|| async { page("text/css; charset=utf-8", STYLE) }),
        )
        .route(
            "/static/console.js",
            get(|| async { page("text/javascript; charset=utf-8", CONSOLE_JS) }),
        )
        .route(
            "/static/phone.js",
            get(|| async { page("text/javascript; charset=utf-8", PHONE_JS) }),
        )
        .route(
            "/static/common.js",
            get(|| async { page("text/javascript; charset=utf-8", COMMON_JS) }),
        )
        .route(
            "/knowledge",
            get(|| async { page("text/html; charset=utf-8", KNOWLEDGE_HTML) }),
        )
        .route(
            "/static/knowledge.js",
            get(|| async { page("text/javascript; charset=utf-8", KNOWLEDGE_JS) }),
        )
}
