//! Inputs: walking paths in parallel, reading files, opening archives, and collecting what was
//! found, skipped and unreadable.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Result, bail};
use ignore::{WalkBuilder, WalkState};
use serde::{Deserialize, Serialize};

use crate::decode;
use crate::detect::Detector;
use crate::finding::Finding;

/// Limits on what is read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    /// Files larger than this many bytes are skipped and counted.
    pub max_file_size: u64,
    /// Archives inside archives are opened this deep.
    pub archive_depth: usize,
    /// Members read from one archive at most.
    pub archive_members: usize,
    /// Bytes unpacked from one archive at most.
    pub archive_bytes: u64,
    /// A member whose unpacked size is more than this many times its packed size is skipped.
    pub archive_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_size: 256 * 1024 * 1024,
            archive_depth: 3,
            archive_members: 10_000,
            archive_bytes: 256 * 1024 * 1024,
            archive_ratio: 200,
        }
    }
}

/// What a scan of files is asked to do.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub paths: Vec<PathBuf>,
    pub no_ignore: bool,
    pub follow: bool,
    pub threads: usize,
    pub limits: Limits,
    /// Paths never read: the configuration's `exclude`.
    pub exclude: Option<std::sync::Arc<crate::config::PathGlobs>>,
}

/// A file that could not be read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScanError {
    pub path: String,
    pub message: String,
}

/// Counts of what was scanned.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Summary {
    pub files_scanned: u64,
    pub bytes_scanned: u64,
    /// Binary files and files over the size limit.
    pub files_skipped: u64,
    pub files_unreadable: u64,
    /// Findings reported (not suppressed).
    pub findings: u64,
    /// Findings silenced on purpose, by mechanism (`inline`, `ignore-file`, `baseline`, `config`).
    #[serde(default)]
    pub suppressed: std::collections::BTreeMap<String, u64>,
}

/// Everything a scan produced.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    pub findings: Vec<Finding>,
    pub errors: Vec<ScanError>,
    pub summary: Summary,
}

impl ScanOutcome {
    fn merge(&mut self, other: ScanOutcome) {
        self.findings.extend(other.findings);
        self.errors.extend(other.errors);
        let (a, b) = (&mut self.summary, other.summary);
        a.files_scanned += b.files_scanned;
        a.bytes_scanned += b.bytes_scanned;
        a.files_skipped += b.files_skipped;
        a.files_unreadable += b.files_unreadable;
    }

    /// Sorts findings by path and position, so output does not depend on thread timing.
    pub fn finish(&mut self) {
        self.findings.sort_by(|a, b| {
            (&a.path, a.line, a.column, &a.rule_id).cmp(&(&b.path, b.line, b.column, &b.rule_id))
        });
        self.errors.sort_by(|a, b| a.path.cmp(&b.path));
        self.summary.findings = self.findings.len() as u64;
    }
}

/// The path shown for a walked file: forward slashes, no leading `./`.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    let mut s = s.as_str();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    s.to_owned()
}

/// Walks the paths in parallel and scans every file.
pub fn scan_paths(detector: &Detector, opts: &ScanOptions) -> Result<ScanOutcome> {
    for p in &opts.paths {
        if p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    let mut outcome = ScanOutcome::default();
    let walked: Vec<&PathBuf> = opts.paths.iter().filter(|p| p.as_os_str() != "-").collect();
    if opts.paths.iter().any(|p| p.as_os_str() == "-") {
        let mut bytes = Vec::new();
        match std::io::stdin().lock().read_to_end(&mut bytes) {
            Ok(_) => outcome.merge(scan_bytes(detector, "<stdin>", &bytes, &opts.limits, 0)),
            Err(e) => bail!("cannot read standard input: {e}"),
        }
    }
    if let Some((first, rest)) = walked.split_first() {
        let mut builder = WalkBuilder::new(first);
        for p in rest {
            builder.add(p);
        }
        builder
            .hidden(false)
            .git_ignore(!opts.no_ignore)
            .git_global(!opts.no_ignore)
            .git_exclude(!opts.no_ignore)
            .ignore(!opts.no_ignore)
            .parents(!opts.no_ignore)
            .require_git(false)
            .follow_links(opts.follow)
            .threads(opts.threads)
            .filter_entry({
                let exclude = opts.exclude.clone();
                move |e| {
                    e.file_name() != ".git"
                        && !exclude.as_ref().is_some_and(|x| x.is_match(e.path(), None))
                }
            });
        let shared = Mutex::new(ScanOutcome::default());
        builder.build_parallel().run(|| {
            let mut local = Local {
                shared: &shared,
                outcome: ScanOutcome::default(),
            };
            Box::new(move |entry| {
                let local = &mut local.outcome;
                match entry {
                    Ok(entry) => {
                        let is_file = entry.file_type().is_some_and(|t| t.is_file());
                        if is_file {
                            local.merge(scan_file(detector, entry.path(), &opts.limits));
                        } else if entry
                            .file_type()
                            .is_some_and(|t| !t.is_dir() && !t.is_symlink())
                        {
                            // FIFOs, sockets and devices are never opened.
                            local.summary.files_skipped += 1;
                        }
                    }
                    Err(err) => {
                        local.summary.files_unreadable += 1;
                        local.errors.push(walk_error(&err));
                    }
                }
                WalkState::Continue
            })
        });
        let mut walked = shared
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        outcome.merge(std::mem::take(&mut walked));
    }
    outcome.finish();
    Ok(outcome)
}

fn flush(shared: &Mutex<ScanOutcome>, local: &mut ScanOutcome) {
    let mut guard = shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    guard.merge(std::mem::take(local));
}

/// A walker thread's own results, handed over when the thread's visitor is dropped.
struct Local<'a> {
    shared: &'a Mutex<ScanOutcome>,
    outcome: ScanOutcome,
}

