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

    /// Counts `path` as unreadable, with the reason.
    fn note_unreadable(&mut self, path: String, message: String) {
        self.summary.files_unreadable += 1;
        self.errors.push(ScanError { path, message });
    }

    /// Counts `path` as skipped, with the reason.
    fn note_skipped(&mut self, path: String, message: String) {
        self.summary.files_skipped += 1;
        self.errors.push(ScanError { path, message });
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

/// The path shown for a walked file: forward slashes, no leading `./`. Bytes that are not
/// UTF-8 are written `\\xHH`: backslashes are already turned into `/`, so a backslash in the
/// result always starts such an escape, and the exact name can be recovered from it.
pub fn display_path(path: &Path) -> String {
    let s = escape_invalid(path.as_os_str()).replace('\\', "/");
    let s = unescape_slashes(s);
    let mut s = s.as_str();
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    s.to_owned()
}

/// Marks each byte that is not UTF-8 with a NUL before turning `\\` into `/`, so the escapes
/// survive that replacement; `unescape_slashes` then writes them out.
#[cfg(unix)]
fn escape_invalid(name: &std::ffi::OsStr) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for chunk in name.as_bytes().utf8_chunks() {
        out.push_str(&chunk.valid().replace('\0', ""));
        for b in chunk.invalid() {
            out.push('\0');
            out.push_str(&format!("{b:02X}"));
        }
    }
    out
}

#[cfg(not(unix))]
fn escape_invalid(name: &std::ffi::OsStr) -> String {
    name.to_string_lossy().replace('\0', "")
}

