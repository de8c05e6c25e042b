//! Markdown output: a table of findings for a GitHub job summary.
//!
//! No secret and no redacted prefix goes into the table: a job summary is shown to everyone who
//! can read the workflow run.

use std::io::Write;

use anyhow::Result;

use super::Report;
use crate::finding::Finding;

/// Text for a table cell: a pipe would end the cell and a line break the row.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// A code span holding `s` as it is: fenced with more backticks than `s` has in a row, and
/// padded with a space when `s` starts or ends with a backtick.
fn code(s: &str) -> String {
    let s = cell(s);
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

fn place(f: &Finding) -> String {
    let mut p = code(&f.path);
    if let Some(c) = &f.commit {
        let short = c.sha.get(..12).unwrap_or(&c.sha);
        p.push_str(&format!(" (commit {})", code(short)));
    }
    p
}

fn what_to_do(f: &Finding) -> String {
    match f.suppressed {
        Some(how) => {
            let how = serde_json::to_value(how).ok();
            let how = how
                .as_ref()
                .and_then(|v| v.as_str())
                .unwrap_or("configuration");
            format!("Suppressed ({how})")
        }
        None => cell(&super::short_fix(f)),
    }
}

/// `Suppressed on purpose: 3 (baseline 2, inline 1)`, or nothing when nothing was.
fn suppressed_line(report: &Report) -> Option<String> {
    let by = &report.summary.suppressed;
    let total: u64 = by.values().sum();
    if total == 0 {
        return None;
    }
    let parts: Vec<String> = by
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(how, n)| format!("{how} {n}"))
        .collect();
    Some(format!(
        "Suppressed on purpose: {total} ({})",
        parts.join(", ")
    ))
}

pub fn write(report: &Report, out: &mut dyn Write) -> Result<()> {
    writeln!(out, "## vippsleaks\n")?;
    if report.findings.is_empty() {
        writeln!(out, "No leaked Vipps MobilePay keys found.\n")?;
    } else {
        writeln!(out, "| Path | Line | Key | Environment | What to do |")?;
        writeln!(out, "| --- | ---: | --- | --- | --- |")?;
        for f in report.findings {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                place(f),
                f.line,
                cell(&f.kind_label()),
                f.environment.as_str(),
                what_to_do(f)
            )?;
        }
        writeln!(out)?;
    }
    if let Some(line) = suppressed_line(report) {
        writeln!(out, "{line}\n")?;
    }
    writeln!(out, "{}", cell(&super::text::summary_line(report)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_hold_backticks_and_pipes() {
        assert_eq!(code("a.json"), "`a.json`");
        assert_eq!(code("a`b.json"), "``a`b.json``");
        assert_eq!(code("`a``"), "``` `a`` ```");
        assert_eq!(code("a|b\nc"), "`a\\|b c`");
    }
}
