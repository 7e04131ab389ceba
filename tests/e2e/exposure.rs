//! Safe on an open network: each test plays a hostile or broken peer on loopback against the
//! real binary and checks that it exhausts, wedges, wiretaps or impersonates nothing.

use crate::common;

use std::time::Duration;

use common::harness::run_on;
use common::server::{Backend, ServerOptions, TestServer};
use common::softphone::Softphone;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Waits until `check` holds, up to `wait`; returns whether it did.
async fn eventually(wait: Duration, mut check: impl FnMut() -> bool) -> bool {
    let until = tokio::time::Instant::now() + wait;
    while tokio::time::Instant::now() < until {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check()
}

fn options_request(server: &TestServer, local: std::net::SocketAddr, n: usize) -> String {
    format!(
        "OPTIONS sip:12345@{sip} SIP/2.0\r\nVia: SIP/2.0/TCP {local};branch=z9hG4bKfd{n}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:probe@{local}>;tag=t{n}\r\nTo: <sip:12345@{sip}>\r\n\
         Call-ID: fd-{n}@{local}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        sip = server.sip
    )
}

/// 10,000 TCP connections opened and closed, half of them after a request answered, leave the
/// server's file descriptors where they were; an idle and a half-sent connection are closed
/// by the server; connections over the per-source cap are refused while calls go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_connections_never_leak() {
    let options = ServerOptions::default().with_args(&[
        "--tcp-idle-timeout",
        "2",
        "--max-connections-per-source",
        "100",
    ]);
    run_on(Backend::Sqlite, options, |server| async move {
        // A first connection so that lazily opened descriptors (epoll, the database) exist.
        let mut warm = TcpStream::connect(server.sip).await.unwrap();
        let local = warm.local_addr().unwrap();
        warm.write_all(options_request(&server, local, 0).as_bytes())
            .await
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let n = warm.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"SIP/2.0 200"));
        drop(warm);
        let baseline_ok = eventually(Duration::from_secs(10), || server.open_fds() > 0).await;
        assert!(baseline_ok);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let baseline = server.open_fds();

        // 10,000 connections, 40 at a time; every other one sends a request and reads the
        // answer before closing, the rest close at once.
        let mut answered = 0usize;
        for round in 0..250 {
            let mut set = tokio::task::JoinSet::new();
            for i in 0..40 {
                let n = round * 40 + i + 1;
                let sip = server.sip;
                let request_for = |local| options_request(&server, local, n);
                let talk = n % 2 == 0;
                let mut stream = TcpStream::connect(sip).await.unwrap();
                let request = request_for(stream.local_addr().unwrap());
                set.spawn(async move {
                    if !talk {
                        return false;
                    }
                    stream.write_all(request.as_bytes()).await.unwrap();
                    let mut buf = vec![0u8; 4096];
                    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
                        .await
                        .expect("answer within 10 s")
                        .unwrap();
                    buf[..n].starts_with(b"SIP/2.0 200")
                });
            }
            while let Some(r) = set.join_next().await {
                answered += r.unwrap() as usize;
            }
        }
        assert_eq!(answered, 5000, "every request was answered");
        let back = eventually(Duration::from_secs(20), || {
            server.open_fds() <= baseline + 2
        })
        .await;
        assert!(
            back,
            "file descriptors: {} after 10,000 connections, {baseline} before",
            server.open_fds()
        );

        // An idle connection and one that never finishes its headers are closed by the server.
        let mut idle = TcpStream::connect(server.sip).await.unwrap();
        let mut slow = TcpStream::connect(server.sip).await.unwrap();
        slow.write_all(b"INVITE sip:12345@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP x")
            .await
            .unwrap();
        for (name, stream) in [("idle", &mut idle), ("half-sent", &mut slow)] {
            let mut byte = [0u8; 1];
            let closed = tokio::time::timeout(Duration::from_secs(15), stream.read(&mut byte))
                .await
                .unwrap_or_else(|_| panic!("the {name} connection was left open"));
            assert!(matches!(closed, Ok(0) | Err(_)), "{name}: {closed:?}");
        }

        // Over the per-source cap: the 101st connection is closed at once, and a call still
        // gets through once the hog lets go.
        let mut hog = Vec::new();
        for _ in 0..100 {
            hog.push(TcpStream::connect(server.sip).await.unwrap());
        }
        let mut refused = TcpStream::connect(server.sip).await.unwrap();
        let mut byte = [0u8; 1];
        let r = tokio::time::timeout(Duration::from_secs(5), refused.read(&mut byte))
            .await
            .expect("a connection over the cap is closed");
        assert!(matches!(r, Ok(0) | Err(_)), "{r:?}");
        drop(hog);
        let back = eventually(Duration::from_secs(10), || {
            server.open_fds() <= baseline + 2
        })
        .await;
        assert!(back, "{} fds, {baseline} before", server.open_fds());
        let mut phone = common::phone::TestPhone::tcp(server.sip).await;
        let (_call, ok) = phone.call("087163111111", "12345").await;
        assert_eq!(ok.status_code, rsip::StatusCode::OK);
        assert!(
            server.log().contains("over the limit"),
            "the refusal is logged"
        );
    })
    .await;
}

