//! Assignments: which value is bound to which key name, in any of the formats keys hide in.
//!
//! A cheap pass finds value-shaped tokens; only for those is the name looked up, walking left
//! over quotes and separators (`=`, `:`, `=>`, `,`, `>`, `|`, whitespace) to the key. Escaped
//! JSON strings are unescaped first, percent-encoded values decoded, YAML values split over
//! lines joined, and SQL `INSERT` values named by their columns.

use std::cell::RefCell;
use std::sync::LazyLock;

use regex::Regex;

use super::shape::{self, Shape};
use crate::decode::Text;

/// How a value was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Plain,
    /// Inside an escaped JSON string.
    Escaped,
    /// `%2B`-style percent-encoding.
    PercentEncoded,
    /// A YAML value split over several lines.
    Joined,
    /// A SQL `INSERT` value named by its column.
    SqlColumn,
    /// `Authorization: Basic base64(client_id:client_secret)`.
    BasicAuth,
    /// A whole file Base64-encoded (a Kubernetes Secret holding `appsettings.json`): the value
    /// is the decoded text, scanned again.
    EncodedDocument,
}

/// A value bound to a key name.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub name: String,
    pub value: String,
    /// Byte range of the value as it stands in the text.
    pub start: usize,
    pub end: usize,
    /// 0-based line of `start`.
    pub line: usize,
    pub via: Via,
    /// For Basic auth: the client_id decoded beside the secret.
    pub basic_user: Option<String>,
}

/// Finds every assignment of a value that has the shape of a key.
pub fn assignments(text: &Text) -> Vec<Assignment> {
    assignments_named(text, &|_| true, &|_| None, &[])
}

/// For a long line, the byte spans of the words a key name could hold; `None` to tokenise it
/// whole.
pub type Anchors<'a> = &'a dyn Fn(&str) -> Option<Vec<(usize, usize)>>;

/// Lines longer than this (minified bundles, one-line dumps) are tokenised only around the
/// places where a key name could stand.
pub const LONG_LINE: usize = 16 << 10;

/// Byte ranges of a long line worth tokenising: a window around each anchor (a word that a key
/// name is made of), widened to token boundaries and merged.
fn windows(raw: &str, anchors: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let b = raw.as_bytes();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &(a, z) in anchors {
        let mut from = a.saturating_sub(200);
        let mut to = (z + 400).min(b.len());
        let (lo, hi) = (from.saturating_sub(300), (to + 300).min(b.len()));
        while from > lo && is_token_byte(b[from - 1]) {
            from -= 1;
        }
        while to < hi && is_token_byte(b[to]) {
            to += 1;
        }
        while !raw.is_char_boundary(from) {
            from -= 1;
        }
        while !raw.is_char_boundary(to) {
            to += 1;
        }
        match out.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => out.push((from, to)),
        }
    }
    out
}

/// `assignments`, keeping only values whose name passes `could_name` (a cheap test on the raw
/// name; filler names and GUIDs always pass, since the real name is elsewhere).
///
/// `anchors` gives, for a line over `LONG_LINE` bytes, the spans of the words a key name could
/// hold (`None`: tokenise the whole line).
pub fn assignments_named(
    text: &Text,
    could_name: &dyn Fn(&str) -> bool,
    anchors: Anchors,
    defer: &[Shape],
) -> Vec<Assignment> {
    let pass = Pass {
        could_name,
        defer,
        deferred: RefCell::new(Vec::new()),
    };
    let mut out = Vec::new();
    let mut continued = Vec::new();
    joined_values(text, &mut out, &mut continued);
    sql_columns(text, &mut out);
    table_columns(text, &mut out);
    for line in 0..text.line_count() {
        if continued.binary_search(&line).is_ok() {
            continue;
        }
        read_line(text, line, anchors, &pass, &mut out);
    }
    // Values of deferred shapes are kept where a value that could be reported stands within
    // pairing distance, and only there: lines noted by the tokeniser are read now, values
    // found by the other readers (tables, SQL, joined YAML) are dropped elsewhere.
    if !defer.is_empty() {
        let deferred_shape: Vec<bool> = out
            .iter()
            .map(|a| shape::classify(&a.value).is_some_and(|s| defer.contains(&s)))
            .collect();
        let mut near: Vec<usize> = out
            .iter()
            .zip(&deferred_shape)
            .filter(|(_, d)| !**d)
            .map(|(a, _)| a.line)
            .collect();
        near.sort_unstable();
        near.dedup();
        let is_near = |line: usize| {
            let i = near.partition_point(|&l| l + PAIRING_LINES < line);
            near.get(i).is_some_and(|&l| l <= line + PAIRING_LINES)
        };
        let mut kept = deferred_shape.iter();
        out.retain(|a| kept.next().is_none_or(|d| !*d) || is_near(a.line));
        let all = Pass {
            could_name,
            defer: &[],
            deferred: RefCell::new(Vec::new()),
        };
        let mut deferred = pass.deferred.take();
        deferred.dedup();
        for line in deferred.into_iter().filter(|&l| is_near(l)) {
            read_line(text, line, anchors, &all, &mut out);
        }
    }
    // stable: the SQL column name wins over a name guessed from the line
    out.sort_by_key(|a| (a.start, a.end));
    out.dedup_by(|b, a| a.start == b.start && a.end == b.end && a.value == b.value);
    out
}

