//! SIPp's caller scenario against the real server: every call it places gets a case.

use crate::common;
use crate::on_both_backends;

use std::sync::Arc;
use std::time::Duration;

use common::server::TestServer;
use common::sipp::{run_sipp, sipp_available};

const CALLS: usize = 10;

on_both_backends!(
    every_sipp_call_gets_a_case,
    |server: Arc<TestServer>| async move {
        if !sipp_available() {
            return;
        }
        let target = server.sip;
        // One Kunming fixed-line number per call, so each call's case can be found.
        let callers: Vec<String> = (1..=CALLS).map(|n| format!("08716310{n:04}")).collect();
        let inf = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(
            inf.path(),
            format!("SEQUENTIAL\n{};\n", callers.join(";\n")),
        )
        .unwrap();
        let inf_path = inf.path().to_str().unwrap().to_string();
        let media_port = (20000 + 2 * (rand::random::<u16>() % 5000)).to_string();
        let run = tokio::task::spawn_blocking(move || {
            run_sipp(
                "caller.xml",
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
                    "5",
                    "-l",
                    "10",
                ],
            )
        })
        .await
        .unwrap();
        assert!(
            run.success,
            "SIPp calls failed:\n{}\n{}",
            run.stdout, run.stderr
        );

        for (n, caller) in callers.iter().enumerate() {
            let mut found = false;
            for _ in 0..50 {
                let cases = server.cases_of(caller).await;
                if cases.len() == 1 && cases[0]["calls"][0]["end_cause"] == "caller-hangup" {
                    assert_eq!(cases[0]["platform"], "530100");
                    found = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(found, "SIPp call {n} ({caller}) has no ended case");
        }
    }
);
