//! Findings: what was found where, redacted, with a fingerprint that does not depend on where.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::decode::Text;
use crate::detect::Confidence;
use crate::detect::context::Environment;
use crate::rules::{KeyKind, Rule, Severity};

/// A key found in a file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id (`vipps-client-secret`).
    pub rule_id: String,
    pub rule_name: String,
    pub kind: KeyKind,
    pub severity: Severity,
    /// Path as given or relative to the scan root, with `/` separators; archive members as
    /// `archive.zip!/member`.
    pub path: String,
    /// 1-based line of the secret's first character.
    pub line: usize,
    /// 1-based column (in characters) of the secret's first character.
    pub column: usize,
    /// 1-based column just past the secret on its first line.
    pub end_column: usize,
    /// The key name the value is bound to.
    pub key_name: String,
    /// A short prefix of the secret and its length, e.g. `wOuU…(24 chars)`.
    pub redacted: String,
    /// The raw secret: only with `--show-secrets`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub environment: Environment,
    pub confidence: Confidence,
    /// How the key was stored when not plainly (`base64`, `escaped`, `percent-encoded`,
    /// `multi-line`, `basic-auth`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// The paired client_id and Merchant Serial Number.
    pub related: Vec<Related>,
    /// Hash of the rule id and the secret: the same key anywhere has the same fingerprint.
    pub fingerprint: String,
    /// Why the finding is silenced, when it is (shown only with `--no-suppress`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
    /// Git provenance, for history scans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitInfo>,
    /// The raw secret, kept for masking; never serialized.
    #[serde(skip)]
    pub raw: String,
    /// The line the secret is on, for code frames; never serialized.
    #[serde(skip)]
    pub context_lines: Vec<(usize, String)>,
}

/// How a finding was silenced on purpose.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Suppression {
    /// A `vippsleaks:allow` (or `gitleaks:allow`, `pragma: allowlist secret`) comment on the line.
    Inline,
    /// A fingerprint in `.vippsleaksignore`.
    IgnoreFile,
    /// A fingerprint in the `--baseline` file.
    Baseline,
    /// An allowed fingerprint or excluded path in the configuration.
    Config,
}

/// Comments that silence a finding on their line.
const ALLOW_MARKERS: &[&str] = &[
    "vippsleaks:allow",
    "gitleaks:allow",
    "pragma: allowlist secret",
];

/// Where a finding came from in git history.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CommitInfo {
    pub sha: String,
    pub author: String,
    pub date: String,
    /// How many commits hold this key at this path.
    pub count: usize,
}

/// A location named beside a finding: the client_id or MSN of the same sales unit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Related {
    pub kind: KeyKind,
    pub line: usize,
    pub column: usize,
    pub end_column: usize,
    /// The MSN is shown whole (it is not secret); a client_id is redacted.
    pub value: String,
}

impl Related {
    pub fn new(kind: KeyKind, text: &Text, start: usize, end: usize, value: &str) -> Self {
        let value = if kind == KeyKind::MerchantSerialNumber {
            value.to_owned()
        } else {
            redact(value)
        };
        let (line, column, end_column) = position(text, start, end);
        Related {
            kind,
            line,
            column,
            end_column,
            value,
        }
    }
}

/// The lines shown around a finding on 1-based `line`: two before and one after (not the empty
/// line after a file's last newline), each cut at 400 characters.
fn context(text: &Text, line: usize) -> Vec<(usize, String)> {
    let first = line.saturating_sub(2).max(1);
    let mut last = (line + 1).min(text.line_count());
    if last > line && last == text.line_count() && text.line(last - 1).is_empty() {
        last = line;
    }
    (first..=last)
        .map(|l| (l, text.line(l - 1).chars().take(400).collect()))
        .collect()
}

fn position(text: &Text, start: usize, end: usize) -> (usize, usize, usize) {
    let line = text.line_of(start);
    let column = text.column_of(start);
    let line_end = text.line_start(line) + text.line(line).len();
    let end = end.clamp(start, line_end.max(start));
    let end_column = column + text.text.get(start..end).map_or(0, |s| s.chars().count());
    (line + 1, column, end_column.max(column + 1))
}

/// How many characters of a secret are shown.
const SHOWN_PREFIX: usize = 4;

/// A short prefix and the length: enough to tell keys apart, not enough to use one.
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    let prefix: String = secret.chars().take(SHOWN_PREFIX.min(n / 4)).collect();
    format!("{prefix}…({n} chars)")
}

/// Position-independent fingerprint of a key: SHA-256 over a domain tag, the rule id and the
/// secret, truncated to 128 bits. Keys have at least 128 bits of entropy, so the hash cannot be
/// searched back to the key.
pub fn fingerprint(rule_id: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"vippsleaks-fingerprint-v1\0");
    h.update(rule_id.as_bytes());
    h.update(b"\0");
    h.update(secret.as_bytes());
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