/// A file that holds one value and nothing else (a Docker or Kubernetes secret file such as
/// `secrets/vipps_client_secret`): the file's name, without its extension, names the value.
pub fn whole_file_value(path: &str, text: &Text) -> Option<Assignment> {
    let t = text.text.trim();
    if t.len() < 16 || t.len() > 200 || t.contains(char::is_whitespace) {
        return None;
    }
    shape::classify(t)?;
    let file = path.rsplit(['/', '\\']).next()?;
    let stem = file.split('.').next().filter(|s| !s.is_empty())?;
    let start = text.text.len() - text.text.trim_start().len();
    Some(Assignment {
        name: stem.to_owned(),
        value: t.to_owned(),
        start,
        end: start + t.len(),
        line: text.line_of(start),
        via: Via::Plain,
        basic_user: None,
    })
}

/// The furthest a client_id or MSN stands from the secret it is named beside, in lines.
pub const PAIRING_LINES: usize = 12;

/// What one reading of the lines keeps.
struct Pass<'a> {
    /// A cheap test on a raw name: whether it could name a key at all.
    could_name: &'a dyn Fn(&str) -> bool,
    /// Shapes whose values are only noted (by line) for now: they matter only beside a value
    /// that could be reported.
    defer: &'a [Shape],
    deferred: RefCell<Vec<usize>>,
}

/// Tokenises one line (around its anchors when it is long, and unescaped when it holds
/// backslash escapes).
fn read_line(text: &Text, line: usize, anchors: Anchors, pass: &Pass, out: &mut Vec<Assignment>) {
    let raw = text.line(line);
    if raw.len() < 4 {
        return;
    }
    let line_start = text.line_start(line);
    let spans = match (raw.len() > LONG_LINE).then(|| anchors(raw)).flatten() {
        Some(found) => windows(raw, &found),
        None => vec![(0, raw.len())],
    };
    for (from, to) in spans {
        let part = &raw[from..to];
        let base = line_start + from;
        let unescaped = part
            .contains('\\')
            .then(|| unescape(part))
            .filter(|(norm, _)| norm != part);
        if let Some((norm, map)) = unescaped {
            tokens(text, line, base, &norm, Some(&map), pass, out);
        } else {
            tokens(text, line, base, part, None, pass, out);
        }
    }
}

/// Bytes that can be part of a key value (and of `=` padding and `%XX` escapes).
static TOKEN_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-' | b'%' | b'=');
        i += 1;
    }
    t
};

fn is_token_byte(b: u8) -> bool {
    TOKEN_BYTES[b as usize]
}

/// Scans one (possibly unescaped) line for value-shaped tokens and binds each to its name.
fn tokens(
    text: &Text,
    line: usize,
    base: usize,
    s: &str,
    map: Option<&[usize]>,
    pass: &Pass,
    out: &mut Vec<Assignment>,
) {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !is_token_byte(b[i]) {
            i += 1;
            continue;
        }
        let mut run_start = i;
        while i < b.len() && is_token_byte(b[i]) {
            i += 1;
        }
        // `${NAME:-default}`: the default value starts after the `-`
        if b[run_start] == b'-' && run_start > 0 && b[run_start - 1] == b':' {
            run_start += 1;
        }
        let run_end = i;
        if run_end - run_start < 4 {
            continue;
        }
        // '=' inside a run separates a name from its value; '=' at the end is padding.
        let mut piece_start = run_start;
        let mut k = run_start;
        while k < run_end {
            if b[k] == b'=' {
                let mut pad_end = k;
                while pad_end < run_end && b[pad_end] == b'=' {
                    pad_end += 1;
                }
                if pad_end == run_end {
                    break;
                }
                piece(text, line, base, s, map, piece_start, k, pass, out);
                piece_start = pad_end;
                k = pad_end;
            } else if b[k] == b'%' && s[k..].starts_with("%3D") && is_pad_tail(&s[k..run_end]) {
                break;
            } else {
                k += 1;
            }
        }
        piece(text, line, base, s, map, piece_start, run_end, pass, out);
    }
}

fn is_pad_tail(s: &str) -> bool {
    s == "%3D" || s == "%3D%3D" || s == "%3d" || s == "%3d%3d"
}

