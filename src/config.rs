//! Configuration: `.vippsleaks.toml`, found at the scan root or above it up to the repository
//! root, or named with `--config`.
//!
//! Every key is checked: an unknown key, a wrong type, a rule id that does not exist or a glob
//! that does not compile is an error that names the file and the line.

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, Result, anyhow};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use toml::Spanned;

use crate::rules::{self, Rule};
use crate::scan::Limits;

/// The configuration file's name.
pub const CONFIG_FILE: &str = ".vippsleaks.toml";

/// A loaded configuration. The default is what applies without a file.
#[derive(Debug, Default)]
pub struct Config {
    /// The file it was read from.
    pub path: Option<PathBuf>,
    /// Paths that are never scanned, relative to the configuration's directory.
    pub exclude: Option<PathGlobs>,
    /// Rule ids that never report.
    pub disabled_rules: Vec<String>,
    /// Rules from the configuration's rule files.
    pub rules: Vec<Rule>,
    /// More words that say a file is about Vipps MobilePay.
    pub vipps_words: Vec<String>,
    /// Fingerprints of keys that are known and accepted.
    pub allowed: HashSet<String>,
    pub limits: Limits,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    #[serde(default)]
    exclude: Vec<Spanned<String>>,
    #[serde(default)]
    disable_rules: Vec<Spanned<String>>,
    #[serde(default)]
    rule_files: Vec<Spanned<String>>,
    #[serde(default)]
    vipps_words: Vec<Spanned<String>>,
    #[serde(default)]
    allow: Vec<RawAllow>,
    #[serde(default)]
    limits: RawLimits,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    fingerprint: Spanned<String>,
    /// Why the key is accepted; for the people reading the file.
    #[serde(default)]
    #[allow(dead_code)]
    reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLimits {
    max_file_size: Option<u64>,
    archive_depth: Option<usize>,
    archive_members: Option<usize>,
    archive_bytes: Option<u64>,
    archive_ratio: Option<u64>,
}

/// The nearest file called `name` at `root` or above it, up to the directory holding `.git`.
/// Outside a repository only `root` itself is looked at, so a stray file in a home directory
/// never applies.
pub fn find_upward(root: &Path, name: &str) -> Option<PathBuf> {
    let start = std::fs::canonicalize(root).ok()?;
    let start = if start.is_dir() {
        start
    } else {
        start.parent()?.to_path_buf()
    };
    let dirs: Vec<&Path> = start.ancestors().collect();
    let top = dirs
        .iter()
        .position(|d| d.join(".git").exists())
        .unwrap_or(0);
    let found = dirs[..=top]
        .iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())?;
    // shown relative to the current directory when it is below it
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| std::fs::canonicalize(c).ok());
    match cwd.as_deref().and_then(|c| found.strip_prefix(c).ok()) {
        Some(rel) => Some(rel.to_path_buf()),
        None => Some(found),
    }
}

/// Loads the configuration: `explicit` if given (it must exist), otherwise the nearest
/// `.vippsleaks.toml` from `root`, otherwise the defaults.
pub fn load(root: &Path, explicit: Option<&Path>) -> Result<Config> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match find_upward(root, CONFIG_FILE) {
            Some(p) => p,
            None => return Ok(Config::default()),
        },
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read configuration {}", path.display()))?;
    let base = base_dir(&path);
    parse(&path, &text, &base)
}

