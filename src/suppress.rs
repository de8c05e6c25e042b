//! Suppression: inline allow comments, the ignore file, baselines and the configuration's
//! excluded paths and allowed fingerprints.
//!
//! Everything but inline comments is keyed by the fingerprint, which depends on the rule and the
//! key only: a silenced key that moves, is reindented or is copied elsewhere stays silenced.
//! Every suppression is counted by mechanism, and `--no-suppress` shows them all.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow, bail};
use serde::{Deserialize, Serialize};

use crate::cli::SuppressArgs;
use crate::config::{self, Config, PathGlobs};
use crate::finding::{Finding, Suppression};
use crate::scan::ScanOutcome;

/// The ignore file's name.
pub const IGNORE_FILE: &str = ".vippsleaksignore";

/// The baseline format's version.
pub const BASELINE_VERSION: u32 = 1;

/// Whether `s` looks like a finding's fingerprint: 32 lowercase hex digits.
pub fn is_fingerprint(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// What silences findings in one run, loaded before anything is scanned so that a broken file
/// stops the run at once.
#[derive(Debug, Default)]
pub struct Suppressions {
    /// The configuration's excluded paths.
    pub exclude: Option<Arc<PathGlobs>>,
    /// The configuration's allowed fingerprints.
    pub allowed: HashSet<String>,
    pub ignore: Option<IgnoreFile>,
    pub baseline: Option<Baseline>,
}

impl Suppressions {
    /// Loads the ignore file found from `root` and the `--baseline` file.
    pub fn load(root: &Path, config: &Config, args: &SuppressArgs) -> Result<Self> {
        let ignore = match config::find_upward(root, IGNORE_FILE) {
            Some(path) => Some(IgnoreFile::load(&path)?),
            None => None,
        };
        let baseline = match &args.baseline {
            Some(path) => Some(Baseline::load(path)?),
            None => None,
        };
        Ok(Suppressions {
            exclude: config.exclude.clone().map(Arc::new),
            allowed: config.allowed.clone(),
            ignore,
            baseline,
        })
    }

    /// Marks the findings that the configuration or the ignore file silence. A finding keeps the
    /// first reason it has: inline, then configuration, then ignore file. `root` is the scan's
    /// root, for paths relative to it.
    pub fn mark(&self, findings: &mut [Finding], root: Option<&Path>) {
        for f in findings.iter_mut().filter(|f| f.suppressed.is_none()) {
            let file = Path::new(file_part(&f.path));
            if self.allowed.contains(&f.fingerprint)
                || self
                    .exclude
                    .as_ref()
                    .is_some_and(|g| g.is_match(file, root))
            {
                f.suppressed = Some(Suppression::Config);
            } else if self
                .ignore
                .as_ref()
                .is_some_and(|i| i.silences(&f.fingerprint, file, root))
            {
                f.suppressed = Some(Suppression::IgnoreFile);
            }
        }
    }
}

/// The file a finding is in: an archive member's archive, a path as it is otherwise.
fn file_part(path: &str) -> &str {
    path.split_once("!/").map_or(path, |(archive, _)| archive)
}

/// `.vippsleaksignore`: one fingerprint a line, optionally followed by a path glob that limits
/// it; `#` starts a comment.
#[derive(Debug)]
pub struct IgnoreFile {
    pub path: PathBuf,
    entries: Vec<IgnoreEntry>,
    globs: Option<PathGlobs>,
}

#[derive(Debug)]
struct IgnoreEntry {
    fingerprint: String,
    /// The index of the entry's glob in `globs`; none silences the key everywhere.
    glob: Option<usize>,
}

impl IgnoreFile {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read ignore file {}", path.display()))?;
        Self::parse(path, &text, &config::base_dir(path))
    }

    /// Parses the text of an ignore file; globs are relative to `base`.
    pub fn parse(origin: &Path, text: &str, base: &Path) -> Result<Self> {
        let mut entries = Vec::new();
        let mut globs: Vec<(&str, usize)> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line_no = n + 1;
            let content = match line.find('#') {
                Some(i) if i == 0 || line[..i].ends_with(char::is_whitespace) => &line[..i],
                _ => line,
            };
            let mut words = content.split_whitespace();
            let Some(fingerprint) = words.next() else {
                continue;
            };
            let err = |what: String| anyhow!("{}:{line_no}: {what}", origin.display());
            if !is_fingerprint(fingerprint) {
                return Err(err(format!(
                    "{fingerprint:?} is not a fingerprint (32 lowercase hex digits, as findings show them); \
                     a line is FINGERPRINT [PATH-GLOB]"
                )));
            }
            let glob = words.next();
            if let Some(extra) = words.next() {
                return Err(err(format!(
                    "unexpected {extra:?}: a line is FINGERPRINT [PATH-GLOB]"
                )));
            }
            entries.push(IgnoreEntry {
                fingerprint: fingerprint.to_owned(),
                glob: glob.map(|g| {
                    globs.push((g, line_no));
                    globs.len() - 1
                }),
            });
        }
        let globs = if globs.is_empty() {
            None
        } else {
            Some(PathGlobs::new(base, &globs).map_err(|(i, e)| {
                anyhow!(
                    "{}:{}: invalid path glob: {e}",
                    origin.display(),
                    globs[i].1
                )
            })?)
        };
        Ok(IgnoreFile {
            path: origin.to_path_buf(),
            entries,
            globs,
        })
    }

    /// Whether an entry silences the key `fingerprint` in `file` (`root` as in
    /// `PathGlobs::is_match`).
    pub fn silences(&self, fingerprint: &str, file: &Path, root: Option<&Path>) -> bool {
        let mut hits: Option<Vec<bool>> = None;
        self.entries
            .iter()
            .filter(|e| e.fingerprint == fingerprint)
            .any(|e| match (e.glob, &self.globs) {
                (None, _) => true,
                (Some(i), Some(globs)) => hits.get_or_insert_with(|| globs.matches(file, root))[i],
                (Some(_), None) => false,
            })
    }
}