fn unescape_slashes(s: String) -> String {
    if s.contains('\0') {
        s.replace('\0', "\\x")
    } else {
        s
    }
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
            ignore::Error::Loop { child, .. } => {
                path = Some(display_path(child));
                break;
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
    if meta.len() > WINDOW as u64 {
        return scan_large(detector, &shown, path, limits);
    }
    match read_unless_binary(path, &shown, meta.len()) {
        Ok(Some(bytes)) => scan_owned(detector, &shown, bytes, limits),
        Ok(None) => {
            outcome.summary.files_skipped += 1;
            outcome
        }
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

/// Reads a file whole, unless its first bytes show it is binary (and not an archive to open):
/// then the rest is never read.
fn read_unless_binary(path: &Path, shown: &str, len: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut file = std::fs::File::open(path)?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).saturating_add(1));
    (&mut file).take(8192).read_to_end(&mut bytes)?;
    if decode::sniff(&bytes) == decode::Sniff::Binary && archive_kind(shown, &bytes).is_none() {
        return Ok(None);
    }
    file.read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// Scans a file read whole. Plain UTF-8 becomes the text without a copy, so a file costs its
/// size in memory once, not twice.
fn scan_owned(detector: &Detector, shown: &str, bytes: Vec<u8>, limits: &Limits) -> ScanOutcome {
    if archive_kind(shown, &bytes).is_some()
        || decode::sniff(&bytes) != decode::Sniff::Utf8
        || bytes.starts_with(b"\xEF\xBB\xBF")
    {
        return scan_bytes(detector, shown, &bytes, limits, 0);
    }
    if !detector.may_contain(shown, &bytes) {
        // nothing a rule looks for: not decoded, not indexed
        let mut outcome = ScanOutcome::default();
        outcome.summary.files_scanned += 1;
        outcome.summary.bytes_scanned += bytes.len() as u64;
        return outcome;
    }
    match String::from_utf8(bytes) {
        Ok(text) => {
            let mut outcome = ScanOutcome::default();
            outcome.summary.files_scanned += 1;
            outcome.summary.bytes_scanned += text.len() as u64;
            let text = decode::Text::new(text, decode::Encoding::Utf8);
            outcome.findings = detector.detect(shown, &text);
            outcome
        }
        Err(e) => scan_bytes(detector, shown, e.as_bytes(), limits, 0),
    }
}

/// Files larger than this are read and scanned in windows of this many bytes, so memory stays
/// near threads x window whatever the size of the file.
pub const WINDOW: usize = 64 << 20;
/// Bytes shared by neighbouring windows. A key with its name and surroundings that fit in half
/// of this is seen whole by exactly one window.
pub const OVERLAP: usize = 64 << 10;

fn unreadable(path: &str, e: &std::io::Error) -> ScanOutcome {
    let mut outcome = ScanOutcome::default();
    outcome.summary.files_unreadable += 1;
    outcome.errors.push(ScanError {
        path: path.to_owned(),
        message: e.to_string(),
    });
    outcome
}

/// Scans a file over `WINDOW` bytes. Archives and UTF-16 files are read whole (still bounded by
/// the size limit); UTF-8 text is scanned window by window.
fn scan_large(detector: &Detector, shown: &str, path: &Path, limits: &Limits) -> ScanOutcome {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return unreadable(shown, &e),
    };
    // A file that grows while it is read is read up to the size limit.
    let mut reader = file.take(limits.max_file_size);
    let mut first = Vec::with_capacity(WINDOW + OVERLAP);
    if let Err(e) = (&mut reader)
        .take((WINDOW + OVERLAP) as u64)
        .read_to_end(&mut first)
    {
        return unreadable(shown, &e);
    }
    match decode::sniff(&first) {
        decode::Sniff::Utf8 if archive_kind(shown, &first).is_none() => {
            scan_windows(detector, shown, first, reader, WINDOW, OVERLAP)
        }
        decode::Sniff::Binary if archive_kind(shown, &first).is_none() => {
            let mut outcome = ScanOutcome::default();
            outcome.summary.files_skipped += 1;
            outcome
        }
        _ => match reader.read_to_end(&mut first) {
            Ok(_) => scan_bytes(detector, shown, &first, limits, 0),
            Err(e) => unreadable(shown, &e),
        },
    }
}

/// Scans UTF-8 text in windows of `window` bytes that share `overlap` bytes with the next one.
///
/// `first` holds the text's first bytes already read, `reader` the rest. A finding belongs to
/// the window whose share of the file holds its first character: from half the overlap into
/// the window to half the overlap before its end. Line and column numbers are moved to the
/// file's, and a read error keeps what was found before it.
pub fn scan_windows(
    detector: &Detector,
    path: &str,
    first: Vec<u8>,
    mut reader: impl Read,
    window: usize,
    overlap: usize,
) -> ScanOutcome {
    let overlap = overlap.max(2);
    let window = window.max(overlap);
    let mut outcome = ScanOutcome::default();
    let mut buf = first;
    let mut at_start = true;
    // Newlines before buf[0], and characters between the last of them and buf[0].
    let mut lines_before = 0usize;
    let mut column_before = 0usize;
    // Findings starting before this offset of buf were reported by the window before.
    let mut keep_from = 0usize;
    let mut total = 0u64;
    loop {
        let want = (window + overlap).saturating_sub(buf.len());
        let at_end = match (&mut reader).take(want as u64).read_to_end(&mut buf) {
            Ok(n) => n < want,
            Err(e) => {
                outcome.merge(unreadable(path, &e));
                break;
            }
        };
        if at_start && buf.starts_with(b"\xEF\xBB\xBF") {
            buf.drain(..3);
            total += 3;
        }
        // This window reports findings that start before `keep_to`; the next window starts at
        // `next`, a line start when there is one, so that fewer lines are cut.
        let (keep_to, next) = if at_end {
            (buf.len(), buf.len())
        } else {
            let keep_to = buf.len() - overlap / 2;
            let from = buf.len() - overlap;
            let next = memchr::memchr(b'\n', &buf[from..keep_to]).map_or(from, |i| from + i + 1);
            (keep_to, next)
        };
        let (text, invalid) = match String::from_utf8(buf) {
            Ok(s) => (decode::Text::new(s, decode::Encoding::Utf8), None),
            Err(e) => {
                let bytes = e.into_bytes();
                (
                    decode::Text::new(
                        String::from_utf8_lossy(&bytes).into_owned(),
                        decode::Encoding::Utf8,
                    ),
                    Some(bytes),
                )
            }
        };
        let bounds = match &invalid {
            None => keep_from..keep_to,
            Some(bytes) => lossy_len(&bytes[..keep_from])..lossy_len(&bytes[..keep_to]),
        };
        for mut f in detector.detect(path, &text) {
            if !bounds.contains(&offset_of(&text, f.line, f.column)) {
                continue;
            }
            move_finding(&mut f, lines_before, column_before);
            outcome.findings.push(f);
        }
        buf = invalid.unwrap_or_else(|| text.text.into_bytes());
        if at_end {
            total += buf.len() as u64;
            break;
        }
        let passed = &buf[..next];
        match memchr::memrchr(b'\n', passed) {
            Some(i) => column_before = char_count(&passed[i + 1..]),
            None => column_before += char_count(passed),
        }
        lines_before += memchr::memchr_iter(b'\n', passed).count();
        total += next as u64;
        keep_from = keep_to - next;
        buf.drain(..next);
        at_start = false;
    }
    outcome.summary.files_scanned += 1;
    outcome.summary.bytes_scanned += total;
    // Findings are unique by position: a safety net should two windows ever agree on one.
    outcome.findings.dedup_by(|a, b| {
        (a.line, a.column, &a.rule_id, &a.fingerprint)
            == (b.line, b.column, &b.rule_id, &b.fingerprint)
    });
    outcome
}

fn lossy_len(bytes: &[u8]) -> usize {
    String::from_utf8_lossy(bytes).len()
}

/// Characters in UTF-8 bytes: the bytes that do not continue a character.
fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count()
}