#[allow(clippy::too_many_arguments)]
fn piece(
    text: &Text,
    line: usize,
    base: usize,
    s: &str,
    map: Option<&[usize]>,
    start: usize,
    end: usize,
    pass: &Pass,
    out: &mut Vec<Assignment>,
) {
    let could_name = pass.could_name;
    let len = end - start;
    if len < 4 {
        return;
    }
    let token = &s[start..end];
    if len > 200 || (len >= 40 && shape::classify(token).is_none()) {
        if let Some(doc) = encoded_document(token) {
            let orig = |i: usize| base + map.map_or(i, |m| m[i.min(m.len() - 1)]);
            out.push(Assignment {
                name: String::new(),
                value: doc,
                start: orig(start),
                end: orig(end - 1) + 1,
                line,
                via: Via::EncodedDocument,
                basic_user: None,
            });
        }
        if len > 200 {
            return;
        }
    }
    let (value, via) = if token.contains('%') {
        match percent_decode(token) {
            Some(v) => (v, Via::PercentEncoded),
            None => return,
        }
    } else {
        (
            token.to_owned(),
            if map.is_some() {
                Via::Escaped
            } else {
                Via::Plain
            },
        )
    };
    let shape = shape::classify(&value);
    if shape.is_none() && shape::decode_inner(&value).is_none() {
        return;
    }
    let b = s.as_bytes();
    if !ends_value(&b[end..]) {
        return;
    }
    if shape.is_some_and(|s| pass.defer.contains(&s)) {
        pass.deferred.borrow_mut().push(line);
        return;
    }
    let bound = header_name_after(b, end).or_else(|| bind(s, start));
    if let Some(n) = &bound
        && !(is_filler(n) || (n.len() == 36 && shape::is_guid(n)) || could_name(n))
    {
        return;
    }
    let name = match bound {
        Some(n) if !is_filler(&n) => Some(n),
        _ => name_from_lines_above(text, line, s, start)
            .or_else(|| name_ending_line_above(text, line, s, start, could_name)),
    };
    let Some(name) = name else {
        return;
    };
    let orig = |i: usize| base + map.map_or(i, |m| m[i.min(m.len() - 1)]);
    let (ostart, oend) = (orig(start), orig(end - 1) + 1);
    if name.eq_ignore_ascii_case("basic") {
        if let Some((user, secret)) = basic_credentials(&value) {
            out.push(Assignment {
                name: "client_secret".into(),
                value: secret,
                start: ostart,
                end: oend,
                line,
                via: Via::BasicAuth,
                basic_user: Some(user),
            });
        }
        return;
    }
    out.push(Assignment {
        name,
        value,
        start: ostart,
        end: oend,
        line,
        via,
        basic_user: None,
    });
}

/// The header a value is set for when the name follows it as a labelled argument:
/// `setValue("...", forHTTPHeaderField: "Ocp-Apim-Subscription-Key")` in Swift and
/// `[r setValue:@"..." forHTTPHeaderField:@"..."]` in Objective-C.
fn header_name_after(b: &[u8], end: usize) -> Option<String> {
    let mut i = end;
    if i < b.len() && is_quote(b[i]) {
        i += 1;
    } else {
        return None;
    }
    let skip_ws = |mut i: usize| {
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        i
    };
    i = skip_ws(i);
    if i < b.len() && b[i] == b',' {
        i = skip_ws(i + 1);
    }
    let label_start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        i += 1;
    }
    let label = std::str::from_utf8(&b[label_start..i]).ok()?;
    if !label.to_ascii_lowercase().contains("header") || i >= b.len() || b[i] != b':' {
        return None;
    }
    i = skip_ws(i + 1);
    if i < b.len() && b[i] == b'@' {
        i += 1;
    }
    if i >= b.len() || !is_quote(b[i]) {
        return None;
    }
    let q = b[i];
    let name_start = i + 1;
    let len = b[name_start..].iter().take(120).position(|&c| c == q)?;
    let name = std::str::from_utf8(&b[name_start..name_start + len]).ok()?;
    (name.bytes().any(|c| c.is_ascii_alphabetic()) && name.bytes().all(is_name_byte))
        .then(|| name.to_owned())
}

/// What may follow a whole value: a closing quote or bracket, a separator, the line's end.
/// A value that runs into `.`, `*`, `$` and the like is a fragment or a mask, not a key.
fn ends_value(rest: &[u8]) -> bool {
    match rest.first() {
        None => true,
        Some(b'\\') => !rest[1..].iter().all(u8::is_ascii_whitespace),
        Some(&c) => matches!(
            c,
            b'"' | b'\''
                | b'`'
                | b' '
                | b'\t'
                | b'\r'
                | b','
                | b';'
                | b')'
                | b']'
                | b'}'
                | b'<'
                | b'&'
                | b'|'
                | b'#'
                // `https://client_id:client_secret@host`
                | b'@'
        ),
    }
}

fn is_quote(b: u8) -> bool {
    matches!(b, b'"' | b'\'' | b'`')
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b':' | b'$' | b'@' | b'/')
}

/// Names that stand between a key and its value (`value`, `default`, `string`, `or`, `s:28`):
/// the real name is further left.
fn is_filler(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let lower = lower.trim_start_matches(['$', '@', ':', '.', '-']);
    matches!(
        lower,
        "value"
            | "val"
            | "default"
            | "defaultvalue"
            | "string"
            | "str"
            | "text"
            | "const"
            | "var"
            | "let"
            | "final"
            | "static"
            | "readonly"
            | "or"
            | "and"
            | "new"
            | "return"
            | "set"
            | "setx"
            | "export"
            | "env"
            | "arg"
            | "some"
            | "ok"
            | "body"
    ) || lower.bytes().all(|b| b.is_ascii_digit())
        // `Secret::new("...")`, `String::from("...")`: a wrapper type, not a key name
        || ["::from", "::new", ".from", ".of", "::parse"].iter().any(|suffix| {
            lower.strip_suffix(suffix).is_some_and(|rest| {
                rest.is_empty()
                    || is_filler(rest)
                    || matches!(rest, "secret" | "secretstring" | "secretbox" | "box" | "arc" | "rc" | "uuid" | "guid")
            })
        })
        || is_serialized_length(lower)
}

