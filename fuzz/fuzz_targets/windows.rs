//! Scanning any text in small windows: no panic, every byte counted once, and every finding at
//! a line and column of the whole text.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vippsleaks::detect::Detector;
use vippsleaks::scan::scan_windows;

fuzz_target!(|data: &[u8]| {
    static D: OnceLock<Detector> = OnceLock::new();
    let detector = D.get_or_init(Detector::builtin);
    let Some((&w, text)) = data.split_first() else {
        return;
    };
    let window = 200 + w as usize * 8;
    let outcome = scan_windows(detector, "fuzz.env", Vec::new(), text, window, 160);
    assert_eq!(outcome.summary.bytes_scanned, text.len() as u64);
    let whole = String::from_utf8_lossy(text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text));
    let lines: Vec<&str> = whole.split('\n').collect();
    for f in &outcome.findings {
        assert!(f.line >= 1 && f.line <= lines.len());
        assert!(f.column >= 1 && f.column <= lines[f.line - 1].chars().count() + 1);
    }
});
