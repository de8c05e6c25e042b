//! Context: what a key's surroundings say about it.
//!
//! Evidence that a key is a Vipps MobilePay key comes from its own name, the section it sits in
//! (a JSON/YAML parent, an INI section, the line that opens the block), marker text close by
//! (`vipps`, hosts, `Merchant-Serial-Number`), the file's path, and text anywhere in the file.
//! Another service named in the name or section, or another API's host closer than any Vipps
//! marker, says it is not a Vipps key.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::words::{KeyName, split_words};
use crate::decode::Text;
use crate::rules::Context;

/// How sure the surroundings make us that a key is Vipps MobilePay's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Evidence {
    /// Another service is named closer than Vipps.
    Foreign,
    None,
    /// Vipps is named somewhere in the file.
    File,
    /// Vipps is named in the path or within a few dozen lines.
    Medium,
    /// Vipps is named within three lines.
    Near,
    /// Vipps is named on the key's own line, close to it.
    SameLine,
    /// Vipps is in the key's own name or its section.
    Strong,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Test,
    Production,
    Unknown,
}

impl Environment {
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Test => "test",
            Environment::Production => "production",
            Environment::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MarkerKind {
    Vipps,
    Foreign,
    Test,
    Production,
}

/// Compiled context matchers, shared by all files.
pub struct Matchers {
    markers: AhoCorasick,
    kinds: Vec<MarkerKind>,
    /// The markers in their common spellings, searched with SIMD where the CPU has it, and the
    /// kind of each spelling.
    markers_simd: Option<Vec<(aho_corasick::packed::Searcher, Vec<MarkerKind>)>>,
    foreign_words: Vec<String>,
    pub documentation_examples: Vec<String>,
}

impl Matchers {
    pub fn new(ctx: &Context) -> Self {
        let mut patterns = Vec::new();
        let mut kinds = Vec::new();
        for (list, kind) in [
            (&ctx.test_markers, MarkerKind::Test),
            (&ctx.production_markers, MarkerKind::Production),
            (&ctx.vipps_markers, MarkerKind::Vipps),
            (&ctx.foreign_markers, MarkerKind::Foreign),
        ] {
            for p in list {
                patterns.push(p.to_ascii_lowercase());
                kinds.push(kind);
            }
        }
        let markers = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .unwrap_or_else(|e| unreachable!("marker patterns: {e}"));
        let mut spelled = Vec::new();
        let mut spelled_kinds = Vec::new();
        for (p, kind) in patterns.iter().zip(&kinds) {
            for spelling in spellings(p) {
                spelled.push(spelling);
                spelled_kinds.push(*kind);
            }
        }
        // SIMD searchers take a few dozen patterns each
        let markers_simd = spelled
            .chunks(48)
            .zip(spelled_kinds.chunks(48))
            .map(|(words, kinds)| {
                aho_corasick::packed::Config::new()
                    .match_kind(aho_corasick::packed::MatchKind::LeftmostLongest)
                    .builder()
                    .extend(words)
                    .build()
                    .map(|searcher| (searcher, kinds.to_vec()))
            })
            .collect::<Option<Vec<_>>>();
        Matchers {
            markers,
            kinds,
            markers_simd,
            foreign_words: ctx.foreign_words.clone(),
            documentation_examples: ctx.documentation_examples.clone(),
        }
    }

    pub fn is_foreign_word(&self, word: &str) -> bool {
        self.foreign_words.iter().any(|w| w == word)
    }

    /// Whether the words name another service, alone or joined with the next word
    /// (`auth` + `0`, `text` + `analytics`).
    pub fn names_foreign(&self, words: &[String]) -> bool {
        words.iter().any(|w| self.is_foreign_word(w))
            || words
                .windows(2)
                .any(|p| self.is_foreign_word(&format!("{}{}", p[0], p[1])))
    }

