//! Extracting assignments from any text: every value range lies inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = vippsleaks::decode::decode(data) else {
        return;
    };
    for a in vippsleaks::detect::extract::assignments(&text) {
        assert!(a.start <= a.end && a.end <= text.text.len());
        assert!(a.line < text.line_count());
    }
});
