//! GitHub Actions workflow commands: one `::error` line per finding, shown on the diff.

use std::io::Write;

use anyhow::Result;

use super::Report;
use crate::rules::Severity;

/// Escapes a workflow command's data (`%`, CR, LF).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property values (also `:` and `,`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn write(report: &Report, out: &mut dyn Write) -> Result<()> {
    for f in report.findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let title = format!("{} ({})", f.kind_label(), f.rule_id);
        let message = format!(
            "{} [{}]. Fingerprint {}.",
            f.message(),
            f.redacted,
            f.fingerprint
        );
        writeln!(
            out,
            "::{command} file={},line={},col={},endColumn={},title={}::{}",
            escape_property(&f.path),
            f.line,
            f.column,
            f.end_column,
            escape_property(&title),
            escape_data(&message)
        )?;
    }
    Ok(())
}
