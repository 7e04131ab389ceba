//! Operator softphones REGISTER with digest authentication (computed here independently with
//! the md-5 and sha2 crates): challenge, MD5 and SHA-256 answers, several contacts, too-short
//! expiry, un-registration, unknown seats, and a source that keeps failing is slowed down.

use crate::common;

use common::harness::run_on;
use common::phone::header_value;
use common::server::{Backend, ServerOptions, TestServer};
use common::softphone::Softphone;

async fn agents(server: &TestServer) -> serde_json::Value {
    let resp = reqwest::Client::new()
        .get(format!("{}/api/agents?platform=530100", server.http))
        .bearer_auth("dev-sup-kunming")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn softphones_register_with_digest() {
    run_on(
        Backend::Sqlite,
        ServerOptions::default(),
        |server| async move {
            let mut desk = Softphone::new(&server, "1001").await;
            let local = desk.phone.local_addr();
            let contact = format!("<sip:1001@{local}>");

            // The challenge: SHA-256 first, then MD5, qop=auth.
            let first = desk.register(&contact, Some(600), None).await;
            assert!(first.starts_with("SIP/2.0 401"), "{first}");
            let challenges: Vec<&str> = first
                .lines()
                .filter(|l| l.starts_with("WWW-Authenticate:"))
                .collect();
            assert_eq!(challenges.len(), 2, "{first}");
            assert!(
                challenges[0].contains("algorithm=SHA-256")
                    && challenges[1].contains("algorithm=MD5")
            );
            assert!(challenges[0].contains("qop=\"auth\""));

            // MD5, the right password.
            let ok = desk
                .register_with("MD5", "dev-1001", &contact, Some(600))
                .await;
            assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
            let granted = header_value(&ok, "Contact").unwrap();
            assert!(
                granted.contains(&format!("sip:1001@{local}")) && granted.contains("expires=600"),
                "{ok}"
            );
            let list = agents(&server).await;
            let seat = list
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["id"] == "1001")
                .unwrap()
                .clone();
            assert_eq!(seat["registered"], true, "{seat}");

            // A second device with SHA-256: both contacts are kept.
            let mut soft = Softphone::new(&server, "1001").await;
            let contact2 = format!("<sip:1001@{};transport=udp>", soft.phone.local_addr());
            let ok = soft
                .register_with("SHA-256", "dev-1001", &contact2, Some(300))
                .await;
            assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
            assert_eq!(
                ok.lines().filter(|l| l.starts_with("Contact:")).count(),
                2,
                "{ok}"
            );

            // Too short an expiry.
            let brief = soft
                .register_with("MD5", "dev-1001", &contact2, Some(30))
                .await;
            assert!(brief.starts_with("SIP/2.0 423"), "{brief}");
            assert_eq!(header_value(&brief, "Min-Expires").as_deref(), Some("60"));

            // Un-registration of everything.
            let gone = desk.register_with("MD5", "dev-1001", "*", Some(0)).await;
            assert!(gone.starts_with("SIP/2.0 200"), "{gone}");
            assert!(!gone.contains("Contact:"), "{gone}");
            let list = agents(&server).await;
            assert!(list
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["registered"] == false));

            // Unknown seats are not served.
            let mut stranger = Softphone::new(&server, "7777").await;
            assert!(stranger
                .register(&contact, None, None)
                .await
                .starts_with("SIP/2.0 404"));

            // A wrong password never registers, and a source that keeps failing is slowed down.
            let mut guesser = Softphone::new(&server, "1002").await;
            let gcontact = format!("<sip:1002@{}>", guesser.phone.local_addr());
            for _ in 0..5 {
                let r = guesser
                    .register_with("MD5", "wrong-password", &gcontact, None)
                    .await;
                assert!(r.starts_with("SIP/2.0 401"), "{r}");
            }
            let slowed = guesser.register(&gcontact, None, None).await;
            assert!(slowed.starts_with("SIP/2.0 403"), "{slowed}");
            assert!(header_value(&slowed, "Retry-After").is_some());
            let list = agents(&server).await;
            let seat = list
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["id"] == "1002")
                .unwrap()
                .clone();
            assert_eq!(seat["registered"], false);
        },
    )
    .await;
}
