//! Reporters: the only code that writes findings out.

pub mod github;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod text;

use std::io::Write;

use anyhow::Result;

use crate::finding::Finding;
use crate::rules::Rule;
use crate::scan::{ScanError, Summary};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people: file:line, the key, a masked code frame and the steps to fix it.
    Text,
    /// One JSON document: findings, errors and the summary.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=...`), for annotations on a pull request.
    Github,
    /// A Markdown table, for a GitHub job summary.
    Markdown,
}

/// Everything a reporter needs.
pub struct Report<'a> {
    pub findings: &'a [Finding],
    pub errors: &'a [ScanError],
    pub summary: &'a Summary,
    pub rules: &'a [Rule],
    /// The directory that SARIF URIs are relative to, when the scan had a single root.
    pub root: Option<&'a std::path::Path>,
    pub show_secrets: bool,
    pub color: bool,
    /// For history scans: the repository's location, for SARIF provenance.
    pub repository: Option<&'a str>,
}

impl Report<'_> {
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn write(&self, format: Format, out: &mut dyn Write) -> Result<()> {
        match format {
            Format::Text => text::write(self, out),
            Format::Json => json::write(self, out),
            Format::Sarif => sarif::write(self, out),
            Format::Github => github::write(self, out),
            Format::Markdown => markdown::write(self, out),
        }
    }
}

/// The steps to fix a finding, as plain lines.
pub fn remediation_steps(rule: &Rule) -> Vec<String> {
    rule.remediation
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.replace("\\", ""))
        .collect()
}

/// One sentence on what to do about a finding.
pub fn short_fix(f: &Finding) -> String {
    use crate::rules::KeyKind;
    match f.kind {
        KeyKind::SubscriptionKey => {
            "Switch to the other subscription key, then regenerate this one in the merchant portal"
                .into()
        }
        KeyKind::ClientSecret => {
            "Regenerate the client_secret in the merchant portal, then update every integration"
                .into()
        }
        KeyKind::ApimKey => "Regenerate the key in the portal of the API it belongs to".into(),
        KeyKind::LegacyClientSecret => {
            "Regenerate the x-ibm-client-secret or retire the legacy integration".into()
        }
        _ => "Nothing to regenerate".into(),
    }
}