/// The seats with a registration (a contact) now, through the API.
async fn contacts_of(server: &TestServer, seat: &str) -> Vec<String> {
    let seat = server.seat(seat).await;
    seat["contacts"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|b| b["contact"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A REGISTER's Authorization captured on the wire and replayed, from another host or from
/// the same one, registers nothing; the phone that owns it goes on counting up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_authorization_never_registers() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        |server| async move {
            let mut desk = Softphone::new(&server, "1001").await;
            let contact = format!("<sip:1001@{}>", desk.phone.local_addr());
            let ok = desk
                .register_with("SHA-256", "dev-1001", &contact, Some(600))
                .await;
            assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
            let captured = desk.last_authorization.clone().unwrap();

            for ip in ["127.0.0.2", "127.0.0.1"] {
                let mut attacker = Softphone::new_from(&server, "1001", ip).await;
                let evil = format!("<sip:1001@{}>", attacker.phone.local_addr());
                let r = attacker
                    .register(&evil, Some(600), Some(captured.clone()))
                    .await;
                assert!(r.starts_with("SIP/2.0 401"), "replay from {ip}: {r}");
                let now = contacts_of(&server, "1001").await;
                assert!(
                    !now.iter().any(|c| evil.contains(c.as_str())),
                    "replay from {ip} registered {now:?}"
                );
            }
            // The same request from the phone itself, verbatim (same nc), is a replay too.
            let again = desk.register(&contact, Some(600), Some(captured)).await;
            assert!(again.starts_with("SIP/2.0 401"), "{again}");
            assert_eq!(contacts_of(&server, "1001").await.len(), 1);
            assert!(server.log().contains("nonce reused"));
        },
    )
    .await;
}

/// A neighbour behind the same address guessing a seat's password does not lock out a
/// colleague who signs in to another seat with the right one; the guesser is slowed down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_right_password_registers_beside_a_guessing_neighbour() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        |server| async move {
            let mut guesser = Softphone::new(&server, "1001").await;
            let gcontact = format!("<sip:1001@{}>", guesser.phone.local_addr());
            for _ in 0..5 {
                let r = guesser.register_with("MD5", "guess", &gcontact, None).await;
                assert!(r.starts_with("SIP/2.0 401"), "{r}");
            }
            let slowed = guesser.register(&gcontact, None, None).await;
            assert!(slowed.starts_with("SIP/2.0 403"), "{slowed}");

            // Another port of the same IP: a colleague at seat 1002, right away.
            let mut colleague = Softphone::new(&server, "1002").await;
            let contact = format!("<sip:1002@{}>", colleague.phone.local_addr());
            let ok = colleague
                .register_with("SHA-256", "dev-1002", &contact, Some(600))
                .await;
            assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
            assert_eq!(contacts_of(&server, "1002").await.len(), 1);
            assert!(contacts_of(&server, "1001").await.is_empty());
        },
    )
    .await;
}

