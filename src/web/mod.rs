//! The pages the server serves to browsers: plain HTML, CSS and ES modules compiled into the
//! binary (no build step, no files to deploy beside it), in Simplified Chinese, with one style
//! sheet for every page. `/console` is the operators' console (issue 12: sign-in, the call's
//! pop-up and browser phone, the work order and the knowledge base); `/knowledge` the
//! knowledge-base editors' page; `/wallboard` the supervisors' live wallboard; `/unit` the
//! responsible units' portal; `/statistics` the statistics with charts and hot topics;
//! `/public` the published results, `/request` the public request form and `/progress` the
//! progress lookup, for everyone. Each page's file holds what is its own; the
//! head, the header bar and the sign-in card are written once (`frame.html`, `sign-in.html`)
//! and the pages assembled at the first request. Every page is sent with a
//! Content-Security-Policy that allows only the server's own scripts, styles and sockets.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Who signs in on a page, and with what.
#[derive(Clone, Copy)]
enum SignIn {
    /// A seat with its password (the console).
    Seat,
    /// A users.toml user with their token; the card names who (值班长, 承办单位, …).
    User(&'static str),
    /// Nobody (the public page).
    None,
}

/// A page: its path, its title (also the header's), its script, who signs in, what its
/// header adds, and its content (the page's file: header additions, `<!-- main -->`, then
/// the content of `<main>`).
struct Page {
    path: &'static str,
    title: &'static str,
    script: &'static str,
    sign_in: SignIn,
    file: &'static str,
}

const PAGES: [Page; 8] = [
    Page {
        path: "/console",
        title: "话务员工作台",
        script: "console.js",
        sign_in: SignIn::Seat,
        file: include_str!("console.html"),
    },
    Page {
        path: "/knowledge",
        title: "知识库维护",
        script: "knowledge.js",
        sign_in: SignIn::User("知识库编辑人员"),
        file: include_str!("knowledge.html"),
    },
    Page {
        path: "/wallboard",
        title: "值班长监控",
        script: "wallboard.js",
        sign_in: SignIn::User("值班长"),
        file: include_str!("wallboard.html"),
    },
    Page {
        path: "/unit",
        title: "承办单位工作台",
        script: "unit.js",
        sign_in: SignIn::User("承办单位"),
        file: include_str!("unit.html"),
    },
    Page {
        path: "/statistics",
        title: "统计分析",
        script: "statistics.js",
        sign_in: SignIn::User("值班长"),
        file: include_str!("statistics.html"),
    },
    Page {
        path: "/public",
        title: "办理结果公开",
        script: "public.js",
        sign_in: SignIn::None,
        file: include_str!("public.html"),
    },
    Page {
        path: "/request",
        title: "提交诉求",
        script: "request.js",
        sign_in: SignIn::None,
        file: include_str!("request.html"),
    },
    Page {
        path: "/progress",
        title: "进度查询",
        script: "progress.js",
        sign_in: SignIn::None,
        file: include_str!("progress.html"),
    },
];

/// Every page's frame: the head, the header bar and `<main>`.
const FRAME: &str = include_str!("frame.html");
/// The sign-in card.
const SIGN_IN: &str = include_str!("sign-in.html");

impl Page {
    /// The page's HTML: its file in the frame, with its sign-in card.
    fn html(&self) -> String {
        let (header, main) = self
            .file
            .split_once("<!-- main -->\n")
            .unwrap_or(("", self.file));
        let card = match self.sign_in {
            SignIn::Seat => Some(("座席", "seat", "座席号", "password", "密码")),
            SignIn::User(who) => Some((who, "user", "用户名", "token", "令牌")),
            SignIn::None => None,
        };
        let sign_in = card.map_or(
            String::new(),
            |(who, id, id_label, secret, secret_label)| {
                SIGN_IN
                    .replace("@WHO@", who)
                    .replace("@ID_LABEL@", id_label)
                    .replace("@ID@", id)
                    .replace("@SECRET_LABEL@", secret_label)
                    .replace("@SECRET@", secret)
            },
        );
        FRAME
            .replace("@TITLE@", self.title)
            .replace("@SCRIPT@", self.script)
            .replace("@HEADER@", header)
            .replace("@SIGN_IN@", &sign_in)
            .replace("@MAIN@", main)
    }
}

/// The other files the pages are made of: path, type and content (compiled in).
const FILES: [(&str, &str, &str); 12] = [
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
    ("/static/request.js", JS, include_str!("request.js")),
    ("/static/progress.js", JS, include_str!("progress.js")),
    ("/favicon.ico", "image/svg+xml", FAVICON),
];

/// The pages' HTML, assembled once.
fn pages() -> &'static [(&'static str, String)] {
    static BUILT: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
    BUILT.get_or_init(|| PAGES.iter().map(|p| (p.path, p.html())).collect())
}

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
    for (path, html) in pages() {
        let html: &'static str = html.as_str();
        router = router.route(path, get(move || async move { page(HTML, html) }));
    }
    for (path, kind, body) in FILES {
        router = router.route(path, get(move || async move { page(kind, body) }));
    }
    router
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_is_its_file_in_the_frame() {
        for (path, html) in pages() {
            assert!(html.starts_with("<!doctype html>"), "{path}");
            assert!(html.ends_with("</main>\n</body>\n</html>\n"), "{path}");
            assert!(!html.contains('@'), "{path}: a placeholder left: {html}");
            assert!(!html.contains("<!-- main -->"), "{path}");
            assert_eq!(html.matches("<main>").count(), 1, "{path}");
        }
        let console = &pages()[0].1;
        assert!(console.contains("<title>12345 话务员工作台</title>"));
        assert!(console.contains("id=\"seat\"") && console.contains("id=\"password\""));
        let board = &pages()[2].1;
        assert!(board.contains("<h2>值班长登录</h2>") && board.contains("id=\"token\""));
        assert!(board.contains("id=\"live\""), "the header's addition");
        assert!(
            !pages()[5].1.contains("sign-in-form"),
            "the public page signs nobody in"
        );
    }
}
