//! Digest `Authorization` headers and Contact values from REGISTERs: parsing, verifying
//! against a nonce keeper, and the nonce-count ledger.
#![no_main]

use hotline12345::registrar::digest::{Algorithm, Secret};
use hotline12345::registrar::{contact, Credentials, NonceCounts, NonceKeeper};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = contact::parse(&text);
    let Ok(creds) = Credentials::parse(&text) else {
        return;
    };
    let keeper = NonceKeeper::new("hotline12345", "secret", 300);
    let client = [127, 0, 0, 1].into();
    let password = Secret::Password("dev-1001".into());
    let _ = keeper.verify(&creds, "REGISTER", &password, client, 1_000_000);
    let ha1 = Secret::Ha1 {
        md5: None,
        sha256: Some(Algorithm::Sha256.ha1("1001", "hotline12345", "dev-1001")),
    };
    let _ = keeper.verify(&creds, "REGISTER", &ha1, client, 1_000_000);
    let _ = creds.expected_response("REGISTER", "dev-1001");
    let mut counts = NonceCounts::new();
    let _ = counts.record(&creds, 1_000_000, 300);
    let _ = counts.record(&creds, 1_000_001, 300);
});