    /// Finds the markers in a file once.
    pub fn scan(&self, path: &str, text: &Text) -> FileContext {
        let mut vipps = Vec::new();
        let mut foreign = Vec::new();
        let mut hosts = Vec::new();
        let found: Vec<(usize, MarkerKind)> = match &self.markers_simd {
            Some(searchers) => {
                let mut all: Vec<(usize, MarkerKind)> = searchers
                    .iter()
                    .flat_map(|(simd, kinds)| {
                        simd.find_iter(&text.text)
                            .map(|m| (m.start(), kinds[m.pattern().as_usize()]))
                    })
                    .collect();
                all.sort_by_key(|(start, _)| *start);
                all
            }
            None => self
                .markers
                .find_iter(&text.text)
                .map(|m| (m.start(), self.kinds[m.pattern().as_usize()]))
                .collect(),
        };
        for (start, kind) in found {
            match kind {
                MarkerKind::Vipps => vipps.push(start),
                MarkerKind::Foreign => foreign.push(start),
                MarkerKind::Test => {
                    vipps.push(start);
                    hosts.push((start, Environment::Test));
                }
                MarkerKind::Production => {
                    vipps.push(start);
                    hosts.push((start, Environment::Production));
                }
            }
        }
        let path_words = split_words(path);
        let path_vipps = path_words.iter().any(|w| is_vipps_word(w));
        let ini_headers = (0..text.line_count())
            .filter(|&l| is_ini_header(text.line(l)))
            .collect();
        let mut vipps_section_indents: Vec<usize> = Vec::new();
        let mut last_line = usize::MAX;
        for &o in &vipps {
            let l = text.line_of(o);
            if l == last_line {
                continue;
            }
            last_line = l;
            let line = text.line(l);
            if line.len() <= 200
                && opens_section(line)
                && split_words(line).iter().any(|w| is_vipps_word(w))
            {
                vipps_section_indents.push(indent(line));
            }
        }
        vipps_section_indents.sort_unstable();
        vipps_section_indents.dedup();
        FileContext {
            ini_headers,
            vipps_section_indents,
            vipps,
            foreign,
            hosts,
            path_vipps,
            path_words,
        }
    }
}

/// Whether a path names Vipps MobilePay (`src/vipps/token.js`, `MobilePayClient.cs`).
pub fn path_names_vipps(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.contains("vipps") || lower.contains("mobilepay")
}

/// The spellings a marker is written in: lower case, capitals, capitalised, each part
/// capitalised (`Merchant-Serial-Number`), and glued words in Pascal and camel case
/// (`MerchantSerialNumber`, `merchantSerialNumber`, `accessToken/get`). Searching these exactly
/// lets the search use SIMD.
pub fn spellings(marker: &str) -> Vec<String> {
    let lower = marker.to_ascii_lowercase();
    let mut out = vec![lower.clone()];
    let is_host = lower.contains('.') && !lower.contains(['-', '_']);
    if !is_host {
        let pascal = capitalise_runs(&lower, true);
        out.push(lower.to_ascii_uppercase());
        out.push(capitalise_first(&lower));
        out.push(capitalise_runs(&lower, false));
        out.push(lower_first(&pascal));
        out.push(pascal);
        // `accessToken/get`: only the first run in camel case
        let split = lower
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(lower.len());
        let (head, tail) = lower.split_at(split);
        out.push(lower_first(&capitalise_runs(head, true)) + tail);
        if lower == "mobilepay" {
            out.extend(["MobilePay", "mobilePay"].map(String::from));
        }
    }
    out.sort();
    out.dedup();
    out
}

fn capitalise_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_ascii_lowercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Capitalises each run of letters, and with `words` each vocabulary word inside a run.
fn capitalise_runs(s: &str, words: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.is_empty() {
            return;
        }
        let parts = if words {
            split_words(run)
        } else {
            vec![run.clone()]
        };
        for p in parts {
            out.push_str(&capitalise_first(&p));
        }
        run.clear();
    };
    for ch in s.chars() {
        if ch.is_ascii_alphabetic() {
            run.push(ch);
        } else {
            flush(&mut run, &mut out);
            out.push(ch);
        }
    }
    flush(&mut run, &mut out);
    out
}

pub fn is_vipps_word(w: &str) -> bool {
    w == "vipps" || w == "mobilepay"
}

/// Where the markers of one file are.
pub struct FileContext {
    /// Lines that are `[section]` headers.
    ini_headers: Vec<usize>,
    /// Indentations at which a section named for Vipps opens: another section there belongs to
    /// another service.
    vipps_section_indents: Vec<usize>,
    vipps: Vec<usize>,
    foreign: Vec<usize>,
    hosts: Vec<(usize, Environment)>,
    path_vipps: bool,
    path_words: Vec<String>,
}

/// Nearest marker to `offset`: (line distance, byte distance).
fn nearest(text: &Text, offsets: &[usize], offset: usize) -> Option<(usize, usize)> {
    let i = offsets.partition_point(|&o| o < offset);
    let line = text.line_of(offset);
    [i.checked_sub(1), Some(i)]
        .into_iter()
        .flatten()
        .filter_map(|j| offsets.get(j))
        .map(|&o| (text.line_of(o).abs_diff(line), o.abs_diff(offset)))
        .min()
}

