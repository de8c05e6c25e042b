//! Decoding: raw bytes to text with line numbers of the original file.
//!
//! UTF-8 (with or without BOM), UTF-16 LE/BE (with a BOM, or recognised by its NUL pattern),
//! UTF-32 LE/BE with a BOM, and CRLF all become one text whose line numbers are the original
//! file's. Anything else with NUL bytes is binary and is not scanned.

use encoding_rs::{UTF_16BE, UTF_16LE};

/// How a file was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    /// UTF-32 with a BOM (PowerShell's `-Encoding utf32`).
    Utf32Le,
    Utf32Be,
}

/// The text of a file, ready for detection.
#[derive(Debug, Clone)]
pub struct Text {
    pub text: String,
    pub encoding: Encoding,
    line_starts: Vec<usize>,
}

/// Bytes that are sniffed for NULs and UTF-16 patterns.
const SNIFF_LEN: usize = 8192;

impl Text {
    pub fn new(text: String, encoding: Encoding) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        Text {
            text,
            encoding,
            line_starts,
        }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The 0-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// Line `line` (0-based) without its line ending.
    pub fn line(&self, line: usize) -> &str {
        let start = self.line_start(line);
        let end = self
            .line_starts
            .get(line + 1)
            .map_or(self.text.len(), |&next| next - 1);
        let end = end.max(start);
        self.text[start..end]
            .strip_suffix('\r')
            .unwrap_or(&self.text[start..end])
    }

    /// 1-based column (in characters) of byte `offset`.
    pub fn column_of(&self, offset: usize) -> usize {
        let start = self.line_start(self.line_of(offset));
        self.text[start..offset].chars().count() + 1
    }
}

/// Decodes `bytes`, or returns `None` for binary content.
pub fn decode(bytes: &[u8]) -> Option<Text> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return Some(Text::new(
            String::from_utf8_lossy(rest).into_owned(),
            Encoding::Utf8,
        ));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE\x00\x00") {
        return Some(Text::new(
            utf32(rest, u32::from_le_bytes),
            Encoding::Utf32Le,
        ));
    }
    if let Some(rest) = bytes.strip_prefix(b"\x00\x00\xFE\xFF") {
        return Some(Text::new(
            utf32(rest, u32::from_be_bytes),
            Encoding::Utf32Be,
        ));
    }
    if bytes.starts_with(b"\xFF\xFE") {
        let (text, _) = UTF_16LE.decode_without_bom_handling(&bytes[2..]);
        return Some(Text::new(text.into_owned(), Encoding::Utf16Le));
    }
    if bytes.starts_with(b"\xFE\xFF") {
        let (text, _) = UTF_16BE.decode_without_bom_handling(&bytes[2..]);
        return Some(Text::new(text.into_owned(), Encoding::Utf16Be));
    }
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    if memchr::memchr(0, head).is_some() {
        return match utf16_without_bom(head) {
            Some(Encoding::Utf16Le) => {
                let (text, _) = UTF_16LE.decode_without_bom_handling(bytes);
                Some(Text::new(text.into_owned(), Encoding::Utf16Le))
            }
            Some(Encoding::Utf16Be) => {
                let (text, _) = UTF_16BE.decode_without_bom_handling(bytes);
                Some(Text::new(text.into_owned(), Encoding::Utf16Be))
            }
            _ => None,
        };
    }
    Some(Text::new(
        String::from_utf8_lossy(bytes).into_owned(),
        Encoding::Utf8,
    ))
}

/// Mostly-ASCII UTF-16 has NULs in every other byte.
fn utf16_without_bom(head: &[u8]) -> Option<Encoding> {
    let pairs = head.len() / 2;
    if pairs < 2 {
        return None;
    }
    let even_nul = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nul = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if odd_nul * 10 >= pairs * 7 && even_nul * 20 <= pairs {
        Some(Encoding::Utf16Le)
    } else if even_nul * 10 >= pairs * 7 && odd_nul * 20 <= pairs {
        Some(Encoding::Utf16Be)
    } else {
        None
    }
}

