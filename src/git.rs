//! Git inputs: history (every blob reachable from the refs, and commit messages) and the
//! staged changes. Objects are read with gitoxide straight from the object database.

mod history;
mod staged;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use gix::ObjectId;
use indicatif::{ProgressBar, ProgressStyle};
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use crate::app::{self, Exit};
use crate::cli::{GitArgs, OutputArgs, StagedArgs};
use crate::scan::{ScanError, ScanOutcome};

pub use history::{History, Selection};

/// `vippsleaks git`: scans history.
pub fn run_git(args: &GitArgs) -> Result<Exit> {
    let opened = Opened::new(&args.repo)?;
    let prepared = app::prepare(&opened.root, &args.suppress)?;
    let selection = match (&args.branch, &args.range) {
        (Some(r), _) => Selection::Ref(r.clone()),
        (None, Some(r)) => Selection::Range(r.clone()),
        (None, None) => Selection::AllRefs,
    };
    let history = History {
        detector: &prepared.detector,
        limits: &prepared.limits,
        progress: progress_wanted(&args.output),
    };
    let threads = args.threads.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start worker threads")?;
    let sync = opened.repo.clone().into_sync();
    let outcome = pool.install(|| history.scan(&sync.to_thread_local(), &selection))?;
    app::emit(
        outcome,
        &prepared,
        Some(&opened.root),
        Some(&opened.uri),
        &args.output,
        &args.suppress,
    )
}

/// `vippsleaks staged`: scans what the index adds relative to HEAD.
pub fn run_staged(args: &StagedArgs) -> Result<Exit> {
    let opened = Opened::new(&args.repo)?;
    let prepared = app::prepare(&opened.root, &args.suppress)?;
    let outcome = staged::scan(&opened.repo, &prepared.detector, &prepared.limits)?;
    app::emit(
        outcome,
        &prepared,
        Some(&opened.root),
        Some(&opened.uri),
        &args.output,
        &args.suppress,
    )
}

/// An opened repository, where its files are shown from, and the URI that names it.
struct Opened {
    repo: gix::Repository,
    /// The work tree, or the git directory of a bare repository; absolute, so no finding path
    /// (always relative to the repository) is ever mistaken for one under it.
    root: PathBuf,
    uri: String,
}

impl Opened {
    fn new(path: &Path) -> Result<Opened> {
        let repo = gix::discover(path)
            .with_context(|| format!("{}: not a git repository", path.display()))?;
        let root = repo
            .workdir()
            .unwrap_or_else(|| repo.git_dir())
            .to_path_buf();
        let root = std::fs::canonicalize(&root).unwrap_or(root);
        let uri = repository_uri(&repo, &root);
        Ok(Opened { repo, root, uri })
    }
}

/// Characters escaped in a `file://` URI path.
const PATH_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?');

/// The `origin` remote's URL without any user name or password in it, or the repository's
/// location as a `file://` URI.
fn repository_uri(repo: &gix::Repository, root: &Path) -> String {
    let origin = repo
        .config_snapshot()
        .string("remote.origin.url")
        .map(|u| u.to_string());
    if let Some(uri) = origin.as_deref().and_then(remote_uri) {
        return uri;
    }
    let mut path = root.to_string_lossy().replace('\\', "/");
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    format!("file://{}", utf8_percent_encode(&path, PATH_ESCAPES))
}

/// A remote URL as a URI that carries no credentials: `https://user:token@host/x` loses its
/// user part, and the scp-like `git@host:owner/repo` becomes `ssh://git@host/owner/repo`.
fn remote_uri(url: &str) -> Option<String> {
    let url = url.trim();
    if let Some((scheme, rest)) = url.split_once("://") {
        if scheme.is_empty()
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return None;
        }
        if scheme == "file" {
            return None;
        }
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let user = match (scheme, authority.rsplit_once('@')) {
            // An ssh user name is a login, not a credential.
            ("ssh", Some((u, _))) if !u.contains(':') => format!("{u}@"),
            _ => String::new(),
        };
        return Some(format!("{scheme}://{user}{host}{path}"));
    }
    let (login, path) = url.split_once(':')?;
    if login.contains('/') || path.starts_with("//") || login.len() < 2 {
        return None; // a local path (or a Windows drive letter)
    }
    Some(format!("ssh://{login}/{}", path.trim_start_matches('/')))
}

/// Whether to draw progress bars: only for a person watching standard error.
fn progress_wanted(out: &OutputArgs) -> bool {
    !out.quiet && std::io::stderr().is_terminal()
}

fn progress_bar(enabled: bool, len: Option<u64>, what: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = match len {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template(
                "{msg:>8} {bar:30} {human_pos}/{human_len} ({elapsed}, {eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{msg:>8} {spinner} {human_pos}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    };
    bar.set_message(what.to_owned());
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar
}

/// An error and its causes on one line.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = cause.source();
    }
    s
}

/// Records an object that could not be read; the scan goes on without it.
fn unreadable(outcome: &mut ScanOutcome, path: &str, id: &ObjectId, message: &str) {
    outcome.summary.files_unreadable += 1;
    outcome.errors.push(ScanError {
        path: path.to_owned(),
        message: format!("cannot read object {id}: {message}"),
    });
}

/// A Git LFS pointer file: the content lives elsewhere and the pointer holds nothing secret.
fn is_lfs_pointer(bytes: &[u8]) -> bool {
    bytes.len() < 1024 && bytes.starts_with(b"version https://git-lfs.github.com/spec/")
}

/// Shows a repository path (bytes) the way findings show paths.
fn shown_path(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

/// Records a submodule (a commit inside the tree), which is not scanned.
fn skipped_submodule(outcome: &mut ScanOutcome, path: &str, id: &ObjectId) {
    outcome.summary.files_skipped += 1;
    outcome.errors.push(ScanError {
        path: path.to_owned(),
        message: format!("submodule (commit {id}) skipped: scan its repository on its own"),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_uris_lose_credentials() {
        assert_eq!(
            remote_uri("https://someone:tok3n@example.com/shop/payments.git").as_deref(),
            Some("https://example.com/shop/payments.git")
        );
        assert_eq!(
            remote_uri("git@example.com:shop/payments.git").as_deref(),
            Some("ssh://git@example.com/shop/payments.git")
        );
        assert_eq!(
            remote_uri("ssh://git@example.com:22/shop.git").as_deref(),
            Some("ssh://git@example.com:22/shop.git")
        );
        assert_eq!(remote_uri("/srv/git/shop.git"), None);
        assert_eq!(remote_uri("../shop"), None);
        assert_eq!(remote_uri("file:///srv/git/shop.git"), None);
    }

    #[test]
    fn lfs_pointers_are_recognised() {
        let pointer = b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";
        assert!(is_lfs_pointer(pointer));
        assert!(!is_lfs_pointer(b"VIPPS_CLIENT_SECRET=abc\n"));
    }
}