/// An SDP with a payload type beyond 7 bits (`a=rtpmap:200 telephone-event/8000`) used to be
/// accepted and panicked the call's media when DTMF was sent, leaving the call counted, its
/// seat on-call and its end never stored. Now the caller gets a clean 488, the seat that
/// answers with it is hung up and passed over, and nothing is left counted (`--max-calls 1`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_payload_type_wedges_nothing() {
    let options = ServerOptions::default().with_args(&["--max-calls", "1"]);
    run_on(Backend::Sqlite, options, |server| async move {
        let mut phone = common::phone::TestPhone::udp(server.sip).await;
        let rtp = phone.rtp.local_addr().unwrap().port();
        let wedging = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {rtp} RTP/AVP 0 200\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:200 telephone-event/8000\r\n"
        );
        for _ in 0..3 {
            let mut call = phone
                .invite_with_body("087163644444", "12345", "", &wedging)
                .await;
            let resp = phone.final_response(&mut call).await;
            assert_eq!(resp.status_code.code(), 488, "{resp}");
        }

        // A seat that answers with it is hung up and passed over; the caller stays queued and
        // the next seat takes the call.
        let mut bad = Softphone::signed_in(&server, "1001").await;
        let mut caller = common::phone::TestPhone::udp(server.sip).await;
        let (mut call, ok) = caller.call("087163655555", "12345").await;
        assert_eq!(ok.status_code.code(), 200, "one call fits in --max-calls 1");
        {
            let invite = bad
                .expect(rsip::Method::Invite, Duration::from_secs(20))
                .await
                .expect("the seat rings");
            let seat_sdp = format!(
                "v=0\r\no=seat 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                 m=audio {} RTP/AVP 0 200\r\na=rtpmap:200 telephone-event/8000\r\n",
                bad.phone.rtp.local_addr().unwrap().port()
            );
            bad.respond(&invite, "200 OK", Some("seat"), Some(&seat_sdp))
                .await;
        }
        assert!(
            bad.expect(rsip::Method::Bye, Duration::from_secs(10))
                .await
                .is_some(),
            "the seat with the unusable answer is hung up"
        );
        let mut good = Softphone::signed_in(&server, "1002").await;
        let _ = good.take_call(Duration::from_secs(20), "the next seat").await;
        caller.bye(&mut call).await;
        // The seat that was hung up is on no call (its state used to stay on-call).
        let seat = server.live_seat("1001").await;
        assert_eq!(seat["on_calls"], 0, "{seat}");
        let state = seat["state"]["state"].as_str().unwrap_or_default().to_string();
        assert!(
            !state.is_empty() && state != "on-call" && state != "ringing",
            "{seat}"
        );

        // Nothing stayed counted: another call is answered under --max-calls 1.
        let (_, ok) = caller.call("087163666666", "12345").await;
        assert_eq!(ok.status_code.code(), 200, "{ok}");
        let cases = server.cases_of("087163655555").await;
        let ended = cases[0]["calls"][0]["ended_at"].is_string();
        assert!(ended, "the call's end is stored: {cases:?}");
    })
    .await;
}

/// A stranger's RTP aimed at a call's media port changes nothing the caller hears or sends:
/// sent before the caller's first packet it does not steer the greeting away; sent during a
/// voice message, neither its audio nor its `#` reaches the message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_rtp_source_changes_nothing() {
    use common::audio::{correlation, decode_stream, prompt_samples, through_codec, tone};
    use common::phone::{PhoneStream, TestPhone};
    use hotline12345::media::g711::Codec;
    run_on(
        Backend::Sqlite,
        ServerOptions::with_hours("[]"),
        |server| async move {
            let mut phone = TestPhone::udp(server.sip).await;
            let (call, resp) = phone.call("087163677777", "12345").await;
            assert_eq!(resp.status_code.code(), 200, "{resp}");
            let to = TestPhone::server_rtp(&call);

            // The stranger (another host) streams first, with well-counted sequence numbers.
            let stranger = TestPhone::udp_from(server.sip, "127.0.0.2").await;
            let mut evil = PhoneStream::default();
            stranger.send_audio(to, &mut evil, &tone(1000.0, 800)).await;
            stranger.send_dtmf(to, &mut evil, '*').await;

            // The caller still hears the greeting from its start, on its own socket.
            let packets = phone.receive_rtp(50, Duration::from_secs(5)).await;
            assert_eq!(packets.len(), 50, "the greeting was steered away");
            let heard = decode_stream(Codec::Pcmu, &packets);
            let greeting = prompt_samples("after-hours.wav");
            assert_eq!(
                heard,
                through_codec(Codec::Pcmu, &greeting[..heard.len()]),
                "the after-hours greeting, not replayed by the stranger's *"
            );

            // The caller skips it and speaks; the stranger talks over it and presses #.
            let mut mine = PhoneStream::default();
            phone.send_dtmf(to, &mut mine, '#').await;
            tokio::time::sleep(Duration::from_millis(800)).await;
            let said: Vec<i16> = tone(600.0, 12_000)
                .into_iter()
                .chain(tone(450.0, 12_000))
                .collect();
            let noise = async {
                stranger
                    .send_audio(to, &mut evil, &tone(1000.0, 8_000))
                    .await;
                stranger.send_dtmf(to, &mut evil, '#').await;
                stranger
                    .send_audio(to, &mut evil, &tone(1000.0, 8_000))
                    .await;
            };
            tokio::join!(phone.send_audio(to, &mut mine, &said), noise);
            phone.send_dtmf(to, &mut mine, '#').await;
            assert!(phone.expect_bye(Duration::from_secs(15)).await);

            let (_, list) = server.get_json("/api/voicemails?platform=530100").await;
            let list = list.as_array().unwrap().clone();
            assert_eq!(list.len(), 1, "{list:?}");
            let id = list[0]["id"].as_i64().unwrap();
            let recorded = server.voicemail_samples(id).await;
            let expected = through_codec(Codec::Pcmu, &said);
            assert!(
                recorded.len() >= expected.len(),
                "the stranger's # cut the message short: {} < {}",
                recorded.len(),
                expected.len()
            );
            let mine_corr = correlation(&recorded, &expected[..12_000]);
            let theirs = correlation(&recorded, &through_codec(Codec::Pcmu, &tone(1000.0, 4_000)));
            assert!(mine_corr > 0.99, "the caller's words: {mine_corr}");
            assert!(theirs < 0.5, "the stranger's tone got in: {theirs}");
            assert!(server.log().contains("strict RTP"), "the drops are logged");
        },
    )
    .await;
}

