//! Markdown output: a table of findings for a GitHub job summary.

use std::io::Write;

use anyhow::Result;

use super::Report;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
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
                "| `{}` | {} | {} | {} | {} |",
                cell(&f.path),
                f.line,
                cell(&f.kind_label()),
                f.environment.as_str(),
                cell(&super::short_fix(f))
            )?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{}", cell(&super::text::summary_line(report)))?;
    Ok(())
}
