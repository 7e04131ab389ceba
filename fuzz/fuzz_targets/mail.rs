//! A mail as the SMTP listener hands it over (the DATA of a transaction): reading it (MIME,
//! charsets, attachments, the limits) gives a mail or a refusal, and never panics.
#![no_main]

use hotline12345::mail::read::{read, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_attachment: 4096,
        max_attachments: 3,
    };
    let _ = read(data, "sender@example.cn", limits);
    let _ = read(data, "", limits);
    let _ = hotline12345::intake::reference::case_number_in(&String::from_utf8_lossy(data));
});