/// Registrar bindings: the expiry beside a quoted `+sip.instance` is honoured (also one
/// shorter than the default), an unregister with it removes the binding, a restarted device
/// replaces its old contact, contacts nobody answers at are refused, and a restart keeps every
/// acknowledged registration.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bindings_follow_the_rfc_and_survive_a_restart() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        |server| async move {
            let instance =
                r#"+sip.instance="<urn:uuid:00000000-0000-1000-8000-00000000a001>";reg-id=1"#;
            let mut desk = Softphone::new(&server, "1001").await;
            let contact = format!(
                "<sip:1001@{}>;expires=120;{instance}",
                desk.phone.local_addr()
            );
            let ok = desk
                .register_with("SHA-256", "dev-1001", &contact, None)
                .await;
            assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
            assert!(ok.contains("expires=120"), "granted as asked: {ok}");

            // The softphone restarts on another port: its new contact replaces the old one.
            let mut restarted = Softphone::new(&server, "1001").await;
            let contact2 = format!(
                "<sip:1001@{}>;{instance};expires=300",
                restarted.phone.local_addr()
            );
            let ok = restarted
                .register_with("SHA-256", "dev-1001", &contact2, None)
                .await;
            assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
            let now = contacts_of(&server, "1001").await;
            assert_eq!(now.len(), 1, "{now:?}");
            assert!(contact2.contains(now[0].as_str()), "{now:?}");

            // Seat 1002 registers, then unregisters with the instance after the expiry.
            let mut other = Softphone::new(&server, "1002").await;
            let inst2 = r#"+sip.instance="<urn:uuid:00000000-0000-1000-8000-00000000a002>""#;
            let c = format!("<sip:1002@{}>;{inst2}", other.phone.local_addr());
            let ok = other.register_with("MD5", "dev-1002", &c, Some(600)).await;
            assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
            let gone = format!("<sip:1002@{}>;expires=0;{inst2}", other.phone.local_addr());
            let ok = other.register_with("MD5", "dev-1002", &gone, None).await;
            assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
            assert!(
                contacts_of(&server, "1002").await.is_empty(),
                "unregistered"
            );

            // Contacts nobody can be called at.
            for bad in ["<>", "<tel:+8687163111111>", "<sip:1002@>"] {
                let r = other.register_with("MD5", "dev-1002", bad, Some(600)).await;
                assert!(r.starts_with("SIP/2.0 400"), "{bad}: {r}");
            }
            assert!(contacts_of(&server, "1002").await.is_empty());

            // A restart keeps 1001's registration, and 1001 is rung again.
            server.stop();
            let again = TestServer::start_in(
                &server.database_url,
                &server.data,
                &ServerOptions::default(),
            );
            let kept = contacts_of(&again, "1001").await;
            assert_eq!(kept, now, "the registration survived the restart");
            assert!(contacts_of(&again, "1002").await.is_empty());
            let seat = again.seat("1001").await;
            assert_eq!(seat["registered"], true, "{seat}");
            let mut caller = common::phone::TestPhone::udp(again.sip).await;
            let (_call, ok) = caller.call("087163688888", "12345").await;
            assert_eq!(ok.status_code.code(), 200);
            assert!(
                restarted
                    .expect(rsip::Method::Invite, Duration::from_secs(20))
                    .await
                    .is_some(),
                "the restored seat is rung"
            );
        },
    )
    .await;
}