/// The directory a file's relative paths and globs are relative to.
pub fn base_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Parses a configuration's text; `origin` names it in errors, `base` is the directory its
/// relative paths start from.
pub fn parse(origin: &Path, text: &str, base: &Path) -> Result<Config> {
    let at = |span: Range<usize>, message: &str| located(origin, text, span, message);
    let raw: RawConfig = toml::from_str(text).map_err(|e| match e.span() {
        Some(span) => at(span, e.message()),
        None => anyhow!("{}: {}", origin.display(), e.message()),
    })?;

    let mut rules = Vec::new();
    for file in &raw.rule_files {
        let path = base.join(file.get_ref());
        let loaded = rules::load_file(&path).map_err(|e| {
            anyhow!(
                "{e:#} (a rule file of {}:{})",
                origin.display(),
                line_at(text, file.span().start)
            )
        })?;
        rules.extend(loaded);
    }
    rules::check_unique(&rules).map_err(|e| anyhow!("{}: {e:#}", origin.display()))?;

    let known: HashSet<String> = rules::builtin()
        .into_iter()
        .chain(rules.iter().cloned())
        .map(|r| r.id)
        .collect();
    let mut disabled_rules = Vec::new();
    for id in &raw.disable_rules {
        if !known.contains(id.get_ref()) {
            return Err(at(
                id.span(),
                &format!(
                    "disable-rules: no rule {:?}; `vippsleaks rules list` shows them",
                    id.get_ref()
                ),
            ));
        }
        disabled_rules.push(id.get_ref().clone());
    }

    let mut vipps_words = Vec::new();
    for w in &raw.vipps_words {
        if w.get_ref().trim().is_empty() {
            return Err(at(w.span(), "vipps-words: a word cannot be empty"));
        }
        vipps_words.push(w.get_ref().trim().to_owned());
    }

    let mut allowed = HashSet::new();
    for a in &raw.allow {
        let fp = a.fingerprint.get_ref();
        if !crate::suppress::is_fingerprint(fp) {
            return Err(at(
                a.fingerprint.span(),
                &format!(
                    "allow: {fp:?} is not a fingerprint (32 lowercase hex digits, as findings show them)"
                ),
            ));
        }
        allowed.insert(fp.clone());
    }

    let exclude = if raw.exclude.is_empty() {
        None
    } else {
        let mut globs = Vec::new();
        for g in &raw.exclude {
            globs.push((g.get_ref().as_str(), Some(g.span())));
        }
        Some(
            PathGlobs::new(base, &globs)
                .map_err(|(i, e)| at(raw.exclude[i].span(), &format!("exclude: {e}")))?,
        )
    };

    let mut limits = Limits::default();
    let l = raw.limits;
    limits.max_file_size = l.max_file_size.unwrap_or(limits.max_file_size);
    limits.archive_depth = l.archive_depth.unwrap_or(limits.archive_depth);
    limits.archive_members = l.archive_members.unwrap_or(limits.archive_members);
    limits.archive_bytes = l.archive_bytes.unwrap_or(limits.archive_bytes);
    limits.archive_ratio = l.archive_ratio.unwrap_or(limits.archive_ratio);

    Ok(Config {
        path: Some(origin.to_path_buf()),
        exclude,
        disabled_rules,
        rules,
        vipps_words,
        allowed,
        limits,
    })
}

/// An error at a byte span of a file: `file:line: message: `the line``.
pub fn located(origin: &Path, text: &str, span: Range<usize>, message: &str) -> anyhow::Error {
    let line_no = line_at(text, span.start);
    let line = text.lines().nth(line_no - 1).unwrap_or("").trim();
    if line.is_empty() {
        anyhow!("{}:{line_no}: {message}", origin.display())
    } else {
        anyhow!("{}:{line_no}: {message}: `{line}`", origin.display())
    }
}

/// The 1-based line of a byte offset.
pub fn line_at(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    memchr::memchr_iter(b'\n', &text.as_bytes()[..offset]).count() + 1
}

/// Path globs relative to a directory (`tests/**`, `**/*.lock`, `vendor`). A path matches when
/// it or any directory above it matches, so `vendor` also covers everything inside `vendor/`.
#[derive(Debug, Clone)]
pub struct PathGlobs {
    /// The directory as given and as the file system resolves it.
    bases: Vec<PathBuf>,
    set: GlobSet,
    /// For each compiled glob, the index of the glob it was made from.
    owner: Vec<usize>,
    len: usize,
    /// The current directory when the globs were made, that relative paths start from.
    cwd: PathBuf,
}

impl PathGlobs {
    /// Compiles `globs`; on error, the index of the glob that failed and why.
    pub fn new<T>(base: &Path, globs: &[(&str, T)]) -> std::result::Result<Self, (usize, String)> {
        let mut builder = GlobSetBuilder::new();
        let mut owner = Vec::new();
        for (i, (g, _)) in globs.iter().enumerate() {
            let pattern = g.trim().trim_start_matches("./").trim_start_matches('/');
            let pattern = pattern.trim_end_matches('/');
            if pattern.is_empty() {
                return Err((i, "an empty glob".into()));
            }
            // `dir/**` also matches `dir` itself, so that a walker can skip the whole directory
            let whole_dir = pattern.strip_suffix("/**").filter(|d| !d.is_empty());
            for p in std::iter::once(pattern).chain(whole_dir) {
                let glob = GlobBuilder::new(p)
                    .literal_separator(true)
                    .backslash_escape(true)
                    .build()
                    .map_err(|e| (i, e.kind().to_string()))?;
                builder.add(glob);
                owner.push(i);
            }
        }
        let set = builder.build().map_err(|e| (0, e.to_string()))?;
        let cwd = std::env::current_dir().unwrap_or_default();
        let mut bases = vec![absolute(base, &cwd)];
        if let Ok(real) = std::fs::canonicalize(base)
            && !bases.contains(&real)
        {
            bases.push(real);
        }
        Ok(PathGlobs {
            bases,
            set,
            owner,
            len: globs.len(),
            cwd,
        })
    }

