//! Runs SIPp (Debian's `sip-tester`) against a test server.

use std::process::Command;

use super::server::project_dir;

/// True when the `sipp` command is there; in CI its absence is a failure, never a skip.
pub fn sipp_available() -> bool {
    let found = Command::new("sipp").arg("-v").output().is_ok();
    if !found {
        if std::env::var("CI").is_ok() {
            panic!("sipp is not installed: .ci/run installs the sip-tester package");
        }
        eprintln!("note: sipp not installed (apt-get install sip-tester): skipping");
    }
    found
}

/// What a SIPp run reported.
#[derive(Debug)]
pub struct SippRun {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `scenario` (a file under `sipp-scenarios/`) against `target` with extra arguments.
pub fn run_sipp(scenario: &str, target: std::net::SocketAddr, args: &[&str]) -> SippRun {
    run_sipp_on(scenario, target, 0, args)
}

/// [`run_sipp`] with SIPp's own SIP port `port` (0: any).
pub fn run_sipp_on(
    scenario: &str,
    target: std::net::SocketAddr,
    port: u16,
    args: &[&str],
) -> SippRun {
    let out = Command::new("sipp")
        .current_dir(project_dir(""))
        .arg("-sf")
        .arg(project_dir("sipp-scenarios").join(scenario))
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-nostdin"])
        .args(["-p", &port.to_string()])
        .args(["-timeout", "120s", "-timeout_error"])
        .args(args)
        .arg(target.to_string())
        .output()
        .expect("run sipp");
    SippRun {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

/// A free UDP port on loopback for a SIPp that must listen where the dialplan says (a
/// carrier's gateway): bound and let go (SIPp binds it a moment later).
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs a UAS `scenario` (a file under `sipp-scenarios/`) listening on `port` for one call,
/// with extra arguments; it ends after that call (or its 120 s timeout).
pub fn run_sipp_uas(scenario: &str, port: u16, args: &[&str]) -> SippRun {
    let out = Command::new("sipp")
        .current_dir(project_dir(""))
        .arg("-sf")
        .arg(project_dir("sipp-scenarios").join(scenario))
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-nostdin", "-m", "1"])
        .args(["-p", &port.to_string()])
        .args(["-timeout", "120s", "-timeout_error"])
        .args(args)
        .output()
        .expect("run sipp");
    SippRun {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}
