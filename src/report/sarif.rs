//! SARIF 2.1.0 output for code scanning, built with `serde-sarif`.
//!
//! No secret goes into a message, a snippet or a property: results carry the redacted value and
//! the fingerprint only.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent, VersionControlDetails,
};

use super::{Report, remediation_steps};
use crate::finding::Finding;
use crate::rules::{KeyKind, Rule, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Characters that are percent-encoded in a SARIF URI: everything outside RFC 3986's
/// unreserved and sub-delimiter sets, plus `%`, `?` and `#` so paths are never read as queries.
const URI_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'?')
    .add(b'#');

/// A finding's path as a relative SARIF URI.
pub fn uri(report: &Report, path: &str) -> String {
    let relative = relative_path(report, path);
    // a byte that is not UTF-8 is shown as `\xHH` in paths; in a URI it is `%HH`
    let mut out = String::with_capacity(relative.len());
    let mut rest = relative.as_str();
    while let Some(at) = rest.find("\\x") {
        let hex = rest
            .get(at + 2..at + 4)
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
        let (before, after) = rest.split_at(at);
        out.extend(utf8_percent_encode(before, URI_ESCAPES));
        match hex {
            Some(h) => {
                out.push('%');
                out.push_str(&h.to_ascii_uppercase());
                rest = &after[4..];
            }
            None => {
                out.extend(utf8_percent_encode(&after[..1], URI_ESCAPES));
                rest = &after[1..];
            }
        }
    }
    out.extend(utf8_percent_encode(rest, URI_ESCAPES));
    out
}

fn relative_path(report: &Report, path: &str) -> String {
    let (file, member) = match path.split_once("!/") {
        Some((f, m)) => (f, Some(m)),
        None => (path, None),
    };
    let mut rel = file.to_owned();
    if let Some(root) = report.root {
        let root_shown = crate::scan::display_path(root);
        let root_shown = root_shown.trim_end_matches('/');
        if root_shown == "." || root_shown.is_empty() {
        } else if let Some(rest) = file
            .strip_prefix(root_shown)
            .and_then(|r| r.strip_prefix('/'))
        {
            rel = rest.to_owned();
        } else if file == root_shown {
            rel = std::path::Path::new(file)
                .file_name()
                .map_or_else(|| file.to_owned(), |n| n.to_string_lossy().into_owned());
        }
    }
    // A URI never climbs out of the root or starts at the file system's.
    let parts: Vec<&str> = rel
        .split('/')
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .collect();
    let mut rel = parts.join("/");
    if let Some(m) = member {
        rel = format!("{rel}!/{m}");
    }
    rel
}

fn level(sev: Severity) -> ResultLevel {
    match sev {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Note => ResultLevel::Note,
    }
}

fn text(s: &str) -> MultiformatMessageString {
    MultiformatMessageString::builder()
        .text(one_line(s))
        .build()
}

/// Joins the backslash-continued lines of a TOML multi-line string.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn descriptor(rule: &Rule) -> ReportingDescriptor {
    let steps = remediation_steps(rule);
    let help_text = format!(
        "{}\n\nHow to fix:\n{}",
        one_line(&rule.description),
        steps.join("\n")
    );
    let mut help_md = format!("{}\n\n**How to fix**\n\n", one_line(&rule.description));
    for s in &steps {
        help_md.push_str(s);
        help_md.push('\n');
    }
    if !rule.references.is_empty() {
        help_md.push_str("\n**References**\n\n");
        for r in &rule.references {
            help_md.push_str(&format!("- <{r}>\n"));
        }
    }
    let mut descriptor_extra = None;
    if let Some(uri) = rule.references.first() {
        descriptor_extra = Some(uri.clone());
    }
    let mut props = BTreeMap::new();
    props.insert(
        "security-severity".to_owned(),
        json!(format!("{:.1}", rule.security_severity)),
    );
    props.insert("precision".to_owned(), json!(rule.precision));
    props.insert("kind".to_owned(), json!(rule.kind));
    // Code scanning files a rule with a security-severity under security only when it is tagged so.
    let mut tags = rule.tags.clone();
    if !tags.iter().any(|t| t == "security") {
        tags.insert(0, "security".to_owned());
    }
    let mut d = ReportingDescriptor::builder()
        .id(rule.id.clone())
        .name(rule.name.clone())
        .short_description(text(&rule.summary))
        .full_description(text(&rule.description))
        .help(
            MultiformatMessageString::builder()
                .text(help_text)
                .markdown(help_md)
                .build(),
        )
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(rule.severity.as_str()))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(tags)
                .additional_properties(props)
                .build(),
        )
        .build();
    d.help_uri = descriptor_extra;
    d
}

