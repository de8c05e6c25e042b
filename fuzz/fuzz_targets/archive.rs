//! Scanning any bytes as a zip archive: no panic, no unbounded unpacking.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vippsleaks::detect::Detector;
use vippsleaks::scan::{Limits, scan_bytes};

fuzz_target!(|data: &[u8]| {
    static D: OnceLock<Detector> = OnceLock::new();
    let detector = D.get_or_init(Detector::builtin);
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend_from_slice(data);
    let limits = Limits {
        archive_bytes: 1 << 20,
        max_file_size: 1 << 20,
        ..Limits::default()
    };
    let outcome = scan_bytes(detector, "fuzz.zip", &bytes, &limits, 0);
    assert!(outcome.summary.bytes_scanned <= limits.archive_bytes + 1);
});
