//! The pages the server serves to browsers: plain HTML, CSS and ES modules compiled into the
//! binary (no build step, no files to deploy beside it), in Simplified Chinese, with one style
//! sheet for every page. `/console` is the operators' console (issue 12: sign-in, the call's
//! pop-up and browser phone, the work order and the knowledge base); `/knowledge` the
//! knowledge-base editors' page; `/wallboard` the supervisors' live wallboard; `/unit` the
//! responsible units' portal; `/statistics` the statistics with charts and hot topics;
//! `/public` the published results, for everyone. Every page is sent with a Content-Security-Policy that allows
//! only the server's own scripts, styles and sockets.

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Every file the pages are made of: its path, type and content (compiled in).
const FILES: [(&str, &str, &str); 16] = [
    ("/console", HTML, include_str!("console.html")),
    ("/knowledge", HTML, include_str!("knowledge.html")),
    ("/wallboard", HTML, include_str!("wallboard.html")),
    ("/unit", HTML, include_str!("unit.html")),
    ("/statistics", HTML, include_str!("statistics.html")),
    ("/public", HTML, include_str!("public.html")),
    (
        "/static/style.css",
        "text/css; charset=utf-8",
        include_str!("style.css"),
    ),
    ("/static/common.js", JS, include_str!("common.js")),
    ("/static/console.js", JS, include_str!("console.js")),
    ("/static/phone.js", JS, include_str!("phone.js")),
    ("/static/knowledge.js", JS, include_str!("knowledge.js")),
    ("/static/wallboard.js", JS, include_str!("wallboard.js")),
    ("/static/unit.js", JS, include_str!("unit.js")),
    ("/static/statistics.js", JS, include_str!("statistics.js")),
    ("/static/public.js", JS, include_str!("public.js")),
    ("/favicon.ico", "image/svg+xml", FAVICON),
];

/// A plain mark for the tab (browsers ask for one).
const FAVICON: &str = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><rect width='16' height='16' rx='3' fill='#0b6e4f'/></svg>";

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
    let mut router = Router::new().route("/", get(|| async { Redirect::to("/console") }));
    for (path, kind, body) in FILES {
        router = router.route(path, get(move || async move { page(kind, body) }));
    }
    router
}