/// What the first bytes of a file say about all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniff {
    /// UTF-8 (or an 8-bit encoding read as UTF-8): no NUL in the sniffed bytes.
    Utf8,
    /// UTF-16 or UTF-32 with a BOM, or UTF-16 recognised by its NULs.
    Utf16,
    /// NULs that are not UTF-16: not scanned.
    Binary,
}

/// UTF-32 code units to text; a unit that is no character becomes U+FFFD, a trailing partial
/// unit is dropped.
fn utf32(bytes: &[u8], unit: fn([u8; 4]) -> u32) -> String {
    bytes
        .chunks_exact(4)
        .map(|c| {
            let u = unit([c[0], c[1], c[2], c[3]]);
            char::from_u32(u).unwrap_or(char::REPLACEMENT_CHARACTER)
        })
        .collect()
}

/// Sniffs the first bytes of a file the way `decode` does.
pub fn sniff(bytes: &[u8]) -> Sniff {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Sniff::Utf8;
    }
    if bytes.starts_with(b"\xFF\xFE")
        || bytes.starts_with(b"\xFE\xFF")
        || bytes.starts_with(b"\x00\x00\xFE\xFF")
    {
        return Sniff::Utf16;
    }
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    if memchr::memchr(0, head).is_none() {
        Sniff::Utf8
    } else if utf16_without_bom(head).is_some() {
        Sniff::Utf16
    } else {
        Sniff::Binary
    }
}

/// Whether bytes are binary (and not UTF-16 text).
pub fn is_binary(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return false;
    }
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    memchr::memchr(0, head).is_some() && utf16_without_bom(head).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { vec![] };
        for u in s.encode_utf16() {
            out.extend(u.to_le_bytes());
        }
        out
    }

    #[test]
    fn utf16_with_and_without_bom() {
        for bom in [true, false] {
            let t = decode(&utf16le("a=1\r\nb=2\r\n", bom)).unwrap();
            assert_eq!(t.encoding, Encoding::Utf16Le);
            assert_eq!(t.line(1), "b=2");
        }
    }

    #[test]
    fn utf32_with_a_bom() {
        let text = "a=1\r\nb=\u{f8}2\n";
        let le: Vec<u8> = [0xFF, 0xFE, 0, 0]
            .into_iter()
            .chain(text.chars().flat_map(|c| u32::from(c).to_le_bytes()))
            .collect();
        let be: Vec<u8> = [0, 0, 0xFE, 0xFF]
            .into_iter()
            .chain(text.chars().flat_map(|c| u32::from(c).to_be_bytes()))
            .collect();
        for (bytes, encoding) in [(le, Encoding::Utf32Le), (be, Encoding::Utf32Be)] {
            assert_eq!(sniff(&bytes), Sniff::Utf16);
            let t = decode(&bytes).unwrap();
            assert_eq!(t.encoding, encoding);
            assert_eq!(t.line(1), "b=\u{f8}2");
        }
    }

    #[test]
    fn utf8_bom_and_crlf() {
        let t = decode(b"\xEF\xBB\xBFx\r\ny").unwrap();
        assert_eq!(t.line(0), "x");
        assert_eq!(t.line(1), "y");
        assert_eq!(t.line_of(3), 1);
    }

    #[test]
    fn sniff_agrees_with_decode() {
        assert_eq!(sniff(&utf16le("a=1", false)), Sniff::Utf16);
        assert_eq!(sniff(&utf16le("a=1", true)), Sniff::Utf16);
        assert_eq!(sniff(b"\xEF\xBB\xBFa\x00"), Sniff::Utf8);
        assert_eq!(sniff(b"\x7fELF\x00\x01\x02\x00\x00\x10"), Sniff::Binary);
        assert_eq!(sniff(b"plain"), Sniff::Utf8);
    }

    #[test]
    fn binary_is_refused() {
        assert!(decode(b"\x7fELF\x00\x01\x02\x00\x00\x10").is_none());
        assert!(is_binary(b"PK\x03\x04\x00\x00"));
    }
}
