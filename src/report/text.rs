//! Text output: what a person reads first.

use std::io::Write;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use anyhow::Result;

use super::{Report, remediation_steps};
use crate::finding::Finding;
use crate::rules::{KeyKind, Severity};

pub fn write(report: &Report, out: &mut dyn Write) -> Result<()> {
    let renderer = if report.color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    for f in report.findings {
        let rendered = render(report, f, &renderer);
        writeln!(out, "{rendered}\n")?;
    }
    writeln!(out, "{}", summary_line(report))?;
    Ok(())
}

/// `scanned 120 files (1.2 MB), 3 skipped, 0 unreadable: 2 findings`
pub fn summary_line(report: &Report) -> String {
    let s = report.summary;
    // with --no-suppress silenced findings are shown too, but they are counted apart
    let n = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .count();
    let mut line = format!(
        "vippsleaks: scanned {} file{} ({}), {} skipped, {} unreadable: {} finding{}",
        s.files_scanned,
        if s.files_scanned == 1 { "" } else { "s" },
        human_bytes(s.bytes_scanned),
        s.files_skipped,
        s.files_unreadable,
        n,
        if n == 1 { "" } else { "s" },
    );
    let silenced: u64 = s.suppressed.values().sum();
    if silenced > 0 {
        let by: Vec<String> = s
            .suppressed
            .iter()
            .map(|(how, k)| format!("{how} {k}"))
            .collect();
        line.push_str(&format!(
            ", {silenced} suppressed on purpose ({})",
            by.join(", ")
        ));
    }
    line
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

fn render(report: &Report, f: &Finding, renderer: &Renderer) -> String {
    let level = match f.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
        Severity::Note => Level::NOTE,
    };
    let lines = f.masked_context();
    let first = lines.first().map_or(f.line, |(n, _)| *n);
    let mut source = String::new();
    let mut span = 0..0;
    for (n, line) in &lines {
        if *n == f.line {
            let from = byte_at(line, f.column.saturating_sub(1));
            let to = byte_at(line, f.end_column.saturating_sub(1)).max(from);
            span = source.len() + from..source.len() + to;
        }
        source.push_str(line);
        source.push('\n');
    }
    if span.is_empty() && !source.is_empty() {
        span = 0..1;
    }
    let shown = if report.show_secrets {
        f.raw.clone()
    } else {
        f.redacted.clone()
    };
    let label = format!("{} {shown}", f.kind_label());
    let mut notes = Vec::new();
    let env = f.environment.as_str();
    notes.push(
        format!(
            "environment: {env}; confidence: {:?}; fingerprint: {}",
            f.confidence, f.fingerprint
        )
        .to_lowercase()
        .replace(&f.fingerprint.to_lowercase(), &f.fingerprint),
    );
    if let Some(how) = f.suppressed {
        notes.push(format!(
            "suppressed ({}): shown because of --no-suppress",
            crate::suppress::mechanism(how)
        ));
    }
    if let Some(enc) = &f.encoding {
        notes.push(format!("stored {enc} in the file"));
    }
    for r in &f.related {
        let what = match r.kind {
            KeyKind::ClientId => format!("paired with client_id {} on line {}", r.value, r.line),
            KeyKind::MerchantSerialNumber => {
                format!("sales unit: MSN {} on line {}", r.value, r.line)
            }
            other => format!("{} on line {}", other.label(), r.line),
        };
        notes.push(what);
    }
    if let Some(c) = &f.commit {
        notes.push(format!(
            "introduced in commit {} by {} on {}",
            c.sha, c.author, c.date
        ));
    }
    let mut steps = String::from("to fix:");
    if let Some(rule) = report.rule(&f.rule_id) {
        for step in remediation_steps(rule) {
            steps.push_str("\n  ");
            steps.push_str(&step);
        }
    }
    let snippet = Snippet::source(source.as_str())
        .line_start(first)
        .path(f.path.as_str())
        .fold(false)
        .annotation(AnnotationKind::Primary.span(span).label(label.as_str()));
    let mut group: Group = level
        .primary_title(f.message())
        .id(f.rule_id.as_str())
        .element(snippet);
    for note in &notes {
        group = group.element(Level::NOTE.message(note.as_str()));
    }
    group = group.element(Level::HELP.message(steps.as_str()));
    renderer.render(&[group])
}

/// Byte offset of the `chars`-th character of `s`.
fn byte_at(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(i, _)| i)
}