/// Byte offset in `text` of 1-based `line` and character `column`.
fn offset_of(text: &decode::Text, line: usize, column: usize) -> usize {
    let l = line.saturating_sub(1);
    let start = text.line_start(l);
    let s = text.line(l);
    start
        + s.char_indices()
            .nth(column.saturating_sub(1))
            .map_or(s.len(), |(i, _)| i)
}

/// Moves a finding from a window's lines and columns to the file's.
fn move_finding(f: &mut Finding, lines_before: usize, column_before: usize) {
    if f.line == 1 {
        f.column += column_before;
        f.end_column += column_before;
    }
    f.line += lines_before;
    for r in &mut f.related {
        if r.line == 1 {
            r.column += column_before;
            r.end_column += column_before;
        }
        r.line += lines_before;
    }
    for (n, _) in &mut f.context_lines {
        *n += lines_before;
    }
}

/// The kinds of archive opened and scanned member by member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArchiveKind {
    Zip,
    Tar,
    Gzip,
}

fn archive_kind(path: &str, bytes: &[u8]) -> Option<ArchiveKind> {
    let lower = path.to_ascii_lowercase();
    let ends = |exts: &[&str]| exts.iter().any(|ext| lower.ends_with(ext));
    if bytes.starts_with(b"PK\x03\x04")
        && ends(&[
            ".zip", ".jar", ".war", ".ear", ".nupkg", ".apk", ".aar", ".whl", ".vsix",
        ])
    {
        return Some(ArchiveKind::Zip);
    }
    if bytes.starts_with(&[0x1f, 0x8b]) && ends(&[".gz", ".tgz"]) {
        return Some(ArchiveKind::Gzip);
    }
    if is_tar(bytes) {
        return Some(ArchiveKind::Tar);
    }
    None
}

/// A tar archive: the `ustar` magic of its first header.
fn is_tar(bytes: &[u8]) -> bool {
    bytes.get(257..262) == Some(b"ustar")
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
    if let Some(kind) = archive_kind(path, bytes) {
        if depth < limits.archive_depth {
            outcome.merge(match kind {
                ArchiveKind::Zip => scan_archive(detector, path, bytes, limits, depth),
                ArchiveKind::Tar => scan_tar(detector, path, bytes, limits, depth),
                ArchiveKind::Gzip => scan_gzip(detector, path, bytes, limits, depth),
            });
        } else {
            outcome.summary.files_skipped += 1;
        }
        return outcome;
    }
    if decode::sniff(bytes) == decode::Sniff::Utf8 && !detector.may_contain(path, bytes) {
        outcome.summary.files_scanned += 1;
        outcome.summary.bytes_scanned += bytes.len() as u64;
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
            outcome.note_unreadable(path.to_owned(), format!("cannot open archive: {e}"));
            return outcome;
        }
    };
    let mut unpacked: u64 = 0;
    for i in 0..archive.len() {
        if i >= limits.archive_members {
            outcome.errors.push(too_many_members(path, limits));
            outcome.summary.files_skipped += (archive.len() - i) as u64;
            break;
        }
        let member = match archive.by_index(i) {
            Ok(m) => m,
            Err(e) => {
                outcome.note_unreadable(
                    format!("{path}!/#{i}"),
                    format!("cannot read archive member: {e}"),
                );
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
            outcome.note_skipped(
                shown,
                "archive member skipped: over the size, ratio or total unpacked limit".into(),
            );
            continue;
        }
        let budget = (limits.archive_bytes - unpacked).min(limits.max_file_size) + 1;
        let member = Member {
            shown,
            size,
            reader: member.take(budget),
        };
        unpacked += member.scan(detector, limits, depth, &mut outcome);
    }
    outcome
}

