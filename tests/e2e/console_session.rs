//! An operator signs in to the console with the seat's id and password: a session cookie
//! (HttpOnly, SameSite=Strict) stands in for a bearer token, a change without the session's
//! CSRF token is refused, wrong passwords are slowed down, and signing out ends the session.

use crate::common;

use common::harness::run_on;
use common::server::{Backend, ServerOptions};
use serde_json::{json, Value};

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

            let (status, who) = {
                let r = client
                    .get(url("/api/session"))
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            };
            assert_eq!((status, who["seat"].as_str()), (200, Some("1001")));
            // The cookie reads as an operator of the seat's platform.
            let r = client
                .get(url("/api/knowledge/search?q=%E7%A4%BE%E4%BF%9D"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            assert_eq!(r.json::<Value>().await.unwrap()["platform"], "530100");

            // A change needs the CSRF token as well as the cookie.
            let change = json!({"state": "not-ready", "reason": "培训"});
            let r = client
                .post(url("/api/agents/1001/state"))
                .header("cookie", &cookie)
                .json(&change)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403);
            let r = client
                .post(url("/api/agents/1001/state"))
                .header("cookie", &cookie)
                .header("x-csrf-token", "0".repeat(csrf.len()))
                .json(&change)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403, "a wrong token is no token");
            let r = client
                .post(url("/api/agents/1001/state"))
                .header("cookie", &cookie)
                .header("x-csrf-token", &csrf)
                .json(&change)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);

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
            let r = client
                .delete(url("/api/session"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403);
            let r = client
                .delete(url("/api/session"))
                .header("cookie", &cookie)
                .header("x-csrf-token", &csrf)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 204);
            assert!(r.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .contains("Max-Age=0"));
            let r = client
                .get(url("/api/session"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401);
            let r = client
                .get(url("/api/knowledge"))
                .header("cookie", &cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401);
        },
    )
    .await;
}