    /// Whether any glob matches `path`: a path as scanned (relative to the current directory,
    /// or absolute), or failing that relative to `root` (a history scan's paths are relative to
    /// the repository).
    pub fn is_match(&self, path: &Path, root: Option<&Path>) -> bool {
        self.candidates(path, root)
            .iter()
            .any(|c| self.set.is_match(c))
    }

    /// Which globs (by index) match `path` or a directory above it.
    pub fn matches(&self, path: &Path, root: Option<&Path>) -> Vec<bool> {
        let mut hit = vec![false; self.len];
        for c in self.candidates(path, root) {
            for i in self.set.matches(&c) {
                hit[self.owner[i]] = true;
            }
        }
        hit
    }

    /// The path relative to the base, and every directory above it; nothing when the path is
    /// not under the base.
    fn candidates(&self, path: &Path, root: Option<&Path>) -> Vec<PathBuf> {
        let mut tries = vec![absolute(path, &self.cwd)];
        if let Some(root) = root.filter(|_| path.is_relative()) {
            tries.push(absolute(&root.join(path), &self.cwd));
        }
        let rel = tries
            .iter()
            .find_map(|abs| self.bases.iter().find_map(|b| abs.strip_prefix(b).ok()));
        let Some(rel) = rel else {
            return Vec::new();
        };
        rel.ancestors()
            .filter(|a| !a.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .collect()
    }
}

/// `path` made absolute against `cwd`, with `.` and `..` resolved lexically.
fn absolute(path: &Path, cwd: &Path) -> PathBuf {
    if path.is_absolute() {
        lexical(path)
    } else {
        lexical(&cwd.join(path))
    }
}

fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Config> {
        parse(Path::new("cfg/.vippsleaks.toml"), text, Path::new("cfg"))
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let err =
            parse_str("exclude = [\"a/**\"]\n\n[limits]\nmax-file-size = 10\nmax-files = 3\n")
                .unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.starts_with("cfg/.vippsleaks.toml:5:"), "{msg}");
        assert!(msg.contains("max-files"), "{msg}");
    }

    #[test]
    fn wrong_type_names_the_line() {
        let msg = format!(
            "{:#}",
            parse_str("disable-rules = []\nvipps-words = \"acme\"\n").unwrap_err()
        );
        assert!(msg.starts_with("cfg/.vippsleaks.toml:2:"), "{msg}");
        assert!(msg.contains("vipps-words"), "{msg}");
    }

    #[test]
    fn unknown_rule_and_bad_fingerprint_are_errors_at_their_line() {
        let msg = format!(
            "{:#}",
            parse_str("disable-rules = [\n  \"vipps-client-secret\",\n  \"no-such-rule\",\n]\n")
                .unwrap_err()
        );
        assert!(msg.starts_with("cfg/.vippsleaks.toml:3:"), "{msg}");
        assert!(msg.contains("no-such-rule"), "{msg}");
        let msg = format!(
            "{:#}",
            parse_str("\n[[allow]]\nfingerprint = \"XYZ\"\n").unwrap_err()
        );
        assert!(msg.starts_with("cfg/.vippsleaks.toml:3:"), "{msg}");
    }

    #[test]
    fn limits_override_only_what_is_set() {
        let c = parse_str("[limits]\narchive-depth = 1\n").unwrap();
        assert_eq!(c.limits.archive_depth, 1);
        assert_eq!(c.limits.max_file_size, Limits::default().max_file_size);
        assert_eq!(c.disabled_rules, Vec::<String>::new());
    }

    #[test]
    fn globs_match_below_the_base_and_whole_directories() {
        let g = PathGlobs::new(
            Path::new("proj"),
            &[("tests/**", ()), ("vendor", ()), ("*.lock", ())],
        )
        .unwrap();
        let m = |p: &str| g.is_match(Path::new(p), None);
        assert!(m("proj/tests/a/b.env"));
        assert!(m("proj/vendor/x/y.json"));
        assert!(m("proj/Cargo.lock"));
        assert!(!m("proj/sub/Cargo.lock"));
        assert!(!m("proj/src/tests.rs"));
        assert!(!m("other/tests/a.env"));
        assert!(!m("tests/a.env"));
        // a walker can skip these directories whole
        assert!(m("proj/tests") && m("proj/vendor"));
        assert!(!m("proj/src"));
        // a repository-relative path from a history scan of `proj`
        assert!(g.is_match(Path::new("tests/a.env"), Some(Path::new("proj"))));
        assert!(!g.is_match(Path::new("tests/a.env"), Some(Path::new("other"))));
        assert_eq!(
            g.matches(Path::new("proj/vendor/Cargo.lock"), None),
            vec![false, true, false]
        );
        assert_eq!(
            g.matches(Path::new("proj/tests/Cargo.lock"), None),
            vec![true, false, false]
        );
    }
}
