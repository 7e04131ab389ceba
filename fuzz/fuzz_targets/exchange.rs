//! A case in the exchange format (`hotline12345.case` v1) from another platform: parsing and
//! validation name a field or accept it, and never panic.
#![no_main]

use hotline12345::store::exchange::CaseRecord;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = serde_json::from_slice::<CaseRecord>(data) {
        let _ = record.validate();
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = hotline12345::api::body::parse::<hotline12345::cases::workflow::CaseEvent>(value);
    }
});
