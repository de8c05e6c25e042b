//! SARIF 2.1.0 output for code scanning, built with `serde-sarif`.
//!
//! No secret goes into a message, a snippet or a property: results carry the redacted value and
//! the fingerprint only.

use std::collections::BTreeMap;
use std::io::Write;

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
    utf8_percent_encode(&relative, URI_ESCAPES).to_string()
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
                .tags(rule.tags.clone())
                .additional_properties(props)
                .build(),
        )
        .build();
    d.help_uri = descriptor_extra;
    d
}

fn location(
    report: &Report,
    path: &str,
    line: usize,
    column: usize,
    end_column: usize,
    msg: Option<String>,
) -> Location {
    let region = Region::builder()
        .start_line(line as i64)
        .start_column(column as i64)
        .end_column(end_column.max(column + 1) as i64)
        .build();
    let physical = PhysicalLocation::builder()
        .artifact_location(
            ArtifactLocation::builder()
                .uri(uri(report, path))
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

fn result(report: &Report, f: &Finding, rule_index: Option<usize>) -> SarifResult {
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
    let mut props = BTreeMap::new();
    props.insert("kind".to_owned(), json!(f.kind));
    props.insert("environment".to_owned(), json!(f.environment));
    props.insert("confidence".to_owned(), json!(f.confidence));
    props.insert("redacted".to_owned(), json!(f.redacted));
    props.insert("keyName".to_owned(), json!(f.key_name));
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
    let message = format!("{}. {}", f.message(), first_step(report, f));
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
    let results: Vec<SarifResult> = report
        .findings
        .iter()
        .map(|f| {
            result(
                report,
                f,
                report.rules.iter().position(|r| r.id == f.rule_id),
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