/// The error for an archive with more members than `limits` lets a scan read.
fn too_many_members(path: &str, limits: &Limits) -> ScanError {
    ScanError {
        path: path.to_owned(),
        message: format!(
            "archive has more than {} members; the rest were not scanned",
            limits.archive_members
        ),
    }
}

/// One member of an archive, ready to be read (its reader already bounded by the limits).
struct Member<R> {
    shown: String,
    size: u64,
    reader: R,
}

impl<R: Read> Member<R> {
    /// Reads the member and scans it as a file of its own; returns the bytes it unpacked.
    fn scan(
        self,
        detector: &Detector,
        limits: &Limits,
        depth: usize,
        outcome: &mut ScanOutcome,
    ) -> u64 {
        let Member {
            shown,
            size,
            mut reader,
        } = self;
        let mut data = Vec::with_capacity(size.min(1 << 20) as usize);
        match reader.read_to_end(&mut data) {
            Ok(n) => {
                // the decompressor goes before the scan
                drop(reader);
                outcome.merge(scan_bytes(detector, &shown, &data, limits, depth + 1));
                n as u64
            }
            Err(e) => {
                outcome.note_unreadable(shown, format!("cannot read archive member: {e}"));
                0
            }
        }
    }
}

/// A gzip stream: one compressed file (`app.env.gz`, shown as `app.env.gz!/app.env`) or a
/// compressed tar (`bundle.tgz`, whose members are shown as `bundle.tgz!/path`).
fn scan_gzip(
    detector: &Detector,
    path: &str,
    bytes: &[u8],
    limits: &Limits,
    depth: usize,
) -> ScanOutcome {
    let mut outcome = ScanOutcome::default();
    let budget = limits
        .archive_bytes
        .min(limits.max_file_size)
        .min((bytes.len() as u64).saturating_mul(limits.archive_ratio));
    let mut data = Vec::new();
    let read = flate2::read::MultiGzDecoder::new(bytes)
        .take(budget + 1)
        .read_to_end(&mut data);
    if let Err(e) = read {
        outcome.note_unreadable(path.to_owned(), format!("cannot read gzip stream: {e}"));
        return outcome;
    }
    if data.len() as u64 > budget {
        outcome.note_skipped(
            path.to_owned(),
            "compressed file skipped: over the size, ratio or total unpacked limit".into(),
        );
        return outcome;
    }
    if is_tar(&data) {
        return scan_tar(detector, path, &data, limits, depth);
    }
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    let inner = if lower.ends_with(".tgz") {
        format!("{}.tar", &name[..name.len() - 4])
    } else if lower.ends_with(".gz") {
        name[..name.len() - 3].to_owned()
    } else {
        name.to_owned()
    };
    scan_bytes(
        detector,
        &format!("{path}!/{inner}"),
        &data,
        limits,
        depth + 1,
    )
}

