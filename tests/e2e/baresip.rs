//! A real softphone from Debian as an operator seat: baresip (package `baresip-core`) run by
//! `sipp-scenarios/baresip-seat.sh` registers with digest authentication, is offered a caller
//! from the Kunming queue, answers by itself and talks: the caller hears what baresip plays,
//! baresip records what the caller says, and the case keeps both legs and both recordings.
//!
//! CI installs baresip-core (`.ci/run`); elsewhere a missing baresip skips this test with a
//! note.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::audio::{correlation, decode_stream, tone};
use common::harness::run_on;
use common::phone::{PhoneStream, TestPhone};
use common::server::{project_dir, Backend, ServerOptions, TestServer};
use hotline12345::media::g711::Codec;

/// True when baresip is installed; in CI its absence is a failure, never a skip.
fn baresip_available() -> bool {
    let found = Command::new("sh")
        .args(["-c", "command -v baresip"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var("CI").is_ok() {
            panic!("baresip is not installed: .ci/run installs the baresip-core package");
        }
        eprintln!("note: baresip not installed (apt-get install baresip-core): skipping");
    }
    found
}

/// baresip running as a seat, its output collected line by line.
struct Baresip {
    child: Child,
    output: Arc<Mutex<Vec<String>>>,
    dir: tempfile::TempDir,
}

impl Baresip {
    fn start(server: &TestServer, seat: &str, password: &str, says: &[i16]) -> Baresip {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("says.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut wav = hound::WavWriter::create(&source, spec).unwrap();
        for &s in says {
            wav.write_sample(s).unwrap();
        }
        wav.finalize().unwrap();
        // Its own SIP port (UDP and TCP, and the next one for TLS): below the range the OS
        // hands out, where the other tests' thousands of connections never land, and proved
        // free by binding them a moment.
        let port = (0..1000)
            .map(|_| 10_000 + 2 * (rand::random::<u16>() % 5000))
            .find(|&p| {
                let udp = std::net::UdpSocket::bind(("127.0.0.1", p));
                let tcp = std::net::TcpListener::bind(("127.0.0.1", p));
                let tls = std::net::TcpListener::bind(("127.0.0.1", p + 1));
                udp.is_ok() && tcp.is_ok() && tls.is_ok()
            })
            .expect("a free port for baresip");
        let mut child = Command::new(project_dir("sipp-scenarios").join("baresip-seat.sh"))
            .arg(server.sip.to_string())
            .args([seat, password])
            .arg(dir.path().join("phone"))
            .arg(&source)
            .arg(port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start baresip-seat.sh");
        let output = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    output.lock().unwrap().push(line);
                }
            });
        }
        Baresip { child, output, dir }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    /// Waits until a line of its output contains `text`.
    async fn said(&self, text: &str, wait: Duration) -> bool {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            if self.output.lock().unwrap().iter().any(|l| l.contains(text)) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// What it heard: its sndfile dump of decoded audio.
    fn heard(&self) -> Vec<i16> {
        let folder = self.dir.path().join("phone/received");
        let file = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
            .unwrap_or_else(|| panic!("no dump in {}: {}", folder.display(), self.output()));
        hound::WavReader::open(file)
            .unwrap()
            .into_samples::<i16>()
            .map(Result::unwrap)
            .collect()
    }

    /// Stops it with SIGTERM (it un-registers), SIGKILL after 5 s.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn baresip_answers_a_caller(server: Arc<TestServer>) {
    // baresip says a 700 Hz tone for a minute; the caller says 400 Hz.
    let mut phone = Baresip::start(&server, "1003", "dev-1003", &tone(700.0, 8000 * 60));
    assert!(
        phone.said("200 OK", Duration::from_secs(10)).await,
        "baresip registers with digest authentication:\n{}",
        phone.output()
    );
    let (_, agents) = server.get_json("/api/agents?platform=530100").await;
    let seat = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "1003")
        .unwrap()
        .clone();
    assert_eq!(seat["registered"], true, "{seat}");

    let mut caller = TestPhone::udp(server.sip).await;
    let (mut call, resp) = caller.call("087163688888", "12345").await;
    assert_eq!(resp.status_code.code(), 200);
    assert!(
        phone
            .said("Call established", Duration::from_secs(10))
            .await,
        "baresip is offered the call and answers:\n{}",
        phone.output()
    );
    // Both talk for 3 s once the bridge is up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = caller.receive_rtp(1000, Duration::from_millis(50)).await;
    let said = tone(400.0, 24_000);
    let mut stream = PhoneStream::default();
    let (_, heard) = tokio::join!(
        caller.send_audio(TestPhone::server_rtp(&call), &mut stream, &said),
        caller.receive_rtp(150, Duration::from_secs(5)),
    );
    let heard = decode_stream(Codec::Pcmu, &heard);
    let c = correlation(&heard, &tone(700.0, 800));
    assert!(c > 0.95, "the caller hears baresip's 700 Hz: {c}");

    assert_eq!(caller.bye(&mut call).await.status_code.code(), 200);
    assert!(
        phone.said("terminated", Duration::from_secs(5)).await,
        "the server hangs up baresip's leg with the caller's:\n{}",
        phone.output()
    );
    phone.stop();
    let c = correlation(&phone.heard(), &tone(400.0, 800));
    assert!(c > 0.95, "baresip heard the caller's 400 Hz: {c}");

    // The case keeps baresip's leg and both sides' recordings.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cases = server.cases_of("087163688888").await;
    let leg = &cases[0]["calls"][0]["agent_legs"][0];
    assert_eq!(
        (&leg["agent"], &leg["outcome"]),
        (&"1003".into(), &"completed".into()),
        "{leg}"
    );
    let number = cases[0]["case_number"].as_str().unwrap();
    let (_, recs) = server
        .get_json(&format!("/api/cases/{number}/recordings"))
        .await;
    let complete = recs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "complete" && r["agent"] == "1003")
        .count();
    assert_eq!(complete, 2, "{recs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_registers_answers_and_talks() {
    if !baresip_available() {
        return;
    }
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        baresip_answers_a_caller,
    )
    .await;
}
