//! `vippsleaks git` and `vippsleaks staged` on repositories built with the `git` binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use base64::Engine;
use serde_json::Value;

/// Random bytes from the standard library's randomly seeded hasher: every run has new keys.
fn random_bytes(n: usize) -> Vec<u8> {
    let state = RandomState::new();
    (0..n.div_ceil(8))
        .flat_map(|i| state.hash_one(i).to_le_bytes())
        .take(n)
        .collect()
}

/// A synthetic client_secret: 24 Base64 characters ending `==`, with upper and lower case
/// letters and digits.
fn client_secret() -> String {
    loop {
        let s = base64::engine::general_purpose::STANDARD.encode(random_bytes(16));
        let has = |f: fn(&char) -> bool| s.chars().any(|c| f(&c));
        if has(char::is_ascii_uppercase)
            && has(char::is_ascii_lowercase)
            && has(char::is_ascii_digit)
        {
            return s;
        }
    }
}

/// A synthetic subscription key: 32 lowercase hex digits, with letters and digits.
fn subscription_key() -> String {
    loop {
        let s: String = random_bytes(16)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if s.chars().any(|c| c.is_ascii_digit()) && s.chars().any(|c| c.is_ascii_alphabetic()) {
            return s;
        }
    }
}

fn env_file(secret: &str, key: &str) -> String {
    format!(
        "# Vipps MobilePay test sales unit (synthetic values for tests)\nVIPPS_BASE_URL=https://apitest.vipps.no\nVIPPS_CLIENT_SECRET={secret}\nVIPPS_SUBSCRIPTION_KEY={key}\n"
    )
}

/// A repository in a temporary directory, driven with the `git` binary.
struct Repo {
    _dir: tempfile::TempDir,
    path: PathBuf,
    commits: usize,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        std::fs::create_dir(&path).unwrap();
        let repo = Repo {
            _dir: dir,
            path,
            commits: 0,
        };
        repo.git(&["init", "-q"]);
        repo.git(&["symbolic-ref", "HEAD", "refs/heads/main"]);
        repo
    }

    fn git(&self, args: &[&str]) -> String {
        git_in(&self.path, args)
    }

    fn write(&self, path: &str, content: &str) {
        let full = self.path.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }

    /// Stages everything and commits with a date one day after the previous commit.
    fn commit(&mut self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.commits += 1;
        let date = format!("2024-02-{:02}T12:00:00+01:00", self.commits);
        let out = Process::new("git")
            .current_dir(&self.path)
            .args([
                "-c",
                "commit.gpgsign=false",
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                message,
            ])
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .envs(identity())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git commit: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }
}

fn identity() -> [(&'static str, &'static str); 5] {
    [
        ("GIT_AUTHOR_NAME", "Test Author"),
        ("GIT_AUTHOR_EMAIL", "author@example.invalid"),
        ("GIT_COMMITTER_NAME", "Test Author"),
        ("GIT_COMMITTER_EMAIL", "author@example.invalid"),
        ("GIT_CONFIG_NOSYSTEM", "1"),
    ]
}

fn git_in(dir: &Path, args: &[&str]) -> String {
    let out = Process::new("git")
        .current_dir(dir)
        .args(args)
        .envs(identity())
        .env("HOME", dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs vippsleaks with JSON output; returns the exit code and the report.
fn run(args: &[&str], cwd: &Path) -> (i32, Value) {
    let out = Command::cargo_bin("vippsleaks")
        .unwrap()
        .current_dir(cwd)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (code, report)
}

fn git_scan(repo: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["git", repo.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args, repo)
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings")
}

/// The finding whose redacted value starts like `secret`, at `path`.
fn find<'a>(report: &'a Value, path: &str, secret: &str) -> Option<&'a Value> {
    let prefix = &secret[..4];
    findings(report)
        .iter()
        .find(|f| f["path"] == path && f["redacted"].as_str().unwrap().starts_with(prefix))
}

