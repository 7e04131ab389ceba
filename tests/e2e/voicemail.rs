//! Outside staffed hours callers leave a voice message that becomes a callback case. The
//! server's clock is the test's dialplan: hours `[]` means never staffed.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::audio::{correlation, decode_stream, prompt_samples, through_codec};
use common::harness::run_on;
use common::phone::{PhoneStream, TestPhone};
use common::server::{Backend, ServerOptions, TestServer};
use hotline12345::media::g711::Codec;

/// A 600 Hz tone, then two seconds of something like speech: a gliding voiced sound with three
/// harmonics, its loudness rising and falling four times a second like syllables.
fn tone_and_speech() -> Vec<i16> {
    let tone = (0..12_000).map(|i| {
        (f64::sin(2.0 * std::f64::consts::PI * 600.0 * i as f64 / 8000.0) * 8000.0) as i16
    });
    let mut phase = 0.0f64;
    let speech = (0..16_000).map(move |i| {
        let t = i as f64 / 8000.0;
        let pitch = 140.0 + 60.0 * f64::sin(2.0 * std::f64::consts::PI * 0.7 * t);
        phase += 2.0 * std::f64::consts::PI * pitch / 8000.0;
        let voiced = phase.sin() + 0.5 * (2.0 * phase).sin() + 0.25 * (3.0 * phase).sin();
        let syllables = 0.55 + 0.45 * f64::sin(2.0 * std::f64::consts::PI * 4.0 * t);
        (voiced * syllables * 6000.0) as i16
    });
    tone.chain(speech).collect()
}

async fn post_json(
    server: &TestServer,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}{}", server.http, path))
        .bearer_auth(common::server::SUPERVISOR_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(serde_json::Value::Null))
}

/// Calls after hours, checks the greeting, skips it with `#`, and waits out the beep.
async fn call_after_hours(
    server: &TestServer,
    caller: &str,
) -> (TestPhone, std::net::SocketAddr, PhoneStream) {
    let mut phone = TestPhone::udp(server.sip).await;
    let (call, resp) = phone.call(caller, "12345").await;
    assert_eq!(resp.status_code.code(), 200, "{resp}");
    // Half of the (1 s) test greeting, so that `#` comes while it plays.
    let packets = phone.receive_rtp(25, Duration::from_secs(5)).await;
    assert_eq!(packets.len(), 25);
    let heard = decode_stream(Codec::Pcmu, &packets);
    let greeting = prompt_samples("after-hours.wav");
    assert_eq!(
        heard,
        through_codec(Codec::Pcmu, &greeting[..heard.len()]),
        "the after-hours greeting"
    );
    let to = TestPhone::server_rtp(&call);
    let mut stream = PhoneStream::default();
    phone.send_dtmf(to, &mut stream, '#').await;
    // The beep plays before recording starts; then the server plays nothing.
    phone
        .wait_quiet(Duration::from_millis(200), Duration::from_secs(10))
        .await;
    (phone, to, stream)
}

async fn voicemails(server: &TestServer, query: &str) -> Vec<serde_json::Value> {
    let (status, body) = server.get_json(&format!("/api/voicemails{query}")).await;
    assert_eq!(status, 200, "{body}");
    body.as_array().cloned().unwrap()
}

async fn recorded_samples(server: &TestServer, id: i64) -> Vec<i16> {
    server.voicemail_samples(id).await
}

fn never_staffed(silence_secs: u64) -> ServerOptions {
    ServerOptions::with_dialplan_edit(move |name, text| match name {
        "hotline.toml" => text
            .replace("default_hours = [\"08:00-20:00\"]", "default_hours = []")
            .replace(
                "silence_secs = 5",
                &format!("silence_secs = {silence_secs}"),
            ),
        "platforms.toml" => text.replace("hours = [\"00:00-24:00\"]", "hours = []"),
        _ => text,
    })
}

macro_rules! after_hours_test {
    ($name:ident, $silence:expr, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run_on(Backend::Sqlite, never_staffed($silence), $body).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run_on(Backend::Postgres, never_staffed($silence), $body).await;
            }
        }
    };
}