/// The environment of the host nearest to `offset`, by lines and then by bytes. `hosts` is in
/// offset order, so the nearest is one of the two beside `offset` (the earlier on a tie).
fn nearest_host(text: &Text, hosts: &[(usize, Environment)], offset: usize) -> Option<Environment> {
    let line = text.line_of(offset);
    let i = hosts.partition_point(|(o, _)| *o < offset);
    [i.checked_sub(1), Some(i)]
        .into_iter()
        .flatten()
        .filter_map(|j| hosts.get(j))
        .min_by_key(|(o, _)| (text.line_of(*o).abs_diff(line), o.abs_diff(offset)))
        .map(|(_, env)| *env)
}

impl FileContext {
    pub fn mentions_vipps(&self) -> bool {
        self.path_vipps || !self.vipps.is_empty()
    }

    /// The evidence that the key bound to `name` at byte `offset` is a Vipps key.
    pub fn evidence(&self, m: &Matchers, text: &Text, name: &KeyName, offset: usize) -> Evidence {
        if name.words.iter().any(|w| is_vipps_word(w)) {
            return Evidence::Strong;
        }
        if m.names_foreign(&name.words) {
            return Evidence::Foreign;
        }
        for (indent, section) in self.sections(text, text.line_of(offset)) {
            let words = split_words(section);
            if words.iter().any(|w| is_vipps_word(w)) {
                return Evidence::Strong;
            }
            // a section beside the Vipps one (`"Keycloak": {` next to `"Vipps": {`) is another
            // service's, whatever its name
            if m.names_foreign(&words)
                || (self.vipps_section_indents.contains(&indent)
                    && !words.iter().all(|w| is_generic_section_word(w)))
            {
                return Evidence::Foreign;
            }
        }
        let vipps = nearest(text, &self.vipps, offset);
        let foreign = nearest(text, &self.foreign, offset);
        if let Some(f) = foreign
            && f.0 <= 12
            && vipps.is_none_or(|v| f < v)
        {
            return Evidence::Foreign;
        }
        match vipps {
            Some((0, bytes)) if bytes <= 400 => Evidence::SameLine,
            Some((lines, bytes)) if lines <= 3 && bytes <= 1500 => Evidence::Near,
            Some((lines, bytes)) if lines <= 40 && bytes <= 8000 => Evidence::Medium,
            _ if self.path_vipps => Evidence::Medium,
            Some(_) => Evidence::File,
            None => Evidence::None,
        }
    }

    /// Test or production: the name says so, else the nearest Vipps host, else the path.
    pub fn environment(&self, text: &Text, name: &KeyName, offset: usize) -> Environment {
        if let Some(env) = env_from_words(&name.words) {
            return env;
        }
        if let Some(env) = nearest_host(text, &self.hosts, offset) {
            return env;
        }
        env_from_words(&self.path_words).unwrap_or(Environment::Unknown)
    }
}

impl FileContext {
    /// `sections`, with the INI header found by a lookup instead of a walk.
    fn sections<'t>(&self, text: &'t Text, line: usize) -> Vec<(usize, &'t str)> {
        let mut out = indented_sections_at(text, line);
        let i = self.ini_headers.partition_point(|&h| h < line);
        if let Some(&h) = i.checked_sub(1).and_then(|i| self.ini_headers.get(i)) {
            out.push((0, text.line(h).trim()));
        }
        out
    }
}

fn is_ini_header(s: &str) -> bool {
    let t = s.trim_end();
    t.len() >= 3
        && t.len() <= 200
        && t.starts_with('[')
        && t.ends_with(']')
        && !t.contains(',')
        && !t.contains('"')
}

/// `indented_sections` with the indentation of each.
fn indented_sections_at(text: &Text, line: usize) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut level = indent(text.line(line));
    let mut l = line;
    let limit = line.saturating_sub(300);
    while l > limit && level > 0 {
        l -= 1;
        let s = text.line(l);
        let trimmed = s.trim();
        if trimmed.is_empty() || s.len() > 400 {
            continue;
        }
        let ind = indent(s);
        if ind < level
            && (!trimmed.starts_with(['#', '/', '*', '<', '!'])
                || (trimmed.starts_with('<') && !trimmed.starts_with("</")))
        {
            out.push((ind, trimmed));
            level = ind;
        }
    }
    out
}

