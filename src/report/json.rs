//! JSON output: one document, the `JsonReport` type.

use std::io::Write;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::Report;
use crate::finding::Finding;
use crate::scan::{ScanError, Summary};

/// The JSON output of every command that reports findings.
///
/// `findings[].secret` is present only with `--show-secrets`; `redacted` always is.
#[derive(Debug, Serialize, Deserialize)]
pub struct JsonReport {
    /// The vippsleaks version that wrote it.
    pub version: String,
    pub findings: Vec<Finding>,
    /// Files that could not be read.
    pub errors: Vec<ScanError>,
    pub summary: Summary,
}

pub fn write(report: &Report, out: &mut dyn Write) -> Result<()> {
    let findings = report
        .findings
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if report.show_secrets {
                f.secret = Some(f.raw.clone());
            }
            f
        })
        .collect();
    let doc = JsonReport {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        findings,
        errors: report.errors.to_vec(),
        summary: report.summary.clone(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}