/// A baseline: the findings a repository had when it adopted the tool. Only findings whose
/// fingerprint is not in it are reported.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    fingerprints: HashSet<String>,
}

/// The baseline file: sorted, one finding a line, no secrets.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BaselineFile {
    version: u32,
    findings: Vec<BaselineEntry>,
}

/// One baselined finding. Only the fingerprint is matched; the rest is for people.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct BaselineEntry {
    fingerprint: String,
    #[serde(default)]
    rule_id: String,
    #[serde(default)]
    path: String,
    #[serde(default)]
    line: usize,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read baseline {}", path.display()))?;
        Self::parse(path, &text)
    }

    pub fn parse(origin: &Path, text: &str) -> Result<Self> {
        let file: BaselineFile = serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            let position = format!(" at line {} column {}", e.line(), e.column());
            let message = message.strip_suffix(&position).unwrap_or(&message);
            anyhow!(
                "{}:{}: invalid baseline: {message} (`--write-baseline FILE` writes one)",
                origin.display(),
                e.line()
            )
        })?;
        let line_of = |needle: &str| config::line_at(text, text.find(needle).unwrap_or(0));
        if file.version != BASELINE_VERSION {
            bail!(
                "{}:{}: baseline version {} is not supported (this vippsleaks writes version {BASELINE_VERSION})",
                origin.display(),
                line_of("\"version\""),
                file.version
            );
        }
        let mut fingerprints = HashSet::new();
        for e in file.findings {
            if !is_fingerprint(&e.fingerprint) {
                bail!(
                    "{}:{}: {:?} is not a fingerprint (32 lowercase hex digits)",
                    origin.display(),
                    line_of(&format!("\"{}\"", e.fingerprint)),
                    e.fingerprint
                );
            }
            fingerprints.insert(e.fingerprint);
        }
        Ok(Baseline { fingerprints })
    }

    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    /// Marks the findings in the baseline that nothing else silenced.
    pub fn mark(&self, findings: &mut [Finding]) {
        for f in findings.iter_mut().filter(|f| f.suppressed.is_none()) {
            if self.contains(&f.fingerprint) {
                f.suppressed = Some(Suppression::Baseline);
            }
        }
    }

    /// Writes the findings that nothing else silenced as a baseline, and returns it. Paths are
    /// written relative to `root` when they are under it.
    pub fn write(path: &Path, findings: &[Finding], root: Option<&Path>) -> Result<Self> {
        let mut entries: Vec<BaselineEntry> = findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .map(|f| BaselineEntry {
                fingerprint: f.fingerprint.clone(),
                rule_id: f.rule_id.clone(),
                path: relative_to(&f.path, root),
                line: f.line,
            })
            .collect();
        entries.sort_by(|a, b| {
            (&a.path, a.line, &a.rule_id, &a.fingerprint).cmp(&(
                &b.path,
                b.line,
                &b.rule_id,
                &b.fingerprint,
            ))
        });
        entries.dedup();
        let mut out = format!("{{\n  \"version\": {BASELINE_VERSION},\n  \"findings\": [");
        for (i, e) in entries.iter().enumerate() {
            out.push_str(if i == 0 { "\n    " } else { ",\n    " });
            out.push_str(&serde_json::to_string(e)?);
        }
        out.push_str(if entries.is_empty() {
            "]\n}\n"
        } else {
            "\n  ]\n}\n"
        });
        crate::app::write_atomically(path, out.as_bytes())?;
        Ok(Baseline {
            fingerprints: entries.into_iter().map(|e| e.fingerprint).collect(),
        })
    }
}

fn relative_to(path: &str, root: Option<&Path>) -> String {
    let Some(root) = root else {
        return path.to_owned();
    };
    let root = crate::scan::display_path(root);
    let root = root.trim_end_matches('/');
    if root.is_empty() || root == "." {
        return path.to_owned();
    }
    path.strip_prefix(root)
        .and_then(|rest| rest.strip_prefix('/'))
        .map_or_else(|| path.to_owned(), str::to_owned)
}