/// `s:28` in a PHP-serialized string.
fn is_serialized_length(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 3
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && b[2..].iter().all(u8::is_ascii_digit)
}

/// The key name bound to the value starting at `start`, found by walking left on the line.
pub fn bind(s: &str, start: usize) -> Option<String> {
    let b = s.as_bytes();
    let (name, name_start) = bind_once(b, start, true)?;
    let mut name = name;
    let mut at = name_start;
    for _ in 0..3 {
        if !is_filler(&name) {
            break;
        }
        match bind_once(b, at, false) {
            Some((n, ns)) => {
                name = n;
                at = ns;
            }
            None => return Some(name),
        }
    }
    Some(name)
}

/// One step left: from a value (or a name, when `from_value` is false) to the name before it.
fn bind_once(b: &[u8], start: usize, from_value: bool) -> Option<(String, usize)> {
    let mut i = start;
    if i > 0 && is_quote(b[i - 1]) {
        i -= 1;
        // a quoted string inside a string: `"\"value\""`, `'"value"'` (Gradle `buildConfigField`)
        if from_value {
            if i > 0 && b[i - 1] == b'\\' {
                i -= 1;
            }
            if i > 0 && is_quote(b[i - 1]) {
                i -= 1;
            }
        }
    }
    let ws_end = i;
    while i > 0 && matches!(b[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    let had_ws = i < ws_end;
    let sep_end = i;
    while i > 0
        && sep_end - i < 3
        && (matches!(
            b[i - 1],
            b'=' | b':' | b',' | b'>' | b'|' | b'?' | b'-' | b'(' | b'[' | b'{' | b';'
        ) || (!from_value && matches!(b[i - 1], b'&' | b'*')))
    {
        i -= 1;
    }
    let sep = &b[i..sep_end];
    if from_value {
        if sep.is_empty() && !had_ws {
            return None;
        }
        let ok = sep.is_empty()
            || matches!(
                sep,
                b"=" | b":"
                    | b","
                    | b">"
                    | b"|"
                    | b"=>"
                    | b":="
                    | b":-"
                    | b"??"
                    | b"||"
                    | b"->"
                    | b"=="
            )
            // a method call with the value as its argument: `.clientSecret("...")`
            || (sep == b"(" && i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'));
        if !ok {
            return None;
        }
    }
    while i > 0 && matches!(b[i - 1], b' ' | b'\t') {
        i -= 1;
    }
    let mut j = i;
    while j > 0 && i - j < 2 && matches!(b[j - 1], b']' | b')') {
        j -= 1;
    }
    if j == 0 {
        return None;
    }
    if is_quote(b[j - 1]) {
        let q = b[j - 1];
        let close = j - 1;
        let mut k = close;
        while k > 0 && close - k < 120 {
            if b[k - 1] == q {
                let inner = &b[k..close];
                if inner.iter().any(u8::is_ascii_alphabetic)
                    && !inner
                        .iter()
                        .any(|c| matches!(c, b'\n' | b'(' | b')' | b'<' | b'>'))
                {
                    // `\"name\"` left by one round of unescaping a twice-escaped string
                    let inner = inner.strip_suffix(b"\\").unwrap_or(inner);
                    return Some((String::from_utf8_lossy(inner).into_owned(), k - 1));
                }
                return None;
            }
            k -= 1;
        }
        return None;
    }
    let end = j;
    let mut k = j;
    while k > 0 && end - k < 120 && is_name_byte(b[k - 1]) {
        k -= 1;
    }
    if k == end {
        return None;
    }
    let name = String::from_utf8_lossy(&b[k..end]);
    // the user of `scheme://user:password@host`
    let name = name.rsplit_once("://").map_or(&*name, |(_, user)| user);
    let name = name
        .trim_start_matches(['-', ':', '/', '.'])
        .trim_end_matches([':', '.']);
    if !name.bytes().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some((name.to_owned(), k))
}

static SIBLING_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)["']?\b(?:key|name|header|variable|field)["']?\s*[:=]\s*(?:["']([^"'\n]{1,100})["']|([A-Za-z_][\w.:-]{0,99})\s*$)|<key>\s*([^<\n]{1,100})</key>"#)
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// Postman and HAR keep the name in a sibling field: `"key": "client_secret"` a line or two
/// above `"value": "..."`.
fn name_from_lines_above(text: &Text, line: usize, s: &str, start: usize) -> Option<String> {
    let head = s[..start].trim_end_matches(['"', '\'']);
    let before = match head.strip_suffix('>') {
        // element content: the element's name (`<Value Profile="(Default)">...`)
        Some(h) => h.rfind('<').map_or(h, |lt| {
            let tag = &h[lt + 1..];
            &tag[..tag.find([' ', '\t']).unwrap_or(tag.len())]
        }),
        None => head,
    };
    let before = before.trim_end_matches(['"', '\'', ' ', '\t', ':', '=', '>']);
    let before = before.trim_end_matches(['"', '\'']);
    let word: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if !["value", "default", "string"]
        .iter()
        .any(|w| word.eq_ignore_ascii_case(w))
    {
        return None;
    }
    // the same line first: `<set-header name="Ocp-Apim-Subscription-Key"><value>...`
    let here = std::iter::once(&s[..start]);
    let above = (1..=3)
        .filter_map(|d| line.checked_sub(d))
        .map(|l| text.line(l));
    here.chain(above)
        .find_map(|l| {
            SIBLING_KEY
                .captures_iter(l)
                .last()
                .and_then(|c| c.get(1).or_else(|| c.get(2)).or_else(|| c.get(3)))
                .map(|m| m.as_str().to_owned())
        })
        .or_else(|| {
            // `variable "vipps_client_secret" { default = "..." }`: the block names the value
            let section = super::context::sections(text, line).into_iter().next()?;
            section_name(section)
        })
}

/// The name a section's opening line gives it: `"vipps_client_secret": {` and
/// `variable "vipps_client_secret" {` give `vipps_client_secret`, `[vipps]` gives `vipps`.
fn section_name(line: &str) -> Option<String> {
    let t = line
        .trim()
        .trim_start_matches(['[', '<'])
        .trim_end_matches(['{', '[', '(', ' ', '\t', ':', '=', ']', '>']);
    let name = match t.strip_suffix(['"', '\'']) {
        Some(inner) => inner.rsplit(['"', '\'']).next().unwrap_or(inner),
        None => t
            .rsplit(|c: char| !(c.is_ascii() && is_name_byte(c as u8)))
            .next()
            .unwrap_or(t),
    };
    name.bytes()
        .any(|b| b.is_ascii_alphabetic())
        .then(|| name.to_owned())
}

/// A value alone at the start of its line, named at the end of the line above:
/// `"ClientSecret":` / `"..."` in wrapped JSON, `clientSecret:` / `'...',` in code.
fn name_ending_line_above(
    text: &Text,
    line: usize,
    s: &str,
    start: usize,
    could_name: &dyn Fn(&str) -> bool,
) -> Option<String> {
    if line == 0
        || !s[..start]
            .bytes()
            .all(|b| matches!(b, b' ' | b'\t' | b'"' | b'\'' | b'`'))
    {
        return None;
    }
    let above = text.line(line - 1).trim_end();
    // `name =` with a space: a line ending in `X=` is more likely Base64 padding than a name
    let assigns = above.ends_with(" =") || above.ends_with("\t=");
    if !(above.ends_with([':', '>']) || assigns) || above.ends_with("::") || above.len() > 200 {
        return None;
    }
    let (name, at) = bind_once(above.as_bytes(), above.len(), true)?;
    // the line above is the name alone (`"ClientSecret":`, `secret =`, `<Secret>`), and the name
    // is not itself a value (a list of Base64 digests)
    let lead = &above[..at];
    let alone = lead
        .bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'"' | b'\'' | b'<' | b'-'));
    (alone && !is_filler(&name) && could_name(&name) && shape::classify(&name).is_none())
        .then_some(name)
}

/// Base64 of a text document (several lines or `key=value` pairs): its decoded text.
fn encoded_document(token: &str) -> Option<String> {
    if token.len() > 8 << 20 || token.contains('%') {
        return None;
    }
    // decode a prefix first: most long tokens are not Base64 text, and this says so cheaply
    let head = &token[..token.len().min(64) / 4 * 4];
    let head = shape::decode_base64(head)?;
    if !head
        .iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace())
    {
        return None;
    }
    let bytes = shape::decode_base64(token)?;
    let text = String::from_utf8(bytes).ok()?;
    let structured = text.contains('\n') || text.contains('=') || text.contains(':');
    (structured && text.len() >= 24).then_some(text)
}

/// `base64(client_id:client_secret)` from a Basic authorization header.
pub fn basic_credentials(value: &str) -> Option<(String, String)> {
    let bytes = shape::decode_base64(value)?;
    let decoded = String::from_utf8(bytes).ok()?;
    let (user, secret) = decoded.split_once(':')?;
    (shape::is_guid(user) && shape::classify(secret) == Some(Shape::Base64Secret))
        .then(|| (user.to_owned(), secret.to_owned()))
}

fn percent_decode(token: &str) -> Option<String> {
    let b = token.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = token.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Undoes backslash escapes in a line, keeping a map from each output byte to its input byte.
fn unescape(s: &str) -> (String, Vec<usize>) {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut map = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let (c, skip) = match b[i + 1] {
                b'n' | b'r' | b't' => (b' ', 2),
                b'"' | b'\'' | b'/' | b'\\' => (b[i + 1], 2),
                b'u' => match s
                    .get(i + 2..i + 6)
                    .and_then(|h| u8::try_from(u32::from_str_radix(h, 16).ok()?).ok())
                {
                    Some(c) if c.is_ascii() && c != 0 => (c, 6),
                    _ => (b'\\', 1),
                },
                _ => (b'\\', 1),
            };
            out.push(c);
            map.push(i);
            i += skip;
        } else {
            out.push(b[i]);
            map.push(i);
            i += 1;
        }
    }
    map.push(b.len());
    (String::from_utf8_lossy(&out).into_owned(), map)
}

