//! SIPp leaves voice messages of real speech after hours; every caller's message is stored.

use crate::common;

use std::sync::Arc;

use common::harness::run_on;
use common::server::{Backend, ServerOptions, TestServer};
use common::sipp::{run_sipp, sipp_available};

const CALLS: usize = 4;

/// Never staffed, with the beep as the (short) after-hours greeting so the run stays short.
fn options() -> ServerOptions {
    ServerOptions::with_dialplan_edit(|name, text| match name {
        "hotline.toml" => text.replace("default_hours = [\"08:00-20:00\"]", "default_hours = []"),
        "platforms.toml" => text
            .replace("hours = [\"00:00-24:00\"]", "hours = []")
            .replace(
                "level = \"",
                "after_hours_prompt = \"beep.wav\"\nlevel = \"",
            ),
        _ => text,
    })
}

async fn scenario(server: Arc<TestServer>) {
    if !sipp_available() {
        return;
    }
    let callers: Vec<String> = (1..=CALLS).map(|n| format!("08716320{n:04}")).collect();
    let inf = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        inf.path(),
        format!("SEQUENTIAL\n{};\n", callers.join(";\n")),
    )
    .unwrap();
    let inf_path = inf.path().to_str().unwrap().to_string();
    let media_port = (20000 + 2 * (rand::random::<u16>() % 5000)).to_string();
    let target = server.sip;
    let run = tokio::task::spawn_blocking(move || {
        run_sipp(
            "voicemail.xml",
            target,
            &[
                "-inf",
                &inf_path,
                "-s",
                "12345",
                "-mp",
                &media_port,
                "-m",
                &CALLS.to_string(),
                "-r",
                "4",
                "-l",
                "4",
            ],
        )
    })
    .await
    .unwrap();
    assert!(run.success, "SIPp failed:\n{}\n{}", run.stdout, run.stderr);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    for caller in &callers {
        let cases = server.cases_of(caller).await;
        assert_eq!(cases.len(), 1, "{caller}");
        let vms = cases[0]["voicemails"].as_array().unwrap();
        assert_eq!(vms.len(), 1, "{caller} left a message: {}", cases[0]);
        assert_eq!(vms[0]["status"], "awaiting-callback");
        let ms = vms[0]["duration_ms"].as_i64().unwrap();
        assert!(
            ms >= 6000,
            "{caller}: most of the 8.3 s sentence was recorded, got {ms} ms"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_callers_leave_voice_messages_sqlite() {
    run_on(Backend::Sqlite, options(), scenario).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sipp_callers_leave_voice_messages_postgres() {
    run_on(Backend::Postgres, options(), scenario).await;
}
