//! Value shapes: what a candidate value looks like, and whether it is a fake.
//!
//! Shape alone never makes a finding (GUIDs and hex strings are everywhere); it only says which
//! key a value could be. The fake checks reject placeholders, masks, repeated or sequential
//! characters and words that happen to fit the alphabet.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Lenient decoding: padding optional, stray low bits in the last character accepted (values
/// typed by hand often have them).
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::RequireNone)
    .with_decode_allow_trailing_bits(true);
const STANDARD_NO_PAD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE_NO_PAD: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// What a value looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// 8-4-4-4-12 hex, a client_id.
    Guid,
    /// 32 hex characters, a subscription key.
    Hex32,
    /// Base64 or Base64url of 16 to 64 bytes, a client_secret.
    Base64Secret,
    /// 4 to 10 digits, a Merchant Serial Number.
    Digits,
}

pub fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn is_guid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Decodes Base64 in either alphabet, with or without padding.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let trimmed = s.trim_end_matches('=');
    if s.len() - trimmed.len() > 2 {
        return None;
    }
    let url = trimmed.contains(['-', '_']);
    let std = trimmed.contains(['+', '/']);
    if url && std {
        return None;
    }
    if url {
        URL_SAFE_NO_PAD.decode(trimmed).ok()
    } else {
        STANDARD_NO_PAD.decode(trimmed).ok()
    }
}

/// The shape of a value, or `None` when it fits no key.
pub fn classify(value: &str) -> Option<Shape> {
    let len = value.len();
    if is_guid(value) {
        return Some(Shape::Guid);
    }
    if len == 32 && is_hex(value) {
        return Some(Shape::Hex32);
    }
    if (4..=10).contains(&len) && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Shape::Digits);
    }
    if (20..=100).contains(&len) && mixed_case(value) && !is_hex(value) && looks_base64(value) {
        let bytes = decode_base64(value)?;
        if (16..=66).contains(&bytes.len()) {
            return Some(Shape::Base64Secret);
        }
    }
    None
}

fn mixed_case(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_uppercase()) && s.bytes().any(|b| b.is_ascii_lowercase())
}

/// Value of a Base64 character in either alphabet.
fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Whether the first 8 characters decode to printable ASCII: a cheap test before decoding a
/// token that may hold an encoded key or document.
pub fn starts_as_base64_text(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 8 {
        return false;
    }
    b[..8].chunks(4).all(|quad| {
        let mut n: u32 = 0;
        for &c in quad {
            match sextet(c) {
                Some(v) => n = (n << 6) | u32::from(v),
                None => return false,
            }
        }
        [(n >> 16) as u8, (n >> 8) as u8, n as u8]
            .iter()
            .all(|&x| x.is_ascii_graphic() || x == b' ' || x == b'\n' || x == b'\r' || x == b'\t')
    })
}

fn looks_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    body.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_'))
}

/// A value that fits a shape but is not a real key: placeholders, masks, repeated or sequential
/// characters, and words that happen to use the Base64 alphabet.
pub fn is_fake(value: &str, shape: Shape) -> bool {
    let lower = value.to_ascii_lowercase();
    if longest_run(&lower) >= 6 || longest_sequence(&lower) >= 6 {
        return true;
    }
    match shape {
        Shape::Guid => {
            let hex: String = lower.chars().filter(|c| *c != '-').collect();
            distinct(&hex) < 7
        }
        Shape::Hex32 => distinct(&lower) < 8,
        Shape::Digits => false,
        Shape::Base64Secret => fake_base64(value),
    }
}

fn fake_base64(value: &str) -> bool {
    let body = value.trim_end_matches('=');
    let upper = body.bytes().filter(u8::is_ascii_uppercase).count();
    let lower = body.bytes().filter(u8::is_ascii_lowercase).count();
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    if upper == 0 || lower == 0 {
        return true;
    }
    if distinct(body) < 10 {
        return true;
    }
    // Base64 of readable text (`bXktY2xpZW50LXNlY3JldA==` is "my-client-secret"): a value
    // someone typed, while a real secret is random bytes
    if decode_base64(value)
        .is_some_and(|d| d.len() >= 8 && d.iter().all(|b| (0x20..0x7f).contains(b)))
    {
        return true;
    }
    if upper + lower + digits < body.len() * 3 / 4 {
        // mostly separators: `REPLACE-WITH-...`, `my_secret_value_here`
        return true;
    }
    if digits == 0 && body.len() < 28 && word_like(body) {
        return true;
    }
    word_like(body) && wordy_fraction(body) * 10 >= body.len() * 6
}

/// Capitalised words (`YourClientSecretHere`) and separated lowercase words cover most of it.
fn word_like(body: &str) -> bool {
    wordy_fraction(body) * 2 >= body.len()
}

