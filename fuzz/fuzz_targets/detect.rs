//! Detecting in any text: every finding points at a real line and column.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vippsleaks::detect::Detector;

fuzz_target!(|data: &[u8]| {
    static D: OnceLock<Detector> = OnceLock::new();
    let detector = D.get_or_init(Detector::builtin);
    let Some(text) = vippsleaks::decode::decode(data) else {
        return;
    };
    for f in detector.detect("fuzz.env", &text) {
        assert!(f.line >= 1 && f.line <= text.line_count());
        let chars = text.line(f.line - 1).chars().count();
        assert!(f.column >= 1 && f.column <= chars + 1 && f.end_column > f.column);
    }
});