after_hours_test!(
    a_message_ended_by_hash_holds_what_was_said,
    5,
    |server: Arc<TestServer>| async move {
        let (mut phone, to, mut stream) = call_after_hours(&server, "087163607777").await;
        let said = tone_and_speech();
        phone.send_audio(to, &mut stream, &said).await;
        phone.send_dtmf(to, &mut stream, '#').await;
        assert!(
            phone.expect_bye(Duration::from_secs(15)).await,
            "the server hangs up after saving"
        );

        let list = voicemails(&server, "?platform=530100").await;
        assert_eq!(list.len(), 1, "{list:?}");
        let vm = &list[0];
        assert_eq!(vm["caller"], "087163607777");
        assert_eq!(vm["status"], "awaiting-callback");
        assert!(vm["callback_due"].is_string());
        let recorded = recorded_samples(&server, vm["id"].as_i64().unwrap()).await;
        let expected = through_codec(Codec::Pcmu, &said);
        assert!(
            recorded.len() >= expected.len(),
            "{} < {}",
            recorded.len(),
            expected.len()
        );
        assert!(
            recorded.len() <= expected.len() + 8000,
            "no more than a second of extra audio"
        );
        let tone_corr = correlation(&recorded, &expected[..12_000]);
        let speech_corr = correlation(&recorded, &expected[12_000..]);
        assert!(
            tone_corr > 0.99 && speech_corr > 0.99,
            "correlation {tone_corr} {speech_corr}"
        );
        assert_eq!(
            vm["duration_ms"].as_i64().unwrap(),
            recorded.len() as i64 / 8
        );

        // The case carries the message and awaits its callback.
        let cases = server.cases_of("087163607777").await;
        assert_eq!(cases[0]["state"], "accepted");
        assert_eq!(cases[0]["callback_status"], "awaiting");
        assert_eq!(cases[0]["voicemails"][0]["id"], vm["id"]);
        assert_eq!(cases[0]["calls"][0]["end_cause"], "voicemail-done");

        // Callbacks: not reached, then reached.
        let path = format!("/api/voicemails/{}/callbacks", vm["id"]);
        let (status, body) = post_json(
            &server,
            &path,
            serde_json::json!({"reached": false, "operator": "op1", "note": "no answer"}),
        )
        .await;
        assert_eq!(
            (status, body["attempts"].as_i64()),
            (200, Some(1)),
            "{body}"
        );
        let (status, body) = post_json(&server, &path, serde_json::json!({"reached": "yes"})).await;
        assert_eq!(status, 422, "{body}");
        let (status, body) = post_json(
            &server,
            &path,
            serde_json::json!({"reached": true, "operator": "op1"}),
        )
        .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("called-back")),
            "{body}"
        );
        let (status, _) = post_json(
            &server,
            &path,
            serde_json::json!({"reached": true, "operator": "op1"}),
        )
        .await;
        assert_eq!(status, 409, "already called back");
        assert!(
            voicemails(&server, "?platform=530100").await.is_empty(),
            "nothing awaits a callback"
        );
        assert_eq!(voicemails(&server, "?status=all").await.len(), 1);
    }
);

after_hours_test!(
    silence_ends_the_message,
    2,
    |server: Arc<TestServer>| async move {
        let (mut phone, to, mut stream) = call_after_hours(&server, "087163608888").await;
        let tone: Vec<i16> = tone_and_speech()[..8000].to_vec();
        let mut audio = tone.clone();
        audio.extend(std::iter::repeat_n(0i16, 8000 * 4));
        phone.send_audio(to, &mut stream, &audio).await;
        assert!(phone.expect_bye(Duration::from_secs(10)).await);
        let list = voicemails(&server, "?platform=530100").await;
        assert_eq!(list.len(), 1);
        let ms = list[0]["duration_ms"].as_i64().unwrap();
        assert!(
            (2500..=3800).contains(&ms),
            "a second of tone and two of silence, got {ms} ms"
        );
        let recorded = recorded_samples(&server, list[0]["id"].as_i64().unwrap()).await;
        assert!(correlation(&recorded, &through_codec(Codec::Pcmu, &tone)) > 0.99);
    }
);