/// Words of sections that hold settings of any kind (`appSettings`, `secrets`, `env`), which a
/// Vipps key may sit in even beside a section named for Vipps.
fn is_generic_section_word(w: &str) -> bool {
    matches!(
        w,
        "app"
            | "settings"
            | "appsettings"
            | "application"
            | "config"
            | "configuration"
            | "secrets"
            | "secret"
            | "credentials"
            | "creds"
            | "env"
            | "environment"
            | "variables"
            | "vars"
            | "data"
            | "string"
            | "stringdata"
            | "values"
            | "headers"
            | "header"
            | "keys"
            | "options"
            | "properties"
            | "params"
            | "parameters"
            | "default"
            | "defaults"
            | "add"
            | "payment"
            | "payments"
            | "providers"
            | "provider"
            | "integrations"
            | "auth"
            | "authentication"
            | "api"
            | "apis"
            | "spring"
            | "production"
            | "test"
            | "development"
            | "staging"
            | "local"
            | "dev"
            | "prod"
            | "common"
            | "shared"
            | "global"
    ) || w.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a line opens a section: `"Vipps": {`, `vipps:`, `<vipps>`, `[vipps]`, `VIPPS = {`.
fn opens_section(line: &str) -> bool {
    let t = line.trim();
    if t.starts_with(['#', '/', ';', '*']) || t.starts_with("<!--") || t.starts_with("</") {
        return false;
    }
    is_ini_header(t)
        || t.ends_with(['{', '[', '(', ':'])
        || (t.starts_with('<') && t.ends_with('>') && !t.ends_with("/>") && !t[1..].contains('<'))
}

fn env_from_words(words: &[String]) -> Option<Environment> {
    words.iter().rev().find_map(|w| match w.as_str() {
        "test" | "tests" | "sandbox" | "staging" | "stage" | "dev" | "development" | "mt" => {
            Some(Environment::Test)
        }
        "prod" | "production" | "live" => Some(Environment::Production),
        _ => None,
    })
}

fn indent(s: &str) -> usize {
    s.len() - s.trim_start_matches([' ', '\t']).len()
}

/// The lines that open the sections around `line`, nearest first: less-indented lines above it
/// (JSON, YAML, XML, code blocks) and the `[section]` header of INI and TOML files.
pub fn sections(text: &Text, line: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let current = text.line(line);
    let mut level = indent(current);
    let mut l = line;
    let limit = line.saturating_sub(300);
    while l > limit {
        l -= 1;
        let s = text.line(l);
        let trimmed = s.trim();
        if trimmed.is_empty() || s.len() > 400 {
            continue;
        }
        if trimmed.starts_with('[')
            && trimmed.ends_with(']')
            && indent(s) == 0
            && !trimmed.contains(',')
        {
            out.push(trimmed);
            break;
        }
        if level == 0 {
            continue;
        }
        let ind = indent(s);
        if ind < level && !trimmed.starts_with(['#', '/', '*', '<', '!'])
            || (ind < level && trimmed.starts_with('<') && !trimmed.starts_with("</"))
        {
            out.push(trimmed);
            level = ind;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;

    #[test]
    fn sections_nearest_first() {
        let t = decode(b"a:\n  vipps:\n    x: 1\n    secret: 2\n").unwrap();
        assert_eq!(sections(&t, 3), ["vipps:", "a:"]);
        let t = decode(b"[vipps]\nhost = x\nsecret = y\n").unwrap();
        assert_eq!(sections(&t, 2), ["[vipps]"]);
    }
}

#[cfg(test)]
mod spelling_tests {
    use super::spellings;

    #[test]
    fn markers_are_searched_as_people_write_them() {
        let s = spellings("merchant-serial-number");
        for want in [
            "merchant-serial-number",
            "Merchant-Serial-Number",
            "MERCHANT-SERIAL-NUMBER",
        ] {
            assert!(s.iter().any(|x| x == want), "{want} not in {s:?}");
        }
        let s = spellings("merchantserialnumber");
        for want in [
            "merchantSerialNumber",
            "MerchantSerialNumber",
            "MERCHANTSERIALNUMBER",
        ] {
            assert!(s.iter().any(|x| x == want), "{want} not in {s:?}");
        }
        let s = spellings("mobilepay");
        for want in [
            "mobilepay",
            "MobilePay",
            "mobilePay",
            "Mobilepay",
            "MOBILEPAY",
        ] {
            assert!(s.iter().any(|x| x == want), "{want} not in {s:?}");
        }
        assert!(
            spellings("accesstoken/get")
                .iter()
                .any(|x| x == "accessToken/get")
        );
        assert_eq!(spellings("api.vipps.no"), ["api.vipps.no"]);
    }
}