#[test]
fn key_deleted_later_is_found_with_the_commit_that_added_it() {
    let mut repo = Repo::new();
    let (secret, key) = (client_secret(), subscription_key());
    repo.write("README.md", "shop\n");
    repo.commit("Start");
    repo.write("config/vipps.env", &env_file(&secret, &key));
    let added = repo.commit("Add local config");
    repo.write("README.md", "shop payments\n");
    repo.commit("Describe the project");
    std::fs::remove_file(repo.path.join("config/vipps.env")).unwrap();
    repo.commit("Remove credentials");

    let (code, report) = git_scan(&repo.path, &[]);
    assert_eq!(code, 1);
    for value in [&secret, &key] {
        let f = find(&report, "config/vipps.env", value).expect("key from history is reported");
        assert_eq!(f["commit"]["sha"], added.as_str());
        assert_eq!(
            f["commit"]["author"],
            "Test Author <author@example.invalid>"
        );
        assert_eq!(f["commit"]["date"], "2024-02-02T12:00:00+01:00");
        // the commit that added it and the one after it hold the key
        assert_eq!(f["commit"]["count"], 2);
    }
    assert_eq!(
        findings(&report).len(),
        2,
        "one finding per key: {report:#}"
    );
    let text = report.to_string();
    assert!(
        !text.contains(&secret) && !text.contains(&key),
        "raw secret in output"
    );
}

#[test]
fn key_in_many_commits_is_one_finding_with_a_count() {
    let mut repo = Repo::new();
    let (secret, key) = (client_secret(), subscription_key());
    repo.write("app/.env", &env_file(&secret, &key));
    let first = repo.commit("Config");
    for i in 0..5 {
        // the file changes around the key, so each commit has a different blob
        repo.write(
            "app/.env",
            &format!("{}VIPPS_TIMEOUT={i}\n", env_file(&secret, &key)),
        );
        repo.commit(&format!("Timeout {i}"));
    }
    let (code, report) = git_scan(&repo.path, &[]);
    assert_eq!(code, 1);
    assert_eq!(findings(&report).len(), 2, "{report:#}");
    let f = find(&report, "app/.env", &secret).unwrap();
    assert_eq!(f["commit"]["sha"], first.as_str());
    assert_eq!(f["commit"]["count"], 6);
    // six versions of the file, each scanned once
    assert_eq!(report["summary"]["files_scanned"], 6);
}

#[test]
fn side_branch_is_scanned_and_branch_option_limits_it() {
    let mut repo = Repo::new();
    let (secret, key) = (client_secret(), subscription_key());
    repo.write("README.md", "shop\n");
    repo.commit("Start");
    repo.git(&["checkout", "-q", "-b", "feature/sandbox"]);
    repo.write("tools/sandbox.env", &env_file(&secret, &key));
    let on_branch = repo.commit("Sandbox requests");
    repo.git(&["checkout", "-q", "main"]);
    assert!(!repo.path.join("tools/sandbox.env").exists());

    let (code, report) = git_scan(&repo.path, &[]);
    assert_eq!(code, 1);
    let f = find(&report, "tools/sandbox.env", &secret).expect("side branch key");
    assert_eq!(f["commit"]["sha"], on_branch.as_str());

    let (code, report) = git_scan(&repo.path, &["--branch", "main"]);
    assert_eq!(code, 0, "{report:#}");
    assert!(findings(&report).is_empty());

    let (code, report) = git_scan(&repo.path, &["--branch", "feature/sandbox"]);
    assert_eq!(code, 1);
    assert!(find(&report, "tools/sandbox.env", &key).is_some());
}

