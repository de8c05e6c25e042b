//! GitHub Actions workflow commands: one `::error` line per finding, shown on the diff.
//!
//! The runner reads these lines from the job's output and turns each into an annotation on the
//! file and line it names. Values are escaped the way the Actions toolkit escapes them, so a
//! path or message can never end the command early or start another one.

use std::io::Write;

use anyhow::Result;

use super::Report;
use crate::finding::Finding;
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

/// The `file=...` and position properties. An archive member is annotated on the archive (it
/// has no line of its own there), and standard input on nothing.
fn position(f: &Finding) -> String {
    if f.path == "<stdin>" {
        return String::new();
    }
    match f.path.split_once("!/") {
        Some((archive, _)) => format!("file={},", escape_property(archive)),
        None => format!(
            "file={},line={},col={},endColumn={},",
            escape_property(&f.path),
            f.line,
            f.column,
            f.end_column
        ),
    }
}

fn message(f: &Finding) -> String {
    let mut m = f.message();
    if let Some((_, member)) = f.path.split_once("!/") {
        m.push_str(&format!(" (archive member {member}, line {})", f.line));
    } else if f.path == "<stdin>" {
        m.push_str(&format!(" (standard input, line {})", f.line));
    }
    if let Some(c) = &f.commit {
        let short = c.sha.get(..12).unwrap_or(&c.sha);
        m.push_str(&format!(" (commit {short})"));
    }
    m.push_str(&format!(" [{}]. ", f.redacted));
    match f.suppressed {
        Some(how) => {
            let how = serde_json::to_value(how).ok();
            let how = how
                .as_ref()
                .and_then(|v| v.as_str())
                .unwrap_or("configuration");
            m.push_str(&format!("Suppressed ({how}). "));
        }
        None => {
            m.push_str(&super::short_fix(f));
            m.push_str(". ");
        }
    }
    m.push_str(&format!("Fingerprint {}.", f.fingerprint));
    m
}

pub fn write(report: &Report, out: &mut dyn Write) -> Result<()> {
    for f in report.findings {
        // A finding silenced on purpose (shown with --no-suppress) is a notice, never an error.
        let command = match (f.suppressed, f.severity) {
            (Some(_), _) | (None, Severity::Note) => "notice",
            (None, Severity::Error) => "error",
            (None, Severity::Warning) => "warning",
        };
        let title = format!("{} ({})", f.kind_label(), f.rule_id);
        writeln!(
            out,
            "::{command} {}title={}::{}",
            position(f),
            escape_property(&title),
            escape_data(&message(f))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Detector;
    use crate::finding::CommitInfo;
    use crate::scan::{Limits, Summary, scan_bytes};

    /// Synthetic keys of a made-up test sales unit, as `path` holds them.
    fn findings(path: &str) -> Vec<Finding> {
        let text = "# Vipps MobilePay (apitest.vipps.no)\n\
                    VIPPS_MSN=6630418\n\
                    VIPPS_CLIENT_SECRET=Hq2LwXr8PzN4cVb7TkYs1mDf9Ag=\n";
        scan_bytes(
            &Detector::builtin(),
            path,
            text.as_bytes(),
            &Limits::default(),
            0,
        )
        .findings
    }

    fn render(findings: &[Finding]) -> String {
        let detector = Detector::builtin();
        let report = Report {
            findings,
            errors: &[],
            summary: &Summary::default(),
            rules: &detector.rules,
            root: None,
            show_secrets: false,
            color: false,
            repository: None,
        };
        let mut out = Vec::new();
        write(&report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn history_findings_name_their_commit() {
        let mut found = findings("conf/.env");
        assert_eq!(found.len(), 1);
        found[0].commit = Some(CommitInfo {
            sha: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567".into(),
            author: "Someone".into(),
            date: "2026-01-02".into(),
            count: 2,
        });
        let out = render(&found);
        assert!(
            out.starts_with("::error file=conf/.env,line=3,col=21,"),
            "{out}"
        );
        assert!(
            out.contains("`VIPPS_CLIENT_SECRET` (commit 0a1b2c3d4e5f) [Hq2L…(28 chars)]. "),
            "{out}"
        );
        assert!(!out.contains("Hq2LwX"), "{out}");
    }

    #[test]
    fn standard_input_has_no_file() {
        let out = render(&findings("<stdin>"));
        assert!(
            out.starts_with("::error title=Vipps MobilePay client_secret (vipps-client-secret)::"),
            "{out}"
        );
        assert!(out.contains("(standard input, line 3)"), "{out}");
    }

    #[test]
    fn properties_escape_what_would_end_them() {
        assert_eq!(escape_property("a:b,c%d\r\ne"), "a%3Ab%2Cc%25d%0D%0Ae");
        assert_eq!(escape_data("a:b,c%d\ne"), "a:b,c%25d%0Ae");
    }
}