impl Drop for Local<'_> {
    fn drop(&mut self) {
        flush(self.shared, &mut self.outcome);
    }
}

fn walk_error(err: &ignore::Error) -> ScanError {
    let mut path = None;
    let mut e = err;
    loop {
        match e {
            ignore::Error::WithPath { path: p, err } => {
                path = Some(display_path(p));
                e = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                e = err
            }
            _ => break,
        }
    }
    ScanError {
        path: path.unwrap_or_default(),
        message: e.to_string(),
    }
}

/// Reads and scans one file.
pub fn scan_file(detector: &Detector, path: &Path, limits: &Limits) -> ScanOutcome {
    let shown = display_path(path);
    let mut outcome = ScanOutcome::default();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            outcome.summary.files_unreadable += 1;
            outcome.errors.push(ScanError {
                path: shown,
                message: e.to_string(),
            });
            return outcome;
        }
    };
    if !meta.is_file() {
        outcome.summary.files_skipped += 1;
        return outcome;
    }
    if meta.len() > limits.max_file_size {
        outcome.summary.files_skipped += 1;
        return outcome;
    }
    match std::fs::read(path) {
        Ok(bytes) => scan_bytes(detector, &shown, &bytes, limits, 0),
        Err(e) => {
            outcome.summary.files_unreadable += 1;
            outcome.errors.push(ScanError {
                path: shown,
                message: e.to_string(),
            });
            outcome
        }
    }
}

fn is_archive(path: &str, bytes: &[u8]) -> bool {
    let lower = path.to_ascii_lowercase();
    bytes.starts_with(b"PK\x03\x04")
        && [
            ".zip", ".jar", ".war", ".ear", ".nupkg", ".apk", ".aar", ".whl", ".vsix",
        ]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// Scans the bytes of one file (or archive member) shown as `path`.
pub fn scan_bytes(
    detector: &Detector,
    path: &str,
    bytes: &[u8],
    limits: &Limits,
    depth: usize,
) -> ScanOutcome {
    let mut outcome = ScanOutcome::default();
    if is_archive(path, bytes) {
        if depth < limits.archive_depth {
            outcome.merge(scan_archive(detector, path, bytes, limits, depth));
        } else {
            outcome.summary.files_skipped += 1;
        }
        return outcome;
    }
    let Some(text) = decode::decode(bytes) else {
        outcome.summary.files_skipped += 1;
        return outcome;
    };
    outcome.summary.files_scanned += 1;
    outcome.summary.bytes_scanned += bytes.len() as u64;
    outcome.findings = detector.detect(path, &text);
    outcome
}

fn scan_archive(
    detector: &Detector,
    path: &str,
    bytes: &[u8],
    limits: &Limits,
    depth: usize,
) -> ScanOutcome {
    let mut outcome = ScanOutcome::default();
    let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            outcome.summary.files_unreadable += 1;
            outcome.errors.push(ScanError {
                path: path.to_owned(),
                message: format!("cannot open archive: {e}"),
            });
            return outcome;
        }
    };
    let mut unpacked: u64 = 0;
    for i in 0..archive.len() {
        if i >= limits.archive_members {
            outcome.errors.push(ScanError {
                path: path.to_owned(),
                message: format!(
                    "archive has more than {} members; the rest were not scanned",
                    limits.archive_members
                ),
            });
            outcome.summary.files_skipped += (archive.len() - i) as u64;
            break;
        }
        let mut member = match archive.by_index(i) {
            Ok(m) => m,
            Err(e) => {
                outcome.summary.files_unreadable += 1;
                outcome.errors.push(ScanError {
                    path: format!("{path}!/#{i}"),
                    message: format!("cannot read archive member: {e}"),
                });
                continue;
            }
        };
        if member.is_dir() {
            continue;
        }
        let shown = format!(
            "{path}!/{}",
            member
                .name()
                .map_or_else(|_| format!("#{i}"), |n| n.into_owned())
        );
        let size = member.size();
        let packed = member.compressed_size().max(1);
        if size > limits.max_file_size
            || size / packed > limits.archive_ratio
            || unpacked + size > limits.archive_bytes
        {
            outcome.summary.files_skipped += 1;
            outcome.errors.push(ScanError {
                path: shown,
                message: "archive member skipped: over the size, ratio or total unpacked limit"
                    .into(),
            });
            continue;
        }
        let mut data = Vec::with_capacity(size.min(1 << 20) as usize);
        let budget = limits.archive_bytes - unpacked;
        match (&mut member)
            .take(budget.min(limits.max_file_size) + 1)
            .read_to_end(&mut data)
        {
            Ok(n) => {
                unpacked += n as u64;
                drop(member);
                outcome.merge(scan_bytes(detector, &shown, &data, limits, depth + 1));
            }
            Err(e) => {
                outcome.summary.files_unreadable += 1;
                outcome.errors.push(ScanError {
                    path: shown,
                    message: format!("cannot read archive member: {e}"),
                });
            }
        }
    }
    outcome
}