#[test]
fn range_reports_only_what_its_commits_add() {
    let mut repo = Repo::new();
    let (old_secret, old_key) = (client_secret(), subscription_key());
    let (new_secret, new_key) = (client_secret(), subscription_key());
    repo.write("legacy/.env", &env_file(&old_secret, &old_key));
    let base = repo.commit("Legacy config");
    repo.write("README.md", "docs\n");
    // the range changes the file that holds the old key, but not the key
    repo.write(
        "legacy/.env",
        &format!("{}VIPPS_TIMEOUT=30\n", env_file(&old_secret, &old_key)),
    );
    repo.commit("Docs and a timeout");
    repo.write("app/settings.env", &env_file(&new_secret, &new_key));
    let added = repo.commit("New settings");

    let range = format!("{base}..main");
    let (code, report) = git_scan(&repo.path, &["--range", &range]);
    assert_eq!(code, 1);
    assert!(
        find(&report, "legacy/.env", &old_secret).is_none(),
        "{report:#}"
    );
    let f = find(&report, "app/settings.env", &new_secret).expect("key added in the range");
    assert_eq!(f["commit"]["sha"], added.as_str());
    assert_eq!(findings(&report).len(), 2);

    let (code, report) = git_scan(&repo.path, &["--range", &format!("{added}..main")]);
    assert_eq!(code, 0, "{report:#}");

    let (code, _) = git_scan(&repo.path, &["--range", "main"]);
    assert_eq!(code, 2, "a range without `..` is an error");
}

#[test]
fn key_in_a_commit_message_is_reported() {
    let mut repo = Repo::new();
    let secret = client_secret();
    repo.write("src/pay.py", "BASE = 'https://apitest.vipps.no'\n");
    let sha = repo.commit(&format!(
        "Vipps token helper\n\nTested against apitest.vipps.no with\nVIPPS_CLIENT_SECRET={secret}\n"
    ));
    let (code, report) = git_scan(&repo.path, &[]);
    assert_eq!(code, 1);
    let f = find(&report, "@commit-message", &secret).expect("message finding");
    assert_eq!(f["line"], 4);
    assert_eq!(f["commit"]["sha"], sha.as_str());
}

#[test]
fn key_in_an_annotated_tag_message_is_reported() {
    let mut repo = Repo::new();
    let (secret, other) = (client_secret(), client_secret());
    repo.write("README.md", "shop\n");
    let sha = repo.commit("Start");
    let message = format!(
        "Release 1.0\n\nVipps test keys (apitest.vipps.no):\nVIPPS_CLIENT_SECRET={secret}\n"
    );
    repo.git(&[
        "-c",
        "tag.gpgSign=false",
        "tag",
        "-a",
        "v1.0",
        "-m",
        &message,
    ]);
    // a tag of the tag: both messages are read
    let again = format!("Re-tag\n\nVIPPS_CLIENT_SECRET={other}\nfor api.vipps.no\n");
    repo.git(&[
        "-c",
        "tag.gpgSign=false",
        "tag",
        "-a",
        "release",
        "v1.0",
        "-m",
        &again,
    ]);
    // a lightweight tag has no message
    repo.git(&["tag", "light"]);

    let (code, report) = git_scan(&repo.path, &[]);
    assert_eq!(code, 1, "{report:#}");
    let f = find(&report, "@tag-message", &secret).expect("tag message finding");
    assert_eq!(f["line"], 4);
    assert_eq!(f["commit"]["sha"], sha.as_str());
    assert!(
        f["commit"]["author"]
            .as_str()
            .unwrap()
            .contains("Test Author")
    );
    assert!(
        find(&report, "@tag-message", &other).is_some(),
        "{report:#}"
    );
    assert_eq!(findings(&report).len(), 2);

    // a branch or a range is about commits, not tags
    let (code, _) = git_scan(&repo.path, &["--branch", "main"]);
    assert_eq!(code, 0);
}

#[test]
fn stashed_key_is_found() {
    let mut repo = Repo::new();
    let secret = client_secret();
    repo.write("README.md", "shop\n");
    repo.commit("Start");
    repo.write(
        "README.md",
        &format!("shop\nVIPPS_CLIENT_SECRET={secret}\n"),
    );
    repo.git(&["stash", "-q"]);
    assert!(
        !std::fs::read_to_string(repo.path.join("README.md"))
            .unwrap()
            .contains(&secret)
    );
    let (code, report) = git_scan(&repo.path, &[]);
    assert_eq!(code, 1);
    assert!(find(&report, "README.md", &secret).is_some(), "{report:#}");
}

