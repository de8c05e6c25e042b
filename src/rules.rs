//! Rules as data: `rules/*.toml`, compiled into the binary, loadable from user files.

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde::{Deserialize, Serialize};

use crate::detect::shape::Shape;

/// What a rule's key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    ClientSecret,
    SubscriptionKey,
    ApimKey,
    LegacyClientSecret,
    ClientId,
    MerchantSerialNumber,
}

impl KeyKind {
    pub fn label(self) -> &'static str {
        match self {
            KeyKind::ClientSecret => "client_secret",
            KeyKind::SubscriptionKey => "subscription key",
            KeyKind::ApimKey => "Azure APIM subscription key",
            KeyKind::LegacyClientSecret => "x-ibm-client-secret",
            KeyKind::ClientId => "client_id",
            KeyKind::MerchantSerialNumber => "Merchant Serial Number",
        }
    }
}

/// Whether a rule's matches are findings or only context for other findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Report,
    Pair,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The evidence a rule needs that a key belongs to Vipps MobilePay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceNeed {
    Vipps,
    NotVipps,
    Any,
}

/// One rule, as written in `rules/*.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub kind: KeyKind,
    pub role: Role,
    pub severity: Severity,
    pub security_severity: f64,
    pub precision: String,
    pub shape: Shape,
    pub names: Vec<Vec<String>>,
    #[serde(default)]
    pub weak_names: Vec<Vec<String>>,
    #[serde(default)]
    pub forbid_words: Vec<String>,
    pub evidence: EvidenceNeed,
    pub summary: String,
    pub description: String,
    pub remediation: String,
    #[serde(default)]
    pub references: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negative_examples: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    rules: Vec<Rule>,
}

/// Context words and values shared by all rules (`rules/context.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Context {
    pub vipps_markers: Vec<String>,
    pub foreign_markers: Vec<String>,
    pub foreign_words: Vec<String>,
    pub test_markers: Vec<String>,
    pub production_markers: Vec<String>,
    pub documentation_examples: Vec<String>,
}

const BUILTIN_RULES: &[(&str, &str)] = &[("rules/vipps.toml", include_str!("../rules/vipps.toml"))];
const BUILTIN_CONTEXT: &str = include_str!("../rules/context.toml");

/// Parses a rule file's text; `origin` names it in errors, with the line.
pub fn parse_rules(origin: &str, text: &str) -> Result<Vec<Rule>> {
    let file: RuleFile = toml::from_str(text).map_err(|e| match e.span() {
        Some(span) => crate::config::located(Path::new(origin), text, span, e.message()),
        None => anyhow::anyhow!("{origin}: {}", e.message()),
    })?;
    // the line of a rule, for errors found after parsing
    let line_of =
        |id: &str| crate::config::line_at(text, text.find(&format!("\"{id}\"")).unwrap_or(0));
    for rule in &file.rules {
        if rule.id.is_empty()
            || !rule
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        {
            bail!(
                "{origin}:{}: rule id {:?} must be letters, digits, '-' or '.'",
                line_of(&rule.id),
                rule.id
            );
        }
        if rule.names.is_empty() || rule.names.iter().any(Vec::is_empty) {
            bail!(
                "{origin}:{}: rule {} needs at least one name, and no name may be empty",
                line_of(&rule.id),
                rule.id
            );
        }
    }
    Ok(file.rules)
}

/// The built-in rules.
pub fn builtin() -> Vec<Rule> {
    BUILTIN_RULES
        .iter()
        .flat_map(|(origin, text)| {
            parse_rules(origin, text).unwrap_or_else(|e| unreachable!("built-in rules: {e:#}"))
        })
        .collect()
}

pub fn builtin_context() -> Context {
    toml::from_str(BUILTIN_CONTEXT).unwrap_or_else(|e| unreachable!("built-in context: {e}"))
}

/// Loads a user's rule file.
pub fn load_file(path: &Path) -> Result<Vec<Rule>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read rule file {}", path.display()))?;
    parse_rules(&path.display().to_string(), &text)
}

/// Checks that rule ids are unique.
pub fn check_unique(rules: &[Rule]) -> Result<()> {
    let mut seen = std::collections::HashSet::new();
    for r in rules {
        if !seen.insert(r.id.as_str()) {
            bail!("rule id {} is defined twice", r.id);
        }
    }
    Ok(())
}