static BLOCK_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^(\s*)(?:-\s+)?["']?([A-Za-z_$][\w.\-:$]*)["']?\s*[:=]\s*(?:([|>][-+0-9]*)|"([^"]*)\\|([A-Za-z0-9+/=_-]{4,})\\|)\s*$"#)
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// YAML values over several lines: block scalars (`key: |-`), plain values on the lines below an
/// empty `key:`, and double-quoted values continued with `\`. Marks the continuation lines.
fn joined_values(text: &Text, out: &mut Vec<Assignment>, continued: &mut Vec<usize>) {
    let n = text.line_count();
    let mut line = 0;
    while line < n {
        let header = text.line(line);
        if header.len() > 300
            || !(header.ends_with(['|', '>', '-', '+', ':', '\\'])
                || header.trim_end().ends_with(['|', '>', '-', '+', ':', '\\']))
        {
            line += 1;
            continue;
        }
        let Some(c) = BLOCK_HEADER.captures(header) else {
            line += 1;
            continue;
        };
        let indent = c.get(1).map_or(0, |m| m.as_str().len());
        let name = c.get(2).map_or("", |m| m.as_str()).to_owned();
        if let Some(first) = c.get(4).or_else(|| c.get(5)) {
            // "abc\  +  def", and `key=abc\  +  def` in .properties
            let mut value = first.as_str().to_owned();
            let start = text.line_start(line) + first.start();
            let mut l = line + 1;
            while l < n && l <= line + 8 {
                let part = text.line(l).trim();
                continued.push(l);
                if let Some(body) = part.strip_suffix('\\') {
                    value.push_str(body);
                    l += 1;
                } else {
                    value.push_str(part.trim_end_matches('"'));
                    break;
                }
            }
            continued.push(line);
            let end = text.line_start(line) + header.len();
            out.push(joined(name, value, start, end, line));
            line = l + 1;
            continue;
        }
        let block = c.get(3).is_some();
        let mut value = String::new();
        let mut first_line = None;
        let mut l = line + 1;
        while l < n && l <= line + 8 {
            let s = text.line(l);
            let trimmed = s.trim();
            let ind = s.len() - s.trim_start().len();
            if trimmed.is_empty() {
                l += 1;
                continue;
            }
            // a quoted value below its name is one token, read with the line above as its name
            if ind <= indent
                || (!block
                    && (trimmed.contains(": ")
                        || trimmed.starts_with(['-', '"', '\''])
                        || trimmed.ends_with(':')))
            {
                break;
            }
            // a block holding a document (`vipps.env: |` with `KEY=value` lines) is read line
            // by line; only a value wrapped over lines is joined
            if !is_wrapped_piece(trimmed) {
                first_line = None;
                break;
            }
            if first_line.is_none() {
                first_line = Some(l);
            }
            value.push_str(trimmed);
            l += 1;
        }
        if let Some(first) = first_line {
            let s = text.line(first);
            let start = text.line_start(first) + (s.len() - s.trim_start().len());
            for cl in first..l {
                continued.push(cl);
            }
            let end = text.line_start(first) + s.trim_end().len();
            out.push(joined(name, value, start, end, first));
            line = l;
        } else {
            line += 1;
        }
    }
    continued.sort_unstable();
}

/// One line of a value wrapped over lines: value bytes only, `=` only as padding at its end.
fn is_wrapped_piece(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(|b| is_token_byte(b) && b != b'=')
}

fn joined(name: String, value: String, start: usize, end: usize, line: usize) -> Assignment {
    Assignment {
        name,
        end: end.max(start + 1),
        value,
        start,
        line,
        via: Via::Joined,
        basic_user: None,
    }
}

/// Splits a delimited line into (byte offset, field) pairs, trimming spaces and quotes.
fn fields(line: &str, delimiter: char) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut at = 0;
    for part in line.split(delimiter) {
        let lead = part.len() - part.trim_start_matches([' ', '"', '\'']).len();
        out.push((at + lead, part.trim_matches([' ', '"', '\'', '\r'])));
        at += part.len() + 1;
    }
    out
}