#[test]
fn bare_repository_and_packed_objects() {
    let mut repo = Repo::new();
    let (secret, key) = (client_secret(), subscription_key());
    repo.write("deploy/vipps.env", &env_file(&secret, &key));
    let sha = repo.commit("Deploy config");
    repo.git(&["tag", "-a", "v1", "-m", "release"]);
    let bare = repo.path.with_file_name("bare.git");
    git_in(
        repo.path.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--bare",
            repo.path.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    git_in(&bare, &["gc", "-q"]);
    assert!(!bare.join("refs/tags/v1").exists(), "refs are packed");

    let (code, report) = git_scan(&bare, &[]);
    assert_eq!(code, 1, "{report:#}");
    let f = find(&report, "deploy/vipps.env", &secret).unwrap();
    assert_eq!(f["commit"]["sha"], sha.as_str());

    let (code, _) = run(&["staged", bare.to_str().unwrap()], &bare);
    assert_eq!(code, 2, "a bare repository has nothing staged");
}

#[test]
fn shallow_clone_and_worktree() {
    let mut repo = Repo::new();
    let (secret, key) = (client_secret(), subscription_key());
    repo.write("a.txt", "one\n");
    repo.commit("One");
    repo.write("cfg/vipps.env", &env_file(&secret, &key));
    repo.commit("Two");
    let url = format!("file://{}", repo.path.display());
    let shallow = repo.path.with_file_name("shallow");
    git_in(
        repo.path.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &url,
            shallow.to_str().unwrap(),
        ],
    );
    let (code, report) = git_scan(&shallow, &[]);
    assert_eq!(code, 1);
    assert!(
        report["errors"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
    assert!(find(&report, "cfg/vipps.env", &key).is_some());

    let tree = repo.path.with_file_name("wt");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "side",
        tree.to_str().unwrap(),
    ]);
    let (code, report) = git_scan(&tree, &[]);
    assert_eq!(code, 1);
    assert!(find(&report, "cfg/vipps.env", &secret).is_some());
}

#[test]
fn submodules_and_lfs_pointers_are_skipped() {
    let mut repo = Repo::new();
    let secret = client_secret();
    repo.write(
        "assets/big.bin",
        "version https://git-lfs.github.com/spec/v1\noid sha256:4fa1c0de00000000000000000000000000000000000000000000000000000000\nsize 10\n",
    );
    repo.write("x.env", &format!("VIPPS_CLIENT_SECRET={secret}\n"));
    let head = repo.commit("Assets");
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{head},vendor/lib"),
    ]);
    repo.git(&["commit", "-q", "-m", "Vendor lib"]);

    let (code, report) = git_scan(&repo.path, &[]);
    assert_eq!(code, 1);
    let errors = report["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["path"] == "vendor/lib"
                && e["message"].as_str().unwrap().contains("submodule")),
        "{report:#}"
    );
    assert_eq!(
        report["summary"]["files_skipped"], 2,
        "the submodule and the LFS pointer"
    );
    assert_eq!(report["summary"]["files_unreadable"], 0);
}