after_hours_test!(
    an_empty_message_leaves_no_voicemail_but_the_case_stays,
    2,
    |server: Arc<TestServer>| async move {
        let (mut phone, to, mut stream) = call_after_hours(&server, "087163609999").await;
        phone
            .send_audio(to, &mut stream, &vec![0i16; 8000 * 4])
            .await;
        assert!(phone.expect_bye(Duration::from_secs(10)).await);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(voicemails(&server, "?status=all").await.is_empty());
        let cases = server.cases_of("087163609999").await;
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0]["calls"][0]["end_cause"], "voicemail-done");
        assert_eq!(cases[0]["state"], "accepted");
    }
);

after_hours_test!(star_records_the_message_again, 5, |server: Arc<
    TestServer,
>| async move {
    let (mut phone, to, mut stream) = call_after_hours(&server, "087163600001").await;
    let first: Vec<i16> = (0..8000)
        .map(|i| (f64::sin(i as f64 * 0.9) * 7000.0) as i16)
        .collect();
    phone.send_audio(to, &mut stream, &first).await;
    phone.send_dtmf(to, &mut stream, '*').await;
    // The new beep, then quiet: recording again. Wait for the beep to begin first: on a
    // loaded machine the server may take longer than the quiet gap to react to the key.
    assert!(
        !phone
            .receive_rtp(1, Duration::from_secs(10))
            .await
            .is_empty(),
        "a new beep after *"
    );
    phone
        .wait_quiet(Duration::from_millis(200), Duration::from_secs(10))
        .await;
    let second = tone_and_speech();
    phone.send_audio(to, &mut stream, &second).await;
    phone.send_dtmf(to, &mut stream, '#').await;
    assert!(phone.expect_bye(Duration::from_secs(15)).await);
    let list = voicemails(&server, "?status=all").await;
    assert_eq!(list.len(), 1, "only the second take is kept");
    let recorded = recorded_samples(&server, list[0]["id"].as_i64().unwrap()).await;
    // The second take from its second half-second on (tone, then speech), so that a recording
    // that begins a little after the beep still matches; the first take is gone.
    assert!(
        correlation(
            &recorded,
            &through_codec(Codec::Pcmu, &second[4_000..16_000])
        ) > 0.99
    );
    assert!(correlation(&recorded, &through_codec(Codec::Pcmu, &first)) < 0.5);
});

/// A reload validates first; a good one changes the hours of a running server, and a caller
/// waiting when the platform closes is offered voicemail instead of being dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_checks_first_and_a_closing_platform_offers_voicemail() {
    let options = ServerOptions::default();
    let dir = options.dialplan.clone();
    run_on(Backend::Sqlite, options, move |server| async move {
        let mut phone = TestPhone::udp(server.sip).await;
        let (_call, resp) = phone.call("087163600002", "12345").await;
        assert_eq!(resp.status_code.code(), 200);
        let welcome = phone.receive_rtp(25, Duration::from_secs(3)).await;
        let heard = decode_stream(Codec::Pcmu, &welcome);
        assert_eq!(
            heard,
            through_codec(
                Codec::Pcmu,
                &prompt_samples("welcome-530100.wav")[..heard.len()]
            )
        );

        // A broken file is refused, and the running dialplan stays.
        let platforms = dir.join("platforms.toml");
        let good = std::fs::read_to_string(&platforms).unwrap();
        std::fs::write(
            &platforms,
            good.replace("level = \"province\"", "level = \"state\""),
        )
        .unwrap();
        let (status, body) =
            post_json(&server, "/api/dialplan/reload", serde_json::json!({})).await;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["error"].as_str().unwrap().contains("platforms.toml:"),
            "{body}"
        );

        // Close every platform: the waiting caller moves to voicemail within a second or two.
        std::fs::write(
            &platforms,
            good.replace("hours = [\"00:00-24:00\"]", "hours = []"),
        )
        .unwrap();
        let hotline = dir.join("hotline.toml");
        let text = std::fs::read_to_string(&hotline).unwrap();
        std::fs::write(
            &hotline,
            text.replace("default_hours = [\"00:00-24:00\"]", "default_hours = []"),
        )
        .unwrap();
        let (status, body) =
            post_json(&server, "/api/dialplan/reload", serde_json::json!({})).await;
        assert_eq!(
            (status, body["platforms"].as_i64()),
            (200, Some(17)),
            "{body}"
        );

        let after = phone.receive_rtp(250, Duration::from_secs(6)).await;
        let heard = decode_stream(Codec::Pcmu, &after);
        let greeting = through_codec(Codec::Pcmu, &prompt_samples("after-hours.wav")[..8000]);
        let found = heard
            .windows(greeting.len())
            .any(|w| w == greeting.as_slice());
        assert!(found, "the after-hours greeting follows the closing");
    })
    .await;
}