/// CSV and TSV with a header row: each value named by its column.
fn table_columns(text: &Text, out: &mut Vec<Assignment>) {
    let Some(header_line) =
        (0..text.line_count().min(5)).find(|&l| !text.line(l).trim().is_empty())
    else {
        return;
    };
    let header = text.line(header_line);
    let lower = header.to_ascii_lowercase();
    if header.len() > 2000
        || !(lower.contains("secret") || lower.contains("key") || lower.contains("client"))
    {
        return;
    }
    let Some(delimiter) = [',', '\t', ';']
        .into_iter()
        .find(|&d| header.matches(d).count() >= 1)
    else {
        return;
    };
    let names: Vec<&str> = fields(header, delimiter)
        .into_iter()
        .map(|(_, f)| f)
        .collect();
    let name_like = |f: &str| {
        !f.is_empty()
            && f.len() <= 60
            && f.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-. :".contains(&b))
    };
    if names.len() < 2 || !names.iter().all(|f| name_like(f)) {
        return;
    }
    for line in header_line + 1..text.line_count() {
        let row = text.line(line);
        let cells = fields(row, delimiter);
        if cells.len() != names.len() {
            continue;
        }
        let base = text.line_start(line);
        for ((offset, value), name) in cells.into_iter().zip(&names) {
            if value.len() <= 200
                && (shape::classify(value).is_some() || shape::decode_inner(value).is_some())
            {
                out.push(Assignment {
                    name: (*name).to_owned(),
                    value: value.to_owned(),
                    start: base + offset,
                    end: base + offset + value.len(),
                    line,
                    via: Via::SqlColumn,
                    basic_user: None,
                });
            }
        }
    }
}