/// The name a mechanism is counted under, as JSON spells it.
pub fn mechanism(how: Suppression) -> &'static str {
    match how {
        Suppression::Inline => "inline",
        Suppression::IgnoreFile => "ignore-file",
        Suppression::Baseline => "baseline",
        Suppression::Config => "config",
    }
}

/// Drops silenced findings from `outcome` (or keeps them, marked, with `--no-suppress`) and
/// counts them by mechanism in the summary.
pub fn apply(outcome: &mut ScanOutcome, args: &SuppressArgs) -> Result<()> {
    let mut kept = Vec::with_capacity(outcome.findings.len());
    for f in std::mem::take(&mut outcome.findings) {
        if let Some(how) = f.suppressed {
            *outcome
                .summary
                .suppressed
                .entry(mechanism(how).to_owned())
                .or_default() += 1;
            if !args.no_suppress {
                continue;
            }
        }
        kept.push(f);
    }
    outcome.findings = kept;
    // shown with `--no-suppress`, but still counted as suppressed, not as findings
    outcome.summary.findings = outcome
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .count() as u64;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP_A: &str = "0123456789abcdef0123456789abcdef";
    const FP_B: &str = "fedcba9876543210fedcba9876543210";

    #[test]
    fn ignore_file_reads_comments_and_globs() {
        let text = format!("# accepted keys\n\n{FP_A}   # the demo key\n{FP_B} docs/**\n");
        let f = IgnoreFile::parse(Path::new("p/.vippsleaksignore"), &text, Path::new("p")).unwrap();
        let silences = |fp: &str, path: &str| f.silences(fp, Path::new(path), None);
        assert!(silences(FP_A, "p/src/app.env"));
        assert!(silences(FP_A, "elsewhere/app.env"));
        assert!(silences(FP_B, "p/docs/guide/setup.md"));
        assert!(!silences(FP_B, "p/src/setup.md"));
        assert!(!silences("00000000000000000000000000000000", "p/docs/a.md"));
    }

    #[test]
    fn malformed_ignore_line_names_file_and_line() {
        let text = format!("{FP_A}\n# fine\nnot-a-fingerprint\n");
        let msg = format!(
            "{:#}",
            IgnoreFile::parse(Path::new("x/.vippsleaksignore"), &text, Path::new("x")).unwrap_err()
        );
        assert!(msg.starts_with("x/.vippsleaksignore:3:"), "{msg}");
        let text = format!("{FP_A} a/** b/**\n");
        let msg = format!(
            "{:#}",
            IgnoreFile::parse(Path::new("i"), &text, Path::new(".")).unwrap_err()
        );
        assert!(msg.starts_with("i:1:") && msg.contains("b/**"), "{msg}");
        let text = format!("\n{FP_A} a/[\n");
        let msg = format!(
            "{:#}",
            IgnoreFile::parse(Path::new("i"), &text, Path::new(".")).unwrap_err()
        );
        assert!(msg.starts_with("i:2: invalid path glob"), "{msg}");
    }

    #[test]
    fn baseline_errors_name_the_line() {
        let bad_json =
            "{\n  \"version\": 1,\n  \"findings\": [\n    {\"fingerprint\": \"x\",}\n  ]\n}\n";
        let msg = format!(
            "{:#}",
            Baseline::parse(Path::new("b.json"), bad_json).unwrap_err()
        );
        assert!(msg.starts_with("b.json:4: invalid baseline"), "{msg}");
        let bad_fp = "{\n  \"version\": 1,\n  \"findings\": [\n    {\"fingerprint\": \"ABC\", \"rule_id\": \"r\", \"path\": \"p\", \"line\": 1}\n  ]\n}\n";
        let msg = format!(
            "{:#}",
            Baseline::parse(Path::new("b.json"), bad_fp).unwrap_err()
        );
        assert!(msg.starts_with("b.json:4:") && msg.contains("ABC"), "{msg}");
        let msg = format!(
            "{:#}",
            Baseline::parse(Path::new("b.json"), "{\"version\": 9, \"findings\": []}").unwrap_err()
        );
        assert!(msg.contains("version 9"), "{msg}");
    }

    #[test]
    fn mechanism_names_are_the_json_names() {
        for how in [
            Suppression::Inline,
            Suppression::IgnoreFile,
            Suppression::Baseline,
            Suppression::Config,
        ] {
            assert_eq!(serde_json::to_value(how).unwrap(), mechanism(how));
        }
    }

    #[test]
    fn paths_are_made_relative_to_the_root() {
        assert_eq!(
            relative_to("proj/a/b.env", Some(Path::new("proj"))),
            "a/b.env"
        );
        assert_eq!(
            relative_to("proj/a/b.env", Some(Path::new("./proj/"))),
            "a/b.env"
        );
        assert_eq!(
            relative_to("projx/b.env", Some(Path::new("proj"))),
            "projx/b.env"
        );
        assert_eq!(relative_to("b.env", Some(Path::new("."))), "b.env");
    }
}