/// SIGTERM: new calls get 503 with Retry-After, the call in progress goes on to its end (which
/// is stored), and then the server exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_calls_finish_and_refuses_new_ones() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        |server| async move {
            let mut phone = common::phone::TestPhone::udp(server.sip).await;
            let (mut call, ok) = phone.call("087163699999", "12345").await;
            assert_eq!(ok.status_code.code(), 200);
            server.terminate();
            let refused = eventually(Duration::from_secs(10), || {
                server.log().contains("new calls refused")
            })
            .await;
            assert!(refused, "{}", server.log());
            let mut late = common::phone::TestPhone::udp(server.sip).await;
            let (_, resp) = late.call("087163600000", "12345").await;
            assert_eq!(resp.status_code.code(), 503, "{resp}");
            assert!(resp.to_string().contains("Retry-After"));
            assert_eq!(
                server.wait_exit(Duration::from_secs(1)),
                None,
                "still serving its call"
            );
            let _ = server.cases_of("087163699999").await;
            let bye = phone.bye(&mut call).await;
            assert_eq!(bye.status_code.code(), 200);
            assert_eq!(
                server.wait_exit(Duration::from_secs(10)),
                Some(0),
                "a clean exit"
            );
        },
    )
    .await;
}

/// A test CA and a server certificate it signed for `localhost` and 127.0.0.1, made with the
/// openssl command: (CA certificate, server certificate, server key) paths in `dir`.
pub fn test_certificates(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let path = |name: &str| dir.join(name);
    let run = |args: &[&str]| {
        let status = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stderr(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success(), "openssl {args:?}");
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=hotline12345 test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "key.pem",
        "-out",
        "server.csr",
    ]);
    std::fs::write(
        path("ext.cnf"),
        "basicConstraints=critical,CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    (path("ca.pem"), path("cert.pem"), path("key.pem"))
}

