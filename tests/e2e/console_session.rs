//! An operator signs in to the console with the seat's id and password: a session cookie
//! (HttpOnly, SameSite=Strict) stands in for a bearer token, a change without the session's
//! CSRF token is refused, wrong passwords are slowed down, and signing out ends the session.

use crate::common;

use common::harness::run_on;
use common::server::{Backend, ServerOptions};
use serde_json::{json, Value};

/// A request with the session cookie and, when given, the CSRF token and a JSON body.
async fn session(
    url: &str,
    method: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Option<&Value>,
) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new()
        .request(method, url)
        .header("cookie", cookie);
    if let Some(token) = csrf {
        req = req.header("x-csrf-token", token);
    }
    if let Some(body) = body {
        req = req.json(body);
    }
    req.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seat_signs_in_acts_with_its_cookie_and_signs_out() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        |server| async move {
            let client = reqwest::Client::new();
            let url = |p: &str| format!("{}{p}", server.http);
            let sign_in = |password: &'static str| {
                client
                    .post(url("/api/session"))
                    .json(&json!({"seat": "1001", "password": password}))
                    .send()
            };

            // The seat keeps only HA1 values in agents.toml; its password signs it in.
            let resp = sign_in("dev-1001").await.unwrap();
            assert_eq!(resp.status(), 200);
            let set_cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
                assert!(set_cookie.contains(attribute), "{set_cookie}");
            }
            let cookie = set_cookie.split(';').next().unwrap().to_string();
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["seat"], "1001");
            assert_eq!(body["platform"], "530100");
            let csrf = body["csrf_token"].as_str().unwrap().to_string();
            assert!(csrf.len() >= 32);

            let r = session(&url("/api/session"), "GET", &cookie, None, None).await;
            assert_eq!(r.status(), 200);
            assert_eq!(r.json::<Value>().await.unwrap()["seat"], "1001");
            // The cookie reads as an operator of the seat's platform.
            let search = url("/api/knowledge/search?q=%E7%A4%BE%E4%BF%9D");
            let r = session(&search, "GET", &cookie, None, None).await;
            assert_eq!(r.status(), 200);
            assert_eq!(r.json::<Value>().await.unwrap()["platform"], "530100");

            // A change needs the CSRF token as well as the cookie.
            let change = json!({"state": "not-ready", "reason": "培训"});
            let state = "/api/agents/1001/state";
            let wrong = "0".repeat(csrf.len());
            let r = session(&url(state), "POST", &cookie, None, Some(&change)).await;
            assert_eq!(r.status(), 403);
            let r = session(&url(state), "POST", &cookie, Some(&wrong), Some(&change)).await;
            assert_eq!(r.status(), 403, "a wrong token is no token");
            let r = session(&url(state), "POST", &cookie, Some(&csrf), Some(&change)).await;
            assert_eq!(r.status(), 202);
            // Another seat of the same platform is not the session's to change.
            let other = url("/api/agents/1002/state");
            let r = session(&other, "POST", &cookie, Some(&csrf), Some(&change)).await;
            assert_eq!(r.status(), 403);

            // The phone socket: the console's own origin with its cookie; not another site's
            // page with it, nor a bearer token.
            let upgrade = |origin: &str, auth: Option<&str>| {
                let mut req = client
                    .get(url("/api/phone?phone=browser"))
                    .header("connection", "upgrade")
                    .header("upgrade", "websocket")
                    .header("sec-websocket-version", "13")
                    .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
                    .header("origin", origin.to_string());
                req = match auth {
                    Some(token) => req.bearer_auth(token),
                    None => req.header("cookie", cookie.clone()),
                };
                req.send()
            };
            let own = server.http.clone();
            let r = upgrade("http://evil.example", None).await.unwrap();
            assert_eq!(r.status(), 403);
            let r = upgrade(&own, Some("dev-op-kunming-1")).await.unwrap();
            assert_eq!(r.status(), 403, "a bearer token has no console phone");
            let r = upgrade(&own, Some("dev-unit-kmhb")).await.unwrap();
            assert_eq!(r.status(), 403, "nor has a unit");
            let r = upgrade(&own, Some("dev-sup-kunming")).await.unwrap();
            assert_eq!(
                r.status(),
                101,
                "a supervisor's own phone (seat 1901) rings in their page"
            );
            drop(r);
            let r = upgrade(&own, None).await.unwrap();
            assert_eq!(r.status(), 101, "the console's own origin opens it");
            drop(r);

            // Wrong passwords get 401, then the address waits (429) even with the right one.
            for _ in 0..5 {
                assert_eq!(sign_in("wrong-one").await.unwrap().status(), 401);
            }
            let r = sign_in("wrong-one").await.unwrap();
            assert_eq!(r.status(), 429);
            assert_eq!(sign_in("dev-1001").await.unwrap().status(), 429);
            let r = client
                .post(url("/api/session"))
                .json(&json!({"seat": "9999", "password": "dev-9999"}))
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status(),
                401,
                "another seat behind the same address is not locked out by a neighbour's guesses"
            );

            // Signing out needs the token, then the cookie is worth nothing.
            let out = url("/api/session");
            let r = session(&out, "DELETE", &cookie, None, None).await;
            assert_eq!(r.status(), 403);
            let r = session(&out, "DELETE", &cookie, Some(&csrf), None).await;
            assert_eq!(r.status(), 204);
            assert!(r.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .contains("Max-Age=0"));
            for path in ["/api/session", "/api/knowledge"] {
                let r = session(&url(path), "GET", &cookie, None, None).await;
                assert_eq!(r.status(), 401, "{path}");
            }
        },
    )
    .await;
}

