//! The binary end to end: exit codes, redaction in every format, and snapshots of each output
//! format for a small leak.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use predicates::prelude::*;

/// Synthetic keys, random and used nowhere else.
const SECRET: &str = "k7PqW2vXn9RtY4bLm1ZsC8dF3gH=";
const SUB_KEY: &str = "5c1e9a7b3d2f48e6a0b4c8d2e6f1a3b7";
const CLIENT_ID: &str = "3f6b2d8e-1c4a-4e9b-a7d2-5b8c1e3f9a60";

fn vippsleaks() -> Command {
    let mut cmd = Command::cargo_bin("vippsleaks").unwrap();
    cmd.env_remove("NO_COLOR").env("CLICOLOR", "0");
    cmd
}

fn leaky_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "# Vipps MobilePay test keys\nVIPPS_BASE_URL=https://apitest.vipps.no\nVIPPS_CLIENT_ID={CLIENT_ID}\nVIPPS_CLIENT_SECRET={SECRET}\nVIPPS_SUBSCRIPTION_KEY_PRIMARY={SUB_KEY}\nVIPPS_MSN=4815162\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("README.md"), "nothing to see here\n").unwrap();
    dir
}

/// Replaces the temp dir and other run-specific values for snapshots.
fn settings(dir: &std::path::Path) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    let shown = dir.to_string_lossy().replace('\\', "/");
    s.add_filter(&regex::escape(&shown), "[DIR]");
    if let Ok(canon) = std::fs::canonicalize(dir) {
        s.add_filter(
            &regex::escape(&canon.to_string_lossy().replace('\\', "/")),
            "[DIR]",
        );
    }
    s.add_filter(r#""version": "[0-9.]+""#, r#""version": "[VERSION]""#);
    s.add_filter(
        r#"vippsleaks [0-9]+\.[0-9]+\.[0-9]+"#,
        "vippsleaks [VERSION]",
    );
    s.add_filter(
        r#""semanticVersion": "[0-9.]+""#,
        r#""semanticVersion": "[VERSION]""#,
    );
    s.add_filter(r#"\([0-9.]+ (B|KiB)\)"#, "([SIZE])");
    s
}

fn run(dir: &std::path::Path, format: &str) -> (i32, String, String) {
    let out = vippsleaks()
        .args(["scan", "--format", format])
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_fresh_leak_in_dotenv_is_found_and_never_shown() {
    let dir = leaky_dir();
    for format in ["text", "json", "sarif", "github", "markdown"] {
        let (code, stdout, stderr) = run(dir.path(), format);
        assert_eq!(code, 1, "{format}: {stderr}");
        for raw in [SECRET, SUB_KEY, &SECRET[..12], &SUB_KEY[8..24]] {
            assert!(!stdout.contains(raw), "{format} output shows {raw}");
            assert!(!stderr.contains(raw), "{format} errors show {raw}");
        }
    }
}

#[test]
fn show_secrets_is_opt_in() {
    let dir = leaky_dir();
    let out = vippsleaks()
        .args(["scan", "--format", "json", "--show-secrets"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(SECRET));
}

#[test]
fn snapshot_text() {
    let dir = leaky_dir();
    let (_, stdout, _) = run(dir.path(), "text");
    settings(dir.path()).bind(|| insta::assert_snapshot!(stdout));
}

#[test]
fn snapshot_json() {
    let dir = leaky_dir();
    let (_, stdout, _) = run(dir.path(), "json");
    settings(dir.path()).bind(|| insta::assert_snapshot!(stdout));
}

#[test]
fn snapshot_sarif() {
    let dir = leaky_dir();
    let (_, stdout, _) = run(dir.path(), "sarif");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // the base URI is the temp dir: check it, then leave it out of the snapshot
    let base = &doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"];
    assert!(base.as_str().unwrap().starts_with("file:///"));
    let results = &doc["runs"][0]["results"];
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        ".env"
    );
    assert_eq!(
        results[0]["relatedLocations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    let mut doc = doc;
    doc["runs"][0]["originalUriBaseIds"] = serde_json::Value::Null;
    settings(dir.path()).bind(|| insta::assert_json_snapshot!(doc));
}

#[test]
fn snapshot_github_and_markdown() {
    let dir = leaky_dir();
    let (_, github, _) = run(dir.path(), "github");
    let (_, markdown, _) = run(dir.path(), "markdown");
    settings(dir.path()).bind(|| {
        insta::assert_snapshot!("github", github);
        insta::assert_snapshot!("markdown", markdown);
    });
}

#[test]
fn a_clean_directory_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), "print('hello')\n").unwrap();
    vippsleaks()
        .arg("scan")
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("0 findings"));
}

