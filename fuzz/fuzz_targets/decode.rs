//! Decoding any bytes: no panic, and every line lookup stays inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(text) = vippsleaks::decode::decode(data) {
        for l in 0..text.line_count() {
            assert!(!text.line(l).contains('\n'));
            assert!(text.line_start(l) <= text.text.len());
        }
    }
});