/// The wallboard's event stream lasts as long as its session: a supervisor's stream gets the
/// board at once, and ends once the session is signed out (a stream is checked at least every
/// 5 s); a seat's session gets no stream at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wallboard_stream_ends_with_its_session() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        |server| async move {
            let url = |p: &str| format!("{}{p}", server.http);
            let resp = reqwest::Client::new()
                .post(url("/api/session"))
                .json(&json!({"user": "sup-kunming", "token": "dev-sup-kunming"}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let cookie = resp.headers()["set-cookie"].to_str().unwrap();
            let cookie = cookie.split(';').next().unwrap().to_string();
            let csrf = resp.json::<Value>().await.unwrap()["csrf_token"]
                .as_str()
                .unwrap()
                .to_string();
            let mut stream =
                session(&url("/api/wallboard/events"), "GET", &cookie, None, None).await;
            assert_eq!(stream.status(), 200);
            assert_eq!(stream.headers()["content-type"], "text/event-stream");
            let first = tokio::time::timeout(std::time::Duration::from_secs(10), stream.chunk())
                .await
                .expect("the board at once")
                .unwrap()
                .expect("a chunk");
            let text = String::from_utf8_lossy(&first);
            assert!(text.starts_with("event: board\ndata: {"), "{text}");
            assert!(text.contains("\"name\":\"昆明市\""), "{text}");

            let out = session(&url("/api/session"), "DELETE", &cookie, Some(&csrf), None).await;
            assert!(out.status().is_success(), "{}", out.status());
            let ended = tokio::time::timeout(std::time::Duration::from_secs(15), async {
                while let Ok(Some(_)) = stream.chunk().await {}
            })
            .await;
            assert!(ended.is_ok(), "the stream outlived its session");

            // A seat's session is an operator's: no board.
            let resp = reqwest::Client::new()
                .post(url("/api/session"))
                .json(&json!({"seat": "1001", "password": "dev-1001"}))
                .send()
                .await
                .unwrap();
            let seat = resp.headers()["set-cookie"].to_str().unwrap();
            let seat = seat.split(';').next().unwrap().to_string();
            let refused = session(&url("/api/wallboard/events"), "GET", &seat, None, None).await;
            assert_eq!(refused.status(), 403);
        },
    )
    .await;
}