impl Finding {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        rule: &Rule,
        path: &str,
        text: &Text,
        start: usize,
        end: usize,
        secret: &str,
        key_name: &str,
        encoding: Option<&str>,
        environment: Environment,
        confidence: Confidence,
        related: Vec<Related>,
    ) -> Self {
        let (line, column, end_column) = position(text, start, end);
        let context_lines = context(text, line);
        Finding {
            rule_id: rule.id.clone(),
            rule_name: rule.name.clone(),
            kind: rule.kind,
            severity: rule.severity,
            path: path.to_owned(),
            line,
            column,
            end_column,
            key_name: key_name.to_owned(),
            redacted: redact(secret),
            secret: None,
            environment,
            confidence,
            encoding: encoding.map(str::to_owned),
            related,
            fingerprint: fingerprint(&rule.id, secret),
            suppressed: ALLOW_MARKERS
                .iter()
                .any(|m| text.line(line - 1).contains(m))
                .then_some(Suppression::Inline),
            commit: None,
            raw: secret.to_owned(),
            context_lines,
        }
    }

    /// The same finding reported at `start..end` of `text`: where the encoded form of the
    /// document it was found in stands.
    pub fn moved_to(mut self, text: &Text, start: usize, end: usize) -> Self {
        let (line, column, end_column) = position(text, start, end);
        self.line = line;
        self.column = column;
        self.end_column = end_column;
        self.context_lines = context(text, line);
        for r in &mut self.related {
            r.line = line;
            r.column = column;
            r.end_column = end_column;
        }
        self.encoding = Some("base64".into());
        self
    }

    /// The message shown for a finding: which key, and test or production.
    pub fn message(&self) -> String {
        let env = match self.environment {
            Environment::Test => " (test)",
            Environment::Production => " (production)",
            Environment::Unknown => "",
        };
        let msn = self
            .related
            .iter()
            .find(|r| r.kind == KeyKind::MerchantSerialNumber)
            .map(|r| format!(" of sales unit MSN {}", r.value))
            .unwrap_or_default();
        match self.kind {
            KeyKind::ApimKey => format!(
                "Azure API Management subscription key in `{}`: not a Vipps key, but a live key of another API",
                self.key_name
            ),
            _ => format!(
                "Leaked {}{env}{msn} in `{}`",
                self.kind_label(),
                self.key_name
            ),
        }
    }

    pub fn kind_label(&self) -> String {
        match self.kind {
            KeyKind::SubscriptionKey => {
                let name = crate::detect::words::KeyName::new(&self.key_name);
                if name.has("secondary") {
                    "Vipps MobilePay secondary subscription key".into()
                } else if name.has("primary") {
                    "Vipps MobilePay primary subscription key".into()
                } else {
                    "Vipps MobilePay subscription key".into()
                }
            }
            KeyKind::ClientSecret => "Vipps MobilePay client_secret".into(),
            other => other.label().into(),
        }
    }

    /// Lines around the finding with the secret masked: its own span, and any token on the
    /// lines that is part of it (a value split over lines) or holds it (an encoded form).
    pub fn masked_context(&self) -> Vec<(usize, String)> {
        self.context_lines
            .iter()
            .map(|(n, l)| {
                let span = (*n == self.line).then_some((self.column, self.end_column));
                (*n, mask(l, &self.raw, span))
            })
            .collect()
    }
}

/// Masks secrets in a line: the character columns `span` (1-based, end exclusive), every token
/// of 8 or more characters that is part of `secret` or contains it, and every other token that
/// has the shape of a key (a frame must not show the neighbouring key either).
pub fn mask(line: &str, secret: &str, span: Option<(usize, usize)>) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut hide = vec![false; chars.len()];
    if let Some((from, to)) = span {
        for h in hide
            .iter_mut()
            .take(to.saturating_sub(1))
            .skip(from.saturating_sub(1))
        {
            *h = true;
        }
    }
    let is_token = |c: char| c.is_ascii_alphanumeric() || "+/_-=%".contains(c);
    let mut i = 0;
    while i < chars.len() {
        if !is_token(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        let mut separator = false;
        while i < chars.len() && is_token(chars[i]) {
            // `NAME=value`: a '=' that is not trailing padding ends the token
            if chars[i] == '=' && chars.get(i + 1).is_some_and(|&c| c != '=' && is_token(c)) {
                separator = true;
                break;
            }
            i += 1;
        }
        let token: String = chars[start..i].iter().collect();
        let bare = token.trim_end_matches('=');
        let hides_secret = bare.len() >= 8
            && (secret.contains(bare) || (secret.len() >= 8 && bare.contains(secret)));
        if hides_secret || looks_like_key(bare) {
            hide[start..i].iter_mut().for_each(|h| *h = true);
        }
        if separator {
            i += 1;
        }
    }
    chars
        .iter()
        .zip(hide)
        .map(|(&c, h)| if h { '*' } else { c })
        .collect()
}

/// A token with the shape of a secret key (not a client_id, which is not secret).
fn looks_like_key(token: &str) -> bool {
    use crate::detect::shape::{self, Shape};
    token.len() >= 16
        && match shape::classify(token) {
            Some(s @ (Shape::Hex32 | Shape::Base64Secret)) => !shape::is_fake(token, s),
            Some(Shape::Guid | Shape::Digits) => false,
            None => shape::decode_inner(token).is_some(),
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_keyed_by_rule() {
        let a = fingerprint("vipps-client-secret", "DkGpFvF9TxinHJSopa/6aw==");
        assert_eq!(
            a,
            fingerprint("vipps-client-secret", "DkGpFvF9TxinHJSopa/6aw==")
        );
        assert_ne!(
            a,
            fingerprint("vipps-subscription-key", "DkGpFvF9TxinHJSopa/6aw==")
        );
        assert_eq!(a.len(), 32);
        assert!(!a.contains("wOuU"));
    }

    #[test]
    fn redaction_shows_only_a_prefix() {
        assert_eq!(redact("DkGpFvF9TxinHJSopa/6aw=="), "DkGp…(24 chars)");
        assert_eq!(
            mask(
                "x = \"DkGpFvF9TxinHJSopa/6aw==\"",
                "DkGpFvF9TxinHJSopa/6aw==",
                None
            ),
            "x = \"************************\""
        );
        assert_eq!(
            mask("k: Zm9vYmFy", "unrelated-secret", Some((4, 12))),
            "k: ********"
        );
    }
}