/// A tar archive, member by member, within the member and unpacked-size limits.
fn scan_tar(
    detector: &Detector,
    path: &str,
    bytes: &[u8],
    limits: &Limits,
    depth: usize,
) -> ScanOutcome {
    let mut outcome = ScanOutcome::default();
    let mut archive = tar::Archive::new(bytes);
    let entries = match archive.entries() {
        Ok(e) => e,
        Err(e) => {
            outcome.note_unreadable(path.to_owned(), format!("cannot open archive: {e}"));
            return outcome;
        }
    };
    let mut unpacked: u64 = 0;
    for (i, entry) in entries.enumerate() {
        if i >= limits.archive_members {
            outcome.errors.push(too_many_members(path, limits));
            break;
        }
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // a damaged header ends the walk: what follows cannot be located
                outcome.note_unreadable(
                    format!("{path}!/#{i}"),
                    format!("cannot read archive member: {e}"),
                );
                break;
            }
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let shown = format!(
            "{path}!/{}",
            entry.path().map_or_else(
                |_| format!("#{i}"),
                |p| p.to_string_lossy().trim_start_matches("./").to_owned()
            )
        );
        let size = entry.size();
        if size > limits.max_file_size || unpacked + size > limits.archive_bytes {
            outcome.note_skipped(
                shown,
                "archive member skipped: over the size or total unpacked limit".into(),
            );
            continue;
        }
        let member = Member {
            shown,
            size,
            reader: entry.take(size),
        };
        unpacked += member.scan(detector, limits, depth, &mut outcome);
    }
    outcome
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use base64::Engine;
    use proptest::prelude::*;

    use super::*;

    fn detector() -> &'static Detector {
        static D: OnceLock<Detector> = OnceLock::new();
        D.get_or_init(Detector::builtin)
    }

    fn positions(o: &ScanOutcome) -> Vec<(usize, usize, usize, String, String)> {
        o.findings
            .iter()
            .map(|f| {
                (
                    f.line,
                    f.column,
                    f.end_column,
                    f.rule_id.clone(),
                    f.fingerprint.clone(),
                )
            })
            .collect()
    }

    fn secret(bytes: &[u8; 20]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Windows as small as a few hundred bytes find every key a whole read finds, at the
        /// same line and column, once.
        #[test]
        fn windows_find_what_a_whole_read_finds(
            filler in proptest::collection::vec("[a-z ]{0,300}", 0..60),
            keys in proptest::collection::vec((any::<usize>(), any::<[u8; 20]>()), 1..4),
            long_prefix in 0usize..3000,
            window in 200usize..2000,
            overlap in 160usize..400,
        ) {
            let mut lines = filler;
            for (at, raw) in &keys {
                let key = secret(raw);
                prop_assume!(!crate::detect::shape::is_fake(&key, crate::detect::shape::Shape::Base64Secret));
                let at = at % (lines.len() + 1);
                lines.insert(at, format!("{} VIPPS_CLIENT_SECRET={key} é", "x".repeat(long_prefix)));
            }
            let bytes = lines.join("\n").into_bytes();
            let whole = scan_bytes(detector(), "app.env", &bytes, &Limits::default(), 0);
            let windowed = scan_windows(detector(), "app.env", Vec::new(), bytes.as_slice(), window, overlap);
            prop_assert!(!whole.findings.is_empty());
            prop_assert_eq!(positions(&windowed), positions(&whole));
            prop_assert_eq!(windowed.summary.bytes_scanned, bytes.len() as u64);
        }
    }

    #[test]
    fn a_read_error_keeps_what_was_found_before_it() {
        struct FailAfter<'a>(&'a [u8]);
        impl Read for FailAfter<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    return Err(std::io::Error::other("device went away"));
                }
                let n = buf.len().min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let key = secret(&[
            7, 200, 13, 99, 1, 250, 42, 17, 88, 3, 140, 61, 222, 9, 75, 180, 33, 5, 121, 66,
        ]);
        let mut bytes = format!("VIPPS_CLIENT_SECRET={key}\n").into_bytes();
        bytes.extend(std::iter::repeat_n(b'.', 5000));
        let outcome = scan_windows(
            detector(),
            "big.env",
            Vec::new(),
            FailAfter(&bytes),
            1000,
            200,
        );
        assert_eq!(outcome.findings.len(), 1);
        assert_eq!(outcome.summary.files_unreadable, 1);
        assert!(outcome.errors[0].message.contains("device went away"));
    }

    #[test]
    fn a_loop_error_names_the_link() {
        let err = ignore::Error::Loop {
            ancestor: PathBuf::from("./a"),
            child: PathBuf::from("./a/b/up"),
        };
        assert_eq!(walk_error(&err).path, "a/b/up");
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_escaped_byte_by_byte() {
        use std::os::unix::ffi::OsStrExt;
        let p = Path::new(std::ffi::OsStr::from_bytes(b"./dir/caf\xE9\\x.env"));
        assert_eq!(display_path(p), "dir/caf\\xE9/x.env");
    }
}