/// A crash mid-message keeps what was received up to the crash (flushed each second).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_message_keeps_what_was_received() {
    run_on(
        Backend::Sqlite,
        never_staffed(5),
        |server: Arc<TestServer>| async move {
            let (phone, to, mut stream) = call_after_hours(&server, "087163600003").await;
            let said = tone_and_speech();
            phone.send_audio(to, &mut stream, &said[..24_000]).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            server.crash();
            let restarted =
                TestServer::start_in(&server.database_url, &server.data, &never_staffed(5));
            let list = voicemails(&restarted, "?platform=530100").await;
            if list.is_empty() {
                eprintln!("--- restarted server ---\n{}", restarted.log());
            }
            assert_eq!(
                list.len(),
                1,
                "the interrupted message was recovered: {list:?}"
            );
            let ms = list[0]["duration_ms"].as_i64().unwrap();
            assert!(ms >= 2000, "at least the flushed seconds, got {ms} ms");
            let recorded = recorded_samples(&restarted, list[0]["id"].as_i64().unwrap()).await;
            let expected = through_codec(Codec::Pcmu, &said[..16_000]);
            assert!(correlation(&recorded, &expected) > 0.99);
            drop(restarted);
        },
    )
    .await;
}

/// With `voicemail_notice`, the platform's mailbox is mailed each voice message with its audio
/// (the relay is aiosmtpd, run by the test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voice_message_is_mailed_to_the_platforms_mailbox_with_its_audio() {
    if !common::mail::aiosmtpd_available() {
        return;
    }
    let relay = Arc::new(common::mail::Relay::start().await);
    let addr = relay.addr;
    let options = ServerOptions::with_dialplan_edit(move |name, text| match name {
        "hotline.toml" => text.replace("default_hours = [\"08:00-20:00\"]", "default_hours = []"),
        "platforms.toml" => text.replace("hours = [\"00:00-24:00\"]", "hours = []"),
        "channels.toml" => text
            .replace("relay = \"\"", &format!("relay = \"{addr}\""))
            .replace("voicemail_notice = false", "voicemail_notice = true"),
        _ => text,
    });
    run_on(Backend::Sqlite, options, move |server| async move {
        let (mut phone, to, mut stream) = call_after_hours(&server, "087163608888").await;
        phone.send_audio(to, &mut stream, &tone_and_speech()).await;
        phone.send_dtmf(to, &mut stream, '#').await;
        assert!(phone.expect_bye(Duration::from_secs(15)).await);
        let case = server.cases_of("087163608888").await[0]["case_number"]
            .as_str()
            .unwrap()
            .to_string();
        let vm = voicemails(&server, "?platform=530100").await[0].clone();
        let mail = relay
            .wait_for("noticing the voice message", |m| {
                m["subject"].as_str().unwrap_or("").contains(&case)
            })
            .await;
        assert!(
            mail["to"].as_str().unwrap().contains("12345@km.gov.cn"),
            "{mail}"
        );
        assert!(
            mail["text"].as_str().unwrap().contains("087163608888"),
            "{mail}"
        );
        let audio = &mail["attachments"][0];
        assert_eq!(audio["type"], "audio/wav", "{mail}");
        assert_eq!(
            audio["size"], vm["size_bytes"],
            "the whole recording: {mail}"
        );
    })
    .await;
}