/// SIP over TLS: a seat registers over TLS and is rung over its TLS connection, a caller
/// calls over TLS, and plain bytes on the TLS port are refused without harm.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seats_and_callers_use_sip_over_tls() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_certificates(certs.path());
    let options = ServerOptions::default().with_args(&[
        "--sips-listen",
        "127.0.0.1:0",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    run_on(Backend::Sqlite, options, move |server| async move {
        let sips = server.sips.expect("the server says where TLS listens");

        // Plain text on the TLS port gets nowhere and harms nothing.
        let mut plain = TcpStream::connect(sips).await.unwrap();
        plain
            .write_all(options_request(&server, plain.local_addr().unwrap(), 1).as_bytes())
            .await
            .unwrap();
        let mut byte = [0u8; 64];
        let r = tokio::time::timeout(Duration::from_secs(15), plain.read(&mut byte))
            .await
            .expect("the handshake fails and the connection closes");
        assert!(
            !matches!(r, Ok(n) if n > 0 && byte.starts_with(b"SIP/2.0")),
            "{r:?}"
        );

        // A seat registers over TLS.
        let phone = common::phone::TestPhone::tls(sips, &ca).await;
        let mut seat = Softphone::with_phone(phone, "1001");
        let contact = format!("<sip:1001@{};transport=tls>", seat.phone.local_addr());
        let ok = seat
            .register_with("SHA-256", "dev-1001", &contact, Some(600))
            .await;
        assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
        assert!(ok.contains("SIP/2.0/TLS"), "{ok}");

        // A caller over TLS reaches the hotline, and the seat is rung over its connection.
        let mut caller = common::phone::TestPhone::tls(sips, &ca).await;
        let (mut call, ok) = caller.call("087163612121", "12345").await;
        assert_eq!(ok.status_code.code(), 200, "{ok}");
        let invite = seat
            .expect(rsip::Method::Invite, Duration::from_secs(20))
            .await
            .expect("the seat is rung over TLS");
        assert!(invite.to_string().contains("SIP/2.0/TLS"), "{invite}");
        seat.answer(&invite).await;
        assert!(
            seat.expect(rsip::Method::Ack, Duration::from_secs(10))
                .await
                .is_some(),
            "the ACK comes over TLS"
        );
        let bye = caller.bye(&mut call).await;
        assert_eq!(bye.status_code.code(), 200);
        assert!(
            seat.expect(rsip::Method::Bye, Duration::from_secs(10))
                .await
                .is_some(),
            "the seat's leg is hung up over TLS"
        );
        let freed = async {
            for _ in 0..100 {
                let seat = server.live_seat("1001").await;
                if seat["on_calls"] == 0 && seat["state"]["state"] != "on-call" {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            false
        };
        assert!(freed.await, "{}", server.live_seat("1001").await);
        let cases = server.cases_of("087163612121").await;
        assert_eq!(
            cases[0]["calls"][0]["agent_legs"][0]["agent"], "1001",
            "{cases:?}"
        );
    })
    .await;
}

/// A new INVITE with the Call-ID of a finished call is a new call (RFC 3261: a dialog is the
/// Call-ID with both tags), not a 503 that invites retrying for ever; a stale copy of the
/// finished INVITE itself (same Call-ID and From tag) gets 482.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_call_id_is_a_new_call() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        |server| async move {
            let mut phone = common::phone::TestPhone::udp(server.sip).await;
            let (mut first, ok) = phone.call("087163613131", "12345").await;
            assert_eq!(ok.status_code.code(), 200);
            assert_eq!(phone.bye(&mut first).await.status_code.code(), 200);

            let sdp = phone.offer();
            let mut second = phone
                .invite_with_call_id(&first.call_id, "087163613131", "12345", "", &sdp)
                .await;
            let ok = phone.final_response(&mut second).await;
            assert_eq!(ok.status_code.code(), 200, "{ok}");
            phone.ack(&second).await;
            assert_eq!(phone.bye(&mut second).await.status_code.code(), 200);
            let cases = server.cases_of("087163613131").await;
            assert_eq!(cases.len(), 2, "two calls, two cases: {cases:?}");
            assert!(
                cases.iter().all(|c| c["calls"][0]["ended_at"].is_string()),
                "{cases:?}"
            );

            // The second INVITE again, on a new branch, after its call ended.
            let mut stale = second.clone();
            stale.branch = format!("z9hG4bKstale{}", rand::random::<u32>());
            stale.to_tag = None;
            let mut stale = phone.send_invite(stale, "12345", "", &sdp).await;
            let resp = phone.final_response(&mut stale).await;
            assert_eq!(resp.status_code.code(), 482, "{resp}");
            assert_eq!(server.cases_of("087163613131").await.len(), 2);
        },
    )
    .await;
}

/// `--max-call-duration` is one deadline from the INVITE: a call that waited in the queue
/// and then talked with an operator is hung up when the whole call reaches it (the limit
/// used to start again in each phase, so a call could last several times the limit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_longest_call_is_one_deadline_from_the_invite() {
    let options = ServerOptions::default().with_args(&["--max-call-duration", "4"]);
    run_on(Backend::Sqlite, options, |server| async move {
        let mut seat = Softphone::signed_in(&server, "1001").await;
        let mut phone = common::phone::TestPhone::udp(server.sip).await;
        let invited = tokio::time::Instant::now();
        let (_call, ok) = phone.call("087163614141", "12345").await;
        assert_eq!(ok.status_code.code(), 200);
        // The seat lets it ring for 3 s of the 4, then answers: the caller is bridged.
        let invite = seat
            .expect(rsip::Method::Invite, Duration::from_secs(10))
            .await
            .expect("the seat rings");
        tokio::time::sleep_until(invited + Duration::from_secs(3)).await;
        seat.answer(&invite).await;
        assert!(
            phone.expect_bye(Duration::from_secs(10)).await,
            "the server hangs up"
        );
        let after = invited.elapsed();
        assert!(
            after < Duration::from_millis(5_500),
            "hung up {after:?} after the INVITE; the limit is 4 s for the whole call"
        );
        let mut cause = serde_json::Value::Null;
        for _ in 0..100 {
            cause = server.cases_of("087163614141").await[0]["calls"][0]["end_cause"].clone();
            if !cause.is_null() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(cause, "max-duration");
    })
    .await;
}