#[test]
fn corrupt_object_is_reported_and_the_scan_goes_on() {
    let mut repo = Repo::new();
    let (secret, key) = (client_secret(), subscription_key());
    repo.write("good.env", &env_file(&secret, &key));
    repo.write("bad.txt", "this blob will be damaged\n");
    repo.commit("Files");
    let blob = repo.git(&["rev-parse", "HEAD:bad.txt"]).trim().to_owned();
    let object = repo
        .path
        .join(".git/objects")
        .join(&blob[..2])
        .join(&blob[2..]);
    let mut perms = std::fs::metadata(&object).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&object, perms).unwrap();
    std::fs::write(&object, b"not zlib at all").unwrap();

    let (code, report) = git_scan(&repo.path, &[]);
    assert_eq!(code, 1, "findings still win over errors: {report:#}");
    assert!(find(&report, "good.env", &secret).is_some());
    assert_eq!(report["summary"]["files_unreadable"], 1);
    let errors = report["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["path"] == "bad.txt"), "{report:#}");
}

#[test]
fn exit_codes() {
    let mut repo = Repo::new();
    repo.write("README.md", "VIPPS_CLIENT_SECRET=${VIPPS_CLIENT_SECRET}\n");
    repo.commit("Clean");
    let (code, report) = git_scan(&repo.path, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert!(findings(&report).is_empty());

    let plain = tempfile::tempdir().unwrap();
    let (code, _) = run(&["git", plain.path().to_str().unwrap()], plain.path());
    assert_eq!(code, 2, "not a repository");
    let (code, _) = git_scan(&repo.path, &["--branch", "no-such-branch"]);
    assert_eq!(code, 2);
}

#[test]
fn sarif_is_repository_relative_with_commit_and_provenance() {
    let mut repo = Repo::new();
    let (secret, key) = (client_secret(), subscription_key());
    repo.write("config/vipps.env", &env_file(&secret, &key));
    let sha = repo.commit("Config");
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://someone:t0ken@example.com/shop/payments.git",
    ]);
    let out = Command::cargo_bin("vippsleaks")
        .unwrap()
        .args(["git", repo.path.to_str().unwrap(), "--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(
        run["versionControlProvenance"][0]["repositoryUri"],
        "https://example.com/shop/payments.git"
    );
    let result = &run["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "config/vipps.env"
    );
    assert_eq!(result["properties"]["commit"], sha.as_str());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("t0ken"));
}

#[test]
fn staged_reports_only_added_lines() {
    let mut repo = Repo::new();
    let (old_secret, old_key) = (client_secret(), subscription_key());
    let new_key = subscription_key();
    repo.write("config/vipps.env", &env_file(&old_secret, &old_key));
    repo.write("notes.txt", "nothing\n");
    repo.commit("Old config");

    // an unchanged old key is not reported
    let (code, report) = run(&["staged"], &repo.path);
    assert_eq!(code, 0, "nothing staged: {report:#}");

    let changed = format!(
        "{}VIPPS_SUBSCRIPTION_KEY_SECONDARY={new_key}\n",
        env_file(&old_secret, &old_key)
    );
    repo.write("config/vipps.env", &changed);
    repo.write("notes.txt", "still nothing\n");
    repo.git(&["add", "config/vipps.env", "notes.txt"]);
    let (code, report) = run(&["staged"], &repo.path);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(findings(&report).len(), 1, "{report:#}");
    let f = find(&report, "config/vipps.env", &new_key).expect("the staged key");
    assert_eq!(f["line"], 5);
    assert!(f.get("commit").is_none());

    // only the index counts: a key in the work tree that is not staged is not reported
    repo.git(&["commit", "-q", "-m", "More config"]);
    let unstaged = client_secret();
    repo.write("local.env", &format!("VIPPS_CLIENT_SECRET={unstaged}\n"));
    let (code, report) = run(
        &["staged", repo.path.to_str().unwrap()],
        repo.path.parent().unwrap(),
    );
    assert_eq!(code, 0, "{report:#}");
    repo.git(&["add", "local.env"]);
    let (code, report) = run(
        &["staged", repo.path.to_str().unwrap()],
        repo.path.parent().unwrap(),
    );
    assert_eq!(code, 1);
    assert!(find(&report, "local.env", &unstaged).is_some());
    // what is staged counts, not what the work tree has since
    std::fs::remove_file(repo.path.join("local.env")).unwrap();
    let (code, _) = run(&["staged"], &repo.path);
    assert_eq!(code, 1);
}

#[test]
fn staged_in_a_repository_without_commits() {
    let repo = Repo::new();
    let secret = client_secret();
    repo.write("app/.env", &format!("VIPPS_CLIENT_SECRET={secret}\n"));
    repo.git(&["add", "app/.env"]);
    let (code, report) = run(&["staged"], &repo.path.join("app"));
    assert_eq!(code, 1);
    assert_eq!(find(&report, "app/.env", &secret).unwrap()["line"], 1);
}
