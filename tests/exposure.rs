//! Safe on an open network: each test plays a hostile or broken peer on loopback against the
//! real binary and checks that it exhausts, wedges, wiretaps or impersonates nothing.

mod common;

use std::time::Duration;

use common::harness::run_on;
use common::server::{Backend, ServerOptions, TestServer};
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