/// Where a location points. An archive member has no file of its own in the repository, so
/// its location is the archive as a whole (line 1) and the member is named in the message.
fn location(
    report: &Report,
    path: &str,
    line: usize,
    column: usize,
    end_column: usize,
    msg: Option<String>,
) -> Location {
    let region = if archive_member(path).is_some() {
        Region::builder().start_line(1).build()
    } else {
        Region::builder()
            .start_line(line as i64)
            .start_column(column as i64)
            .end_column(end_column.max(column + 1) as i64)
            .build()
    };
    let file = archive_member(path).map_or(path, |(archive, _)| archive);
    let physical = PhysicalLocation::builder()
        .artifact_location(
            ArtifactLocation::builder()
                .uri(uri(report, file))
                .uri_base_id("%SRCROOT%")
                .build(),
        )
        .region(region)
        .build();
    match msg {
        Some(m) => Location::builder()
            .physical_location(physical)
            .message(Message::builder().text(m).build())
            .build(),
        None => Location::builder().physical_location(physical).build(),
    }
}

/// `a.zip!/dir/x.env` -> (`a.zip`, `dir/x.env`).
fn archive_member(path: &str) -> Option<(&str, &str)> {
    path.split_once("!/")
}

/// The file on disk that a finding's SARIF location names, when there is one to read: the
/// scan root joined with the URI's path, or the path as given when there was no single root.
/// Standard input has none.
fn source_file(report: &Report, path: &str) -> Option<PathBuf> {
    if path == "<stdin>" {
        return None;
    }
    let file = archive_member(path).map_or(path, |(archive, _)| archive);
    match report.root {
        Some(root) => Some(root.join(relative_path(report, file))),
        None => Some(PathBuf::from(file)),
    }
}

/// GitHub's `primaryLocationLineHash` of every line of each file a result points at, read once.
#[derive(Default)]
struct LineHashes {
    files: HashMap<PathBuf, Option<Vec<String>>>,
}

impl LineHashes {
    /// The hash of `line` (1-based) in `file`; `None` when the file cannot be read or is shorter.
    fn get(&mut self, file: PathBuf, line: usize) -> Option<String> {
        let hashes = self.files.entry(file).or_insert_with_key(|f| {
            std::fs::read(f)
                .ok()
                .map(|bytes| line_hash::line_hashes(&bytes))
        });
        hashes.as_ref()?.get(line.checked_sub(1)?).cloned()
    }
}

fn result(
    report: &Report,
    f: &Finding,
    rule_index: Option<usize>,
    hashes: &mut LineHashes,
) -> SarifResult {
    let related: Vec<Location> = f
        .related
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let what = match r.kind {
                KeyKind::ClientId => format!("paired client_id {}", r.value),
                KeyKind::MerchantSerialNumber => format!("Merchant Serial Number {}", r.value),
                other => other.label().to_owned(),
            };
            let mut loc = location(report, &f.path, r.line, r.column, r.end_column, Some(what));
            loc.id = Some(i as i64);
            loc
        })
        .collect();
    let mut fingerprints = BTreeMap::new();
    fingerprints.insert("vippsleaks/v1".to_owned(), f.fingerprint.clone());
    let member = archive_member(&f.path);
    let hashed_line = if member.is_some() { 1 } else { f.line };
    if let Some(hash) = source_file(report, &f.path).and_then(|file| hashes.get(file, hashed_line))
    {
        fingerprints.insert("primaryLocationLineHash".to_owned(), hash);
    }
    let mut props = BTreeMap::new();
    props.insert("kind".to_owned(), json!(f.kind));
    props.insert("environment".to_owned(), json!(f.environment));
    props.insert("confidence".to_owned(), json!(f.confidence));
    props.insert("redacted".to_owned(), json!(f.redacted));
    props.insert("keyName".to_owned(), json!(f.key_name));
    if let Some((_, inner)) = member {
        props.insert("archiveMember".to_owned(), json!(inner));
        props.insert("memberLine".to_owned(), json!(f.line));
    }
    if let Some(enc) = &f.encoding {
        props.insert("encoding".to_owned(), json!(enc));
    }
    if let Some(c) = &f.commit {
        props.insert("commit".to_owned(), json!(c.sha));
        props.insert("author".to_owned(), json!(c.author));
        props.insert("date".to_owned(), json!(c.date));
        props.insert("commitCount".to_owned(), json!(c.count));
    }
    if report.show_secrets {
        props.insert("secret".to_owned(), json!(f.raw));
    }
    let place = member.map_or_else(String::new, |(_, inner)| {
        format!(" (archive member {inner}, line {})", f.line)
    });
    let message = format!("{}{place}. {}", f.message(), first_step(report, f));
    let mut builder_result = SarifResult::builder()
        .rule_id(f.rule_id.clone())
        .level(level(f.severity))
        .message(Message::builder().text(message).build())
        .locations(vec![location(
            report,
            &f.path,
            f.line,
            f.column,
            f.end_column,
            None,
        )])
        .partial_fingerprints(fingerprints)
        .properties(PropertyBag::builder().additional_properties(props).build())
        .build();
    if let Some(i) = rule_index {
        builder_result.rule_index = Some(i as i64);
    }
    if !related.is_empty() {
        builder_result.related_locations = Some(related);
    }
    builder_result
}

