//! The pre-commit hook through the real pre-commit framework (`pre-commit try-repo`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .env("GIT_AUTHOR_NAME", "Hook Test")
        .env("GIT_AUTHOR_EMAIL", "hook@example.invalid")
        .env("GIT_COMMITTER_NAME", "Hook Test")
        .env("GIT_COMMITTER_EMAIL", "hook@example.invalid")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A git repository holding the project's hook definitions, committed (try-repo needs a commit).
fn hook_repo(dir: &Path) -> PathBuf {
    let hooks = dir.join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    git(&hooks, &["init", "-q"]);
    git(&hooks, &["add", "-A"]);
    git(&hooks, &["commit", "-q", "-m", "hooks"]);
    hooks
}

/// Runs the `vippsleaks-system` hook in `repo` with the built binary first on PATH.
fn try_repo(hooks: &Path, repo: &Path, cache: &Path) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_vippsleaks"))
        .parent()
        .unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    Command::new("pre-commit")
        .current_dir(repo)
        .args([
            "try-repo",
            hooks.to_str().unwrap(),
            "vippsleaks-system",
            "--verbose",
        ])
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", cache)
        .env("NO_COLOR", "1")
        .output()
        .expect("pre-commit is installed")
}

#[test]
#[ignore = "needs pre-commit (pip install pre-commit); .ci/run runs it"]
fn hook_blocks_a_staged_key_and_passes_a_clean_change() {
    let dir = tempfile::tempdir().unwrap();
    let hooks = hook_repo(dir.path());
    let cache = dir.path().join("cache");
    let repo = dir.path().join("shop");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    std::fs::write(repo.join("README.md"), "shop\n").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "start"]);

    // a clean change passes
    std::fs::write(repo.join("README.md"), "shop payments\n").unwrap();
    git(&repo, &["add", "README.md"]);
    let out = try_repo(&hooks, &repo, &cache);
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "clean change failed the hook:\n{shown}"
    );
    assert!(shown.contains("Passed"), "{shown}");

    // a staged key (synthetic, made for this test) fails and is named
    let secret = "Qh7TzV0bWk3mXe9LpR2sNw==";
    std::fs::write(
        repo.join("vipps.env"),
        format!("VIPPS_BASE_URL=https://apitest.vipps.no\nVIPPS_CLIENT_SECRET={secret}\n"),
    )
    .unwrap();
    git(&repo, &["add", "vipps.env"]);
    let out = try_repo(&hooks, &repo, &cache);
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success(),
        "staged key passed the hook:\n{shown}"
    );
    assert!(shown.contains("Failed"), "{shown}");
    assert!(
        shown.contains("vipps-client-secret") && shown.contains("vipps.env:2"),
        "{shown}"
    );
    assert!(
        !shown.contains(secret),
        "the hook printed the raw secret:\n{shown}"
    );
}
