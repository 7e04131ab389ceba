//! The supervisors' wallboard in a real Chromium, live over Server-Sent Events: Kunming's
//! supervisor signs in; a caller enters the queue and the board shows them waiting; a seat
//! signs in and answers, and the board shows the seat on the call and today's service level
//! at 100 %; a second caller waits more than the short-abandon time and hangs up, and the
//! service level falls to 50 %, red against its 90 % target; the supervisor puts another seat
//! not ready from the board. The page is never reloaded (a mark set in it at the start is
//! still there at the end). The screenshot under docs/screenshots/ is taken here.

use crate::common;

use std::time::Duration;

use common::browser::{
    browser, click, driver, screenshot, sign_in_user, text_of, wait_attr, wait_contains, wait_for,
    wait_text,
};
use common::harness::run_on;
use common::phone::TestPhone;
use common::server::{Backend, ServerOptions};
use common::softphone::Softphone;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallboard_follows_the_queue_live() {
    let Some(driver) = driver().await else {
        return;
    };
    // Staffed around the clock; a short abandon is one within 1 s (5 s by default), so that
    // the second caller need wait only 2 s to count.
    let options = ServerOptions::with_dialplan_edit(|name, text| match name {
        "hotline.toml" => text
            .replace(
                "default_hours = [\"08:00-20:00\"]",
                "default_hours = [\"00:00-24:00\"]",
            )
            .replace("short_abandon_secs = 5", "short_abandon_secs = 1"),
        _ => text,
    });
    run_on(Backend::Sqlite, options, move |server| async move {
        let c = browser(&driver, &["--window-size=1500,1200"]).await;
        sign_in_user(
            &c,
            &server.http,
            "/wallboard",
            "sup-kunming",
            "#board:not([hidden]) #kpi-sl-today",
        )
        .await;
        assert_eq!(c.title().await.unwrap(), "12345 值班长监控");
        assert_eq!(wait_text(&c, "#live", "● 实时").await, "● 实时");
        assert_eq!(text_of(&c, "#board-name").await, "昆明市 实时监控");
        c.execute("window.notReloaded = true;", vec![])
            .await
            .unwrap();
        assert_eq!(text_of(&c, "#kpi-sl-today .value").await, "—");
        wait_for(&c, "tr[data-seat='1001'][data-state='logged-out']").await;

        // A caller waits: nobody is signed in.
        let mut first = TestPhone::udp(server.sip).await;
        let (mut first_call, resp) = first.call("087163611111", "12345").await;
        assert_eq!(resp.status_code.code(), 200);
        wait_for(&c, "#waiting-rows tr.waiting").await;
        assert_eq!(wait_text(&c, "#kpi-waiting .value", "1").await, "1");
        assert_eq!(text_of(&c, "#waiting-count").await, "1 人");

        // A seat signs in and answers: the caller leaves the queue, the seat is on the call,
        // and the call counts as answered within 15 s.
        let mut seat = Softphone::signed_in(&server, "1001").await;
        seat.take_call(Duration::from_secs(10), "seat 1001 rings")
            .await;
        wait_for(&c, "tr[data-seat='1001'][data-state='on-call']").await;
        assert_eq!(wait_text(&c, "#kpi-waiting .value", "0").await, "0");
        assert_eq!(
            wait_text(&c, "#kpi-sl-today .value", "100.0%").await,
            "100.0%",
            "the server's log:\n{}",
            server.log()
        );
        assert_eq!(
            wait_attr(&c, "#kpi-sl-today", "data-missed", "false").await,
            "false"
        );

        // A second caller waits past the short-abandon time (1 s here) and hangs up: half
        // of the calls answered within 15 s now, under the target.
        let mut second = TestPhone::udp(server.sip).await;
        let (mut second_call, resp) = second.call("087163622222", "12345").await;
        assert_eq!(resp.status_code.code(), 200);
        wait_for(&c, "#waiting-rows tr.waiting").await;
        let waited = wait_contains(&c, "#waiting-rows tr.waiting", "2 秒").await;
        assert!(waited.contains("2 秒"), "{waited}");
        second.bye(&mut second_call).await;
        assert_eq!(
            wait_text(&c, "#kpi-sl-today .value", "50.0%").await,
            "50.0%"
        );
        assert_eq!(
            wait_attr(&c, "#kpi-sl-today", "data-missed", "true").await,
            "true"
        );
        let offered = wait_contains(&c, "#kpi-offered", "放弃 1").await;
        assert!(offered.contains("放弃 1（其中 1 秒内 0）"), "{offered}");

        // The supervisor puts seat 1002 not ready from the board.
        let _other = Softphone::signed_in(&server, "1002").await;
        wait_for(&c, "tr[data-seat='1002'][data-state='available']").await;
        click(&c, "tr[data-seat='1002'] button[data-to='not-ready']").await;
        wait_for(&c, "tr[data-seat='1002'][data-state='not-ready']").await;
        let row = text_of(&c, "tr[data-seat='1002']").await;
        assert!(row.contains("示忙（值班长置忙）"), "{row}");
        let (_, live) = server.get_json("/api/queues").await;
        let state = live["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == "1002")
            .map(|a| a["state"]["state"].clone());
        assert_eq!(state, Some(serde_json::json!("not-ready")), "{live}");

        // The province's supervisor sees the whole province, or picks a platform; a
        // prefecture's sees its own only, an operator no board at all.
        let (status, province) = server.get_json("/api/wallboard").await;
        assert_eq!(status, 200, "{province}");
        assert_eq!(province["name"], "全省");
        assert_eq!(province["platforms"].as_array().unwrap().len(), 17);
        let (status, dali) = server.get_json("/api/wallboard?platform=532900").await;
        assert_eq!(
            (status, dali["name"].as_str()),
            (200, Some("大理白族自治州")),
            "{dali}"
        );
        for (token, path, want) in [
            ("dev-sup-kunming", "/api/wallboard?platform=532900", 403),
            (
                "dev-sup-kunming",
                "/api/wallboard/events?platform=532900",
                403,
            ),
            ("dev-op-kunming-1", "/api/wallboard", 403),
            ("dev-unit-kmhb", "/api/wallboard/events", 403),
        ] {
            let (status, body) = server.request(Some(token), "GET", path, None).await;
            assert_eq!(status, want, "{token} {path}: {body}");
        }

        // All of it without a reload.
        let mark = c
            .execute("return window.notReloaded === true;", vec![])
            .await
            .unwrap();
        assert_eq!(mark, serde_json::json!(true));
        screenshot(&c, "wallboard.png").await;
        first.bye(&mut first_call).await;
        c.close().await.unwrap();
    })
    .await;
}
