//! Refusals a real front end must get right: overload (503 with Retry-After), an offer with
//! no common codec (488), `check-dialplan` naming the file and line of a mistake, and `digest-ha1`.

use crate::common;

use std::process::Command;

use common::harness::run_on;
use common::phone::{header_value, TestPhone};
use common::server::{project_dir, Backend, ServerOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_max_calls_a_caller_gets_503_with_retry_after() {
    let options = ServerOptions {
        extra_args: vec!["--max-calls".into(), "1".into()],
        ..Default::default()
    };
    run_on(Backend::Sqlite, options, |server| async move {
        let mut first = TestPhone::udp(server.sip).await;
        let (mut call, resp) = first.call("087163604444", "12345").await;
        assert_eq!(resp.status_code.code(), 200);

        let mut second = TestPhone::udp(server.sip).await;
        let mut refused = second.invite("087163605555", "12345", "").await;
        let resp = second.final_response(&mut refused).await;
        assert_eq!(resp.status_code.code(), 503, "{resp}");
        let text = resp.to_string();
        assert_eq!(
            header_value(&text, "Retry-After").as_deref(),
            Some("5"),
            "{text}"
        );
        second.ack_failure(&refused).await;
        assert!(
            server.cases_of("087163605555").await.is_empty(),
            "no case for a refused call"
        );

        // Once the first call ends, calls are taken again.
        first.bye(&mut call).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let (_, resp) = second.call("087163605555", "12345").await;
        assert_eq!(resp.status_code.code(), 200);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_without_g711_gets_488() {
    run_on(Backend::Sqlite, ServerOptions::default(), |server| async move {
        let mut phone = TestPhone::udp(server.sip).await;
        let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n";
        let mut call = phone
            .invite_with_body("087163606666", "12345", "", sdp)
            .await;
        let resp = phone.final_response(&mut call).await;
        assert_eq!(resp.status_code.code(), 488, "{resp}");
        phone.ack_failure(&call).await;
    })
    .await;
}

#[test]
fn check_dialplan_names_file_line_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(project_dir("dialplan")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let bin = env!("CARGO_BIN_EXE_hotline12345");
    let ok = Command::new(bin)
        .arg("check-dialplan")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let platforms = dir.path().join("platforms.toml");
    let text = std::fs::read_to_string(&platforms).unwrap();
    std::fs::write(
        &platforms,
        text.replacen("area_code = \"0874\"", "area_code = \"874\"", 1),
    )
    .unwrap();
    let bad = Command::new(bin)
        .arg("check-dialplan")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("platforms.toml:"), "{err}");
    assert!(
        err.contains("area_code \"874\" must be 3 or 4 digits starting with 0"),
        "{err}"
    );

    // The server refuses to start on it, with the same message.
    let serve = Command::new(bin)
        .args(["serve", "--dialplan"])
        .arg(dir.path())
        .args(["--data"])
        .arg(dir.path().join("data"))
        .args([
            "--sip-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!serve.status.success());
    assert!(String::from_utf8_lossy(&serve.stderr).contains("platforms.toml:"));
}

/// `digest-ha1` reads the password from standard input and prints the two lines the bundled
/// agents.toml keeps for that seat (the seats there register with "dev-<id>").
#[test]
fn digest_ha1_prints_the_lines_agents_toml_keeps() {
    use std::io::Write;
    let bin = env!("CARGO_BIN_EXE_hotline12345");
    let mut child = Command::new(bin)
        .args(["digest-ha1", "1002"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"dev-1002\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines = String::from_utf8(out.stdout).unwrap();
    let agents = std::fs::read_to_string(project_dir("dialplan").join("agents.toml")).unwrap();
    let seat = agents
        .split("[[agent]]")
        .find(|s| s.contains("id = \"1002\""))
        .unwrap();
    for line in lines.lines() {
        assert!(line.starts_with("ha1_"), "{lines}");
        assert!(
            seat.contains(line),
            "{line} not in the bundled seat 1002: {seat}"
        );
    }
    assert_eq!(lines.lines().count(), 2);
    // A short password is refused, and nothing is printed.
    let mut child = Command::new(bin)
        .args(["digest-ha1", "1002"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"abc\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}