/// Bytes in runs that read as words: `[A-Z][a-z]{3,}` or `[a-z]{5,}` with vowels.
fn wordy_fraction(body: &str) -> usize {
    let b = body.as_bytes();
    let mut covered = 0;
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i].is_ascii_uppercase() {
            i += 1;
        }
        while i < b.len() && b[i].is_ascii_lowercase() {
            i += 1;
        }
        let run = &b[start..i];
        let lower_len = run.iter().filter(|c| c.is_ascii_lowercase()).count();
        let vowels = run
            .iter()
            .filter(|c| {
                matches!(
                    c.to_ascii_lowercase(),
                    b'a' | b'e' | b'i' | b'o' | b'u' | b'y'
                )
            })
            .count();
        let capitalised = run.first().is_some_and(u8::is_ascii_uppercase);
        let is_word = vowels * 5 >= run.len()
            && vowels * 5 <= run.len() * 3
            && ((capitalised && lower_len >= 3) || lower_len >= 5);
        if is_word {
            covered += run.len();
        }
        if i == start {
            i += 1;
        }
    }
    covered
}

fn distinct(s: &str) -> usize {
    let mut seen = [false; 256];
    let mut n = 0;
    for b in s.bytes() {
        if !seen[b as usize] {
            seen[b as usize] = true;
            n += 1;
        }
    }
    n
}

fn longest_run(s: &str) -> usize {
    let b = s.as_bytes();
    let (mut best, mut cur) = (0, 0);
    for i in 0..b.len() {
        cur = if i > 0 && b[i] == b[i - 1] {
            cur + 1
        } else {
            1
        };
        best = best.max(cur);
    }
    best
}

/// The longest run of consecutive ascending or descending characters (`0123456`, `abcdef`).
fn longest_sequence(s: &str) -> usize {
    let b = s.as_bytes();
    let (mut best, mut up, mut down) = (1, 1, 1);
    for i in 1..b.len() {
        let (p, c) = (b[i - 1], b[i]);
        let step_ok = |x: u8, y: u8| x.is_ascii_alphanumeric() && y.is_ascii_alphanumeric();
        up = if step_ok(p, c) && c == p.wrapping_add(1) {
            up + 1
        } else {
            1
        };
        down = if step_ok(p, c) && c.wrapping_add(1) == p {
            down + 1
        } else {
            1
        };
        best = best.max(up).max(down);
    }
    if b.is_empty() { 0 } else { best }
}

/// A value that is itself Base64 of a key (a Kubernetes Secret `data:` value, say): the inner
/// key and its shape.
pub fn decode_inner(value: &str) -> Option<(String, Shape)> {
    if value.len() < 8 || is_hex(value) || !starts_as_base64_text(value) {
        return None;
    }
    let bytes = decode_base64(value)?;
    let text = String::from_utf8(bytes).ok()?;
    let inner = text.trim();
    if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let shape = classify(inner)?;
    Some((inner.to_owned(), shape))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(
            classify("df66a314-cdbe-4327-a5b7-b193b0d46338"),
            Some(Shape::Guid)
        );
        assert_eq!(
            classify("5cfdc0ce7344d88a6c73a15373e86f8f"),
            Some(Shape::Hex32)
        );
        assert_eq!(
            classify("DkGpFvF9TxinHJSopa/6aw=="),
            Some(Shape::Base64Secret)
        );
        assert_eq!(
            classify("4sqky06cbAqB78dH5FlfJw"),
            Some(Shape::Base64Secret)
        );
        assert_eq!(classify("5015776"), Some(Shape::Digits));
        assert_eq!(classify("short"), None);
        assert_eq!(classify("has space in it and more"), None);
    }

    #[test]
    fn fakes() {
        assert!(is_fake("aaaaaaaaaaaaaaaaaaaaaa==", Shape::Base64Secret));
        assert!(is_fake("0123456789abcdef0123456789abcdef", Shape::Hex32));
        assert!(is_fake("00000000-0000-0000-0000-000000000000", Shape::Guid));
        assert!(is_fake("12345678-1234-1234-1234-123456789012", Shape::Guid));
        assert!(is_fake("YourClientSecretGoesHere", Shape::Base64Secret));
        assert!(is_fake(
            "REPLACE-WITH-YOUR-CLIENT-SECRET",
            Shape::Base64Secret
        ));
        // Base64 of typed text: "my-client-secret", "changeme-please"
        assert!(is_fake("bXktY2xpZW50LXNlY3JldA==", Shape::Base64Secret));
        assert!(is_fake("Y2hhbmdlbWUtcGxlYXNl", Shape::Base64Secret));
        assert!(!is_fake("DkGpFvF9TxinHJSopa/6aw==", Shape::Base64Secret));
        assert!(!is_fake(
            "43a/IcD9khcyrpapQJkeO37dhfmKzXYA",
            Shape::Base64Secret
        ));
        assert!(!is_fake("5cfdc0ce7344d88a6c73a15373e86f8f", Shape::Hex32));
    }

    #[test]
    fn inner_base64() {
        let (inner, shape) = decode_inner("U2NxQzZTQ251R0NYcEtqUnBMQ1J2QT09").unwrap();
        assert_eq!(inner, "ScqC6SCnuGCXpKjRpLCRvA==");
        assert_eq!(shape, Shape::Base64Secret);
        assert_eq!(decode_inner("DkGpFvF9TxinHJSopa/6aw=="), None);
    }
}
