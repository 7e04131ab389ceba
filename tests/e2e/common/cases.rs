//! Cases made and moved through the API, as the page tests and the workflow tests need them:
//! a call that becomes a case, and workflow steps with a role's token.

use serde_json::{json, Value};

use super::phone::TestPhone;
use super::server::TestServer;

pub const SUP_PROVINCE: &str = "dev-sup-province";
pub const SUP_KUNMING: &str = "dev-sup-kunming";
pub const OP_KUNMING: &str = "dev-op-kunming-1";
pub const OP_DALI: &str = "dev-op-dali-1";
pub const UNIT_KMHB: &str = "dev-unit-kmhb";
pub const UNIT_KMZJ: &str = "dev-unit-kmzj";

/// An API request with a JSON body, as `token`'s user.
pub async fn api(
    server: &TestServer,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let body = body.map(|b| ("application/json", b.to_string()));
    server.request(token, method, path, body).await
}

/// A workflow step on `case`.
pub async fn event(server: &TestServer, token: &str, case: &str, body: Value) -> (u16, Value) {
    api(
        server,
        Some(token),
        "POST",
        &format!("/api/cases/{case}/events"),
        Some(body),
    )
    .await
}

/// The workflow view of `case` (state, unit, deadlines, history), as Kunming's supervisor
/// reads it.
pub async fn history(server: &TestServer, case: &str) -> Value {
    let (status, wf) = api(
        server,
        Some(SUP_KUNMING),
        "GET",
        &format!("/api/cases/{case}/history"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{wf}");
    wf
}

/// A caller's call, answered by the greeting and hung up; returns its case number.
pub async fn a_call(server: &TestServer, caller: &str) -> String {
    let mut phone = TestPhone::udp(server.sip).await;
    let (mut call, resp) = phone.call(caller, "12345").await;
    assert_eq!(resp.status_code.code(), 200);
    phone.bye(&mut call).await;
    server.cases_of(caller).await[0]["case_number"]
        .as_str()
        .unwrap()
        .to_string()
}

/// A Kunming caller's case classified as `category` with the work order `order` and
/// dispatched to `unit` by Kunming's operator; returns its case number.
pub async fn dispatched(
    server: &TestServer,
    caller: &str,
    category: &str,
    order: Value,
    unit: &str,
) -> String {
    let case = a_call(server, caller).await;
    let (st, body) = event(
        server,
        OP_KUNMING,
        &case,
        json!({"action": "classify", "category": category, "order": order}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let (st, body) = event(
        server,
        OP_KUNMING,
        &case,
        json!({"action": "dispatch", "unit": unit}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    case
}

/// A Kunming caller's complaint with the work order `order`, taken through the whole loop:
/// dispatched to kmhb, signed, replied to with `reply`, called back (satisfied), closed and
/// published; returns its case number.
pub async fn published(server: &TestServer, caller: &str, order: Value, reply: &str) -> String {
    let case = dispatched(server, caller, "complaint", order, "kmhb").await;
    for (token, step) in [
        (UNIT_KMHB, json!({"action": "sign"})),
        (UNIT_KMHB, json!({"action": "reply", "reply": reply})),
        (
            OP_KUNMING,
            json!({"action": "callback", "reached": true, "satisfaction": "satisfied"}),
        ),
        (SUP_KUNMING, json!({"action": "close"})),
        (SUP_KUNMING, json!({"action": "publish"})),
    ] {
        let (st, body) = event(server, token, &case, step).await;
        assert_eq!(st, 200, "{body}");
    }
    case
}