#[test]
fn a_missing_path_exits_2() {
    vippsleaks()
        .args(["scan", "/definitely/not/here"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/definitely/not/here"));
}

#[test]
fn bad_arguments_exit_2() {
    vippsleaks()
        .args(["scan", "--format", "yaml"])
        .assert()
        .code(2);
}

#[test]
fn stdin_is_scanned() {
    vippsleaks()
        .args(["scan", "-", "--format", "json"])
        .write_stdin(format!("VIPPS_CLIENT_SECRET={SECRET}\n"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"path\": \"<stdin>\""));
}

#[test]
fn gitignored_files_are_skipped_unless_no_ignore() {
    let dir = leaky_dir();
    std::fs::write(dir.path().join(".gitignore"), ".env\n").unwrap();
    vippsleaks().arg("scan").arg(dir.path()).assert().code(0);
    vippsleaks()
        .args(["scan", "--no-ignore"])
        .arg(dir.path())
        .assert()
        .code(1);
}

#[test]
fn binary_files_are_skipped_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut bin = b"\x7fELF\x02\x01\x01\x00\x00\x00".to_vec();
    bin.extend(format!("VIPPS_CLIENT_SECRET={SECRET}").as_bytes());
    std::fs::write(dir.path().join("app.bin"), bin).unwrap();
    let out = vippsleaks()
        .args(["scan", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["files_skipped"], 1);
    assert_eq!(doc["summary"]["files_scanned"], 0);
}

#[test]
fn output_file_is_written_and_unwritable_output_exits_2() {
    let dir = leaky_dir();
    let out_dir = tempfile::tempdir().unwrap();
    let report = out_dir.path().join("report.sarif");
    vippsleaks()
        .args(["scan", "--format", "sarif", "--output"])
        .arg(&report)
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout("");
    assert!(
        std::fs::read_to_string(&report)
            .unwrap()
            .contains("vipps-client-secret")
    );
    vippsleaks()
        .args(["scan", "--output", "/definitely/not/here/report.txt"])
        .arg(dir.path())
        .assert()
        .code(2);
}

#[test]
fn one_scan_writes_extra_reports_with_also() {
    let dir = leaky_dir();
    let out_dir = tempfile::tempdir().unwrap();
    let sarif = out_dir.path().join("report.sarif");
    let summary = out_dir.path().join("summary.md");
    let assert = vippsleaks()
        .args(["scan", "--format", "github", "--also"])
        .arg(format!("sarif={}", sarif.display()))
        .arg("--also")
        .arg(format!("markdown={}", summary.display()))
        .arg(dir.path())
        .assert()
        .code(1);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert_eq!(stdout.matches("::error ").count(), 2, "{stdout}");
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(
        summary.contains("client_secret") && summary.contains("| 5 |"),
        "{summary}"
    );
    for text in [&stdout, &summary, &sarif.to_string()] {
        assert!(!text.contains(SECRET) && !text.contains(SUB_KEY));
    }

    // a bad format or an unwritable file is an error, and nothing is left behind
    vippsleaks()
        .args(["scan", "--also", "yaml=x.yaml"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown format"));
    vippsleaks()
        .args(["scan", "--also", "sarif=/definitely/not/here/r.sarif"])
        .arg(dir.path())
        .assert()
        .code(2);
}