fn first_step(report: &Report, f: &Finding) -> String {
    match f.kind {
        KeyKind::SubscriptionKey => "Switch to the other subscription key, then regenerate this one in the merchant portal; git history still holds it".into(),
        KeyKind::ClientSecret => "Regenerate the client_secret in the merchant portal and update every integration; git history still holds it".into(),
        _ => report
            .rule(&f.rule_id)
            .and_then(|r| remediation_steps(r).into_iter().next())
            .unwrap_or_default(),
    }
}

pub fn build(report: &Report) -> Sarif {
    let rules: Vec<ReportingDescriptor> = report.rules.iter().map(descriptor).collect();
    let mut hashes = LineHashes::default();
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .map(|f| {
            result(
                report,
                f,
                report.rules.iter().position(|r| r.id == f.rule_id),
                &mut hashes,
            )
        })
        .collect();
    let notifications: Vec<Notification> = report
        .errors
        .iter()
        .map(|e| {
            let mut n = Notification::builder()
                .message(
                    Message::builder()
                        .text(format!("{}: {}", e.path, e.message))
                        .build(),
                )
                .level(json!("warning"))
                .build();
            if !e.path.is_empty() {
                n.locations = Some(vec![
                    Location::builder()
                        .physical_location(
                            PhysicalLocation::builder()
                                .artifact_location(
                                    ArtifactLocation::builder()
                                        .uri(uri(report, &e.path))
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                ]);
            }
            n
        })
        .collect();
    let mut inv_props = BTreeMap::new();
    inv_props.insert("summary".to_owned(), json!(report.summary));
    let invocation = Invocation::builder()
        .execution_successful(true)
        .tool_execution_notifications(notifications)
        .properties(
            PropertyBag::builder()
                .additional_properties(inv_props)
                .build(),
        )
        .build();
    let driver = ToolComponent::builder()
        .name("vippsleaks")
        .full_name(format!("vippsleaks {}", env!("CARGO_PKG_VERSION")))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .version(env!("CARGO_PKG_VERSION"))
        .rules(rules)
        .build();
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .invocations(vec![invocation])
        .column_kind(json!("unicodeCodePoints"))
        .build();
    if let Some(root) = report.root.and_then(|r| std::fs::canonicalize(r).ok()) {
        let mut base = root.to_string_lossy().replace('\\', "/");
        if !base.ends_with('/') {
            base.push('/');
        }
        if !base.starts_with('/') {
            base.insert(0, '/');
        }
        let mut bases = BTreeMap::new();
        bases.insert(
            "%SRCROOT%".to_owned(),
            ArtifactLocation::builder()
                .uri(format!(
                    "file://{}",
                    utf8_percent_encode(&base, URI_ESCAPES)
                ))
                .build(),
        );
        run.original_uri_base_ids = Some(bases);
    }
    if let Some(repo) = report.repository {
        run.version_control_provenance = Some(vec![
            VersionControlDetails::builder()
                .repository_uri(repo)
                .build(),
        ]);
    }
    Sarif::builder()
        .schema(SCHEMA)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

pub fn write(report: &Report, out: &mut dyn Write) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(report))?;
    writeln!(out)?;
    Ok(())
}

/// GitHub's `primaryLocationLineHash`, as `github/codeql-action/upload-sarif` computes it when a
/// result has none: for each line, a rolling hash (base 37, wrapping at 64 bits) over the next
/// 100 UTF-16 code units of the file that are not spaces or tabs, with CR and CRLF read as LF,
/// written `hex:n` where n counts earlier lines with the same hash. Computing it here keeps alerts
/// stable when the SARIF is uploaded without the checkout beside it.
pub mod line_hash {
    const BLOCK: usize = 100;
    const BASE: u64 = 37;
    /// Marks the end of the file, as upload-sarif does.
    const END: u64 = 0xFFFF;

    /// `BASE` to the power `BLOCK`, wrapping: what the code unit leaving the window weighed.
    const fn leaving_weight() -> u64 {
        let mut w: u64 = 1;
        let mut i = 0;
        while i < BLOCK {
            w = w.wrapping_mul(BASE);
            i += 1;
        }
        w
    }

    struct Hasher {
        window: [u64; BLOCK],
        /// The line whose hash is complete once the window has moved past this slot.
        starts: [Option<usize>; BLOCK],
        index: usize,
        hash: u64,
        line: usize,
        at_line_start: bool,
        after_cr: bool,
        seen: std::collections::HashMap<u64, usize>,
        out: Vec<String>,
    }

    impl Hasher {
        fn emit(&mut self) {
            if let Some(line) = self.starts[self.index].take() {
                let n = self.seen.entry(self.hash).or_insert(0);
                *n += 1;
                if self.out.len() < line {
                    self.out.resize(line, String::new());
                }
                self.out[line - 1] = format!("{:x}:{n}", self.hash);
            }
        }

        fn push(&mut self, unit: u64) {
            let leaving = std::mem::replace(&mut self.window[self.index], unit);
            self.hash = BASE
                .wrapping_mul(self.hash)
                .wrapping_add(unit)
                .wrapping_sub(leaving_weight().wrapping_mul(leaving));
            self.index = (self.index + 1) % BLOCK;
        }

        fn feed(&mut self, unit: u64) {
            let is_lf_of_crlf = self.after_cr && unit == u64::from(b'\n');
            if unit == u64::from(b' ') || unit == u64::from(b'\t') || is_lf_of_crlf {
                self.after_cr = false;
                return;
            }
            self.after_cr = unit == u64::from(b'\r');
            let unit = if self.after_cr {
                u64::from(b'\n')
            } else {
                unit
            };
            self.emit();
            if self.at_line_start {
                self.at_line_start = false;
                self.line += 1;
                self.starts[self.index] = Some(self.line);
            }
            if unit == u64::from(b'\n') {
                self.at_line_start = true;
            }
            self.push(unit);
        }
    }

    /// The hash of every line of a file, line 1 first. The file is read as UTF-8, invalid
    /// bytes replaced, as upload-sarif reads it.
    pub fn line_hashes(bytes: &[u8]) -> Vec<String> {
        let mut h = Hasher {
            window: [0; BLOCK],
            starts: [None; BLOCK],
            index: 0,
            hash: 0,
            line: 0,
            at_line_start: true,
            after_cr: false,
            seen: std::collections::HashMap::new(),
            out: Vec::new(),
        };
        for unit in String::from_utf8_lossy(bytes).encode_utf16() {
            h.feed(u64::from(unit));
        }
        h.feed(END);
        for _ in 0..BLOCK {
            h.emit();
            h.push(0);
        }
        h.out
    }
}

#[cfg(test)]
mod tests {
    use super::line_hash::line_hashes;

    fn hashes(text: &str) -> Vec<String> {
        line_hashes(text.as_bytes())
    }

    // Expected values are the published test vectors of upload-sarif's fingerprinting.
    #[test]
    fn line_hashes_match_upload_sarif() {
        assert_eq!(hashes(""), ["c129715d7a2bc9a3:1"]);
        assert_eq!(
            hashes(" a\nb\n  \t\tc\n d"),
            [
                "271789c17abda88f:1",
                "54703d4cd895b18:1",
                "180aee12dab6264:1",
                "a23a3dc5e078b07b:1"
            ]
        );
        assert_eq!(
            hashes(" hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n"),
            [
                "e9496ae3ebfced30:1",
                "fb7c023a8b9ccb3f:1",
                "ce8ba1a563dcdaca:1",
                "e20e36e16fcb0cc8:1",
                "b3edc88f2938467e:1",
                "c8e28b0b4002a3a0:1",
                "c129715d7a2bc9a3:1"
            ]
        );
    }

    #[test]
    fn repeated_lines_are_counted() {
        let got = hashes(&"Lorem ipsum dolor sit amet.\n".repeat(10));
        assert_eq!(got.len(), 11);
        for (i, h) in got.iter().take(6).enumerate() {
            assert_eq!(h, &format!("a7f2ff13bc495cf2:{}", i + 1));
        }
        assert_eq!(got[6], "a7f2ff1481e87703:1");
    }

    #[test]
    fn line_endings_and_indentation_do_not_change_the_hash() {
        assert_eq!(hashes("a = 1\nb = 2\n"), hashes("a = 1\r\nb = 2\r\n"));
        assert_eq!(hashes("a = 1\nb = 2\n"), hashes("\ta = 1\n  b = 2\n"));
        assert_ne!(hashes("a = 1\nb = 2\n"), hashes("a = 1\nb = 3\n"));
    }

    #[test]
    fn invalid_utf8_is_read_as_replacement_characters() {
        assert_eq!(line_hashes(b"k = \xff\n"), hashes("k = \u{fffd}\n"));
    }
}