static INSERT_COLUMNS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)insert\s+into\s+[^(;]{1,200}?\(([^)]{1,2000})\)\s*values\s*")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

/// SQL `INSERT INTO t (a, b) VALUES ('x', 'y')`: each value named by its column.
fn sql_columns(text: &Text, out: &mut Vec<Assignment>) {
    let t = &text.text;
    if memchr::memmem::find(t.as_bytes(), b"INSERT").is_none()
        && memchr::memmem::find(t.as_bytes(), b"insert").is_none()
    {
        return;
    }
    for c in INSERT_COLUMNS.captures_iter(t) {
        let (Some(cols), Some(whole)) = (c.get(1), c.get(0)) else {
            continue;
        };
        let columns: Vec<String> = cols
            .as_str()
            .split(',')
            .map(|c| c.trim().trim_matches(['`', '"', '\'', '[', ']']).to_owned())
            .collect();
        let b = t.as_bytes();
        let mut i = whole.end();
        let mut depth = 0;
        let mut index = 0;
        while i < b.len() {
            match b[i] {
                b'(' => {
                    depth += 1;
                    if depth == 1 {
                        index = 0;
                    }
                }
                b')' => depth -= 1,
                b',' if depth == 1 => index += 1,
                b';' if depth == 0 => break,
                b'\'' => {
                    let start = i + 1;
                    let mut k = start;
                    while k < b.len() && !(b[k] == b'\'' && b.get(k + 1) != Some(&b'\'')) {
                        k += if b[k] == b'\'' || b[k] == b'\\' { 2 } else { 1 };
                    }
                    let k = k.min(b.len());
                    // a `value` column is named by the row's other fields (`path`, `name`),
                    // which the line reading finds
                    if depth == 1
                        && let (Some(col), Some(value)) = (columns.get(index), t.get(start..k))
                        && !is_filler(col)
                        && value.len() <= 200
                        && shape::classify(value).is_some()
                    {
                        out.push(Assignment {
                            name: col.clone(),
                            value: value.to_owned(),
                            start,
                            end: k,
                            line: text.line_of(start),
                            via: Via::SqlColumn,
                            basic_user: None,
                        });
                    }
                    i = k;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> Vec<(String, String)> {
        let text = crate::decode::decode(src.as_bytes()).unwrap();
        assignments(&text)
            .into_iter()
            .map(|a| (a.name, a.value))
            .collect()
    }

    const SECRET: &str = "DkGpFvF9TxinHJSopa/6aw==";

    #[test]
    fn binds_names_in_many_syntaxes() {
        for (src, want) in [
            (
                format!("VIPPS_CLIENT_SECRET={SECRET}"),
                "VIPPS_CLIENT_SECRET",
            ),
            (format!("  \"ClientSecret\": \"{SECRET}\","), "ClientSecret"),
            (
                format!("<add key=\"Vipps:ClientSecret\" value=\"{SECRET}\" />"),
                "Vipps:ClientSecret",
            ),
            (
                format!("req.Headers.Add(\"client_secret\", \"{SECRET}\");"),
                "client_secret",
            ),
            (
                format!("  -H \"client_secret: {SECRET}\" \\"),
                "client_secret",
            ),
            (format!("'secret_test' => '{SECRET}',"), "secret_test"),
            (
                format!("req[\"client_secret\"] = \"{SECRET}\""),
                "client_secret",
            ),
            (
                format!("const string ClientSecret = \"{SECRET}\";"),
                "ClientSecret",
            ),
            (
                format!("s:11:\"secret_test\";s:24:\"{SECRET}\";"),
                "secret_test",
            ),
            (
                format!("<ClientSecret>{SECRET}</ClientSecret>"),
                "ClientSecret",
            ),
            (
                format!("VIPPS_CLIENT_SECRET            {SECRET}"),
                "VIPPS_CLIENT_SECRET",
            ),
            (
                format!("env('VIPPS_CLIENT_SECRET', '{SECRET}'),"),
                "VIPPS_CLIENT_SECRET",
            ),
            (
                format!("\"body\": \"{{\\\"ClientSecret\\\": \\\"{SECRET}\\\"}}\""),
                "ClientSecret",
            ),
            (
                format!(
                    "buildConfigField \"String\", \"VIPPS_CLIENT_SECRET\", \"\\\"{SECRET}\\\"\""
                ),
                "VIPPS_CLIENT_SECRET",
            ),
            (
                format!("buildConfigField 'String', 'VIPPS_CLIENT_SECRET', '\"{SECRET}\"'"),
                "VIPPS_CLIENT_SECRET",
            ),
            (
                format!("r.setValue(\"{SECRET}\", forHTTPHeaderField: \"client_secret\")"),
                "client_secret",
            ),
            (
                format!("[r setValue:@\"{SECRET}\" forHTTPHeaderField:@\"client_secret\"];"),
                "client_secret",
            ),
            (
                format!("https://6f1c2a9e-4b7d-4e0a-9c3f-2d8e5a7b1c4f:{SECRET}@api.vipps.no/"),
                "6f1c2a9e-4b7d-4e0a-9c3f-2d8e5a7b1c4f",
            ),
            (
                format!("VIPPS_CLIENT_SECRET=\"${{VIPPS_CLIENT_SECRET:-{SECRET}}}\""),
                "VIPPS_CLIENT_SECRET",
            ),
            (
                format!("{{\n  \"ClientSecret\":\n    \"{SECRET}\"\n}}"),
                "ClientSecret",
            ),
            (
                format!("  clientSecret:\n    '{SECRET}',\n"),
                "clientSecret",
            ),
            (
                format!(
                    "<Setting Name=\"VippsClientSecret\">\n  <Value Profile=\"(Default)\">{SECRET}</Value>"
                ),
                "VippsClientSecret",
            ),
        ] {
            let got = names(&src);
            assert!(
                got.iter().any(|(n, v)| n == want && v == SECRET),
                "{src}: {got:?}"
            );
        }
    }

    #[test]
    fn refuses_fragments_and_references() {
        for src in [
            format!("secret=${{{SECRET}}}"),
            format!("ClientSecret: \"abcd{SECRET}...\""),
            format!("x.{SECRET}"),
        ] {
            let got = names(&src);
            assert!(!got.iter().any(|(_, v)| v == SECRET), "{src}: {got:?}");
        }
    }

    #[test]
    fn a_file_that_is_one_value_is_named_by_its_file_name() {
        let text = crate::decode::decode(format!("{SECRET}\n").as_bytes()).unwrap();
        let a = whole_file_value("run/secrets/vipps_client_secret.txt", &text).unwrap();
        assert_eq!(
            (a.name.as_str(), a.value.as_str()),
            ("vipps_client_secret", SECRET)
        );
        let two = crate::decode::decode(format!("{SECRET} {SECRET}\n").as_bytes()).unwrap();
        assert!(whole_file_value("vipps_client_secret", &two).is_none());
        assert!(whole_file_value(".env", &text).is_none());
    }

    #[test]
    fn sections_name_the_values_inside() {
        for (line, want) in [
            ("  \"vipps_client_secret\": {", "vipps_client_secret"),
            ("variable \"vipps_client_secret\" {", "vipps_client_secret"),
            ("[vipps]", "vipps"),
            ("vipps:", "vipps"),
        ] {
            assert_eq!(section_name(line).as_deref(), Some(want), "{line}");
        }
    }

    #[test]
    fn postman_sibling_key() {
        let got = names(&format!(
            "{{\n  \"key\": \"client_secret\",\n  \"value\": \"{SECRET}\"\n}}"
        ));
        assert!(
            got.contains(&("client_secret".into(), SECRET.into())),
            "{got:?}"
        );
    }

    #[test]
    fn yaml_values_over_lines() {
        let got =
            names("a:\n  secret: |-\n    qDHx/QTqkR8oMvOs7L91gI\n    BKjudnrJGsNDr8QrZ74Kg=\n");
        assert!(
            got.contains(&(
                "secret".into(),
                "qDHx/QTqkR8oMvOs7L91gIBKjudnrJGsNDr8QrZ74Kg=".into()
            )),
            "{got:?}"
        );
        let got = names("a:\n  secret: \"96oFD48QXjMuLxrBq2/gRC\\\n    4Id0gMIzdoXfltFU2P\"\n");
        assert!(
            got.contains(&(
                "secret".into(),
                "96oFD48QXjMuLxrBq2/gRC4Id0gMIzdoXfltFU2P".into()
            )),
            "{got:?}"
        );
    }

    #[test]
    fn percent_encoded_form_body() {
        let got =
            names("grant_type=client_credentials&client_secret=vP635%2Bi2lhNqhgCcUxq2ig%3D%3D");
        assert!(
            got.contains(&("client_secret".into(), "vP635+i2lhNqhgCcUxq2ig==".into())),
            "{got:?}"
        );
    }

    #[test]
    fn sql_insert_columns() {
        let got = names(&format!(
            "INSERT INTO p (name, client_secret) VALUES\n  ('vipps', '{SECRET}');"
        ));
        assert!(
            got.contains(&("client_secret".into(), SECRET.into())),
            "{got:?}"
        );
    }
}
