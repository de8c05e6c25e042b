//! Suppression end to end: inline allow comments, `.vippsleaksignore`, baselines, and the
//! counts of what was silenced.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use serde_json::Value;

mod workspace;
use workspace::{repo, vippsleaks, write};

// Made-up client secrets (16 random bytes, Base64): not keys of any sales unit.
const KEY_A: &str = "eBLF7uYP0BvC25egi8visQ==";
const KEY_B: &str = "Tvr5vlY20ye5JWWxE8Vdag==";
const KEY_C: &str = "SWoCa5ltEfrCEFTkLURn6A==";

/// Runs `scan . -f json ARGS` and returns the exit code and the report.
fn scan_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = vippsleaks(dir)
        .args(["scan", ".", "-f", "json"])
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (code, report)
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().unwrap()
}

fn suppressed(report: &Value, how: &str) -> u64 {
    report["summary"]["suppressed"][how].as_u64().unwrap_or(0)
}

fn fingerprint_of(dir: &Path, file: &str) -> String {
    let (_, report) = scan_json(dir, &["--no-suppress"]);
    findings(&report)
        .iter()
        .find(|f| f["path"] == file)
        .unwrap_or_else(|| panic!("no finding in {file}: {report}"))["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn inline_comments_silence_their_line_in_any_comment_syntax() {
    let dir = repo();
    write(
        dir.path(),
        "a.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_A} # vippsleaks:allow\n"),
    );
    write(
        dir.path(),
        "b.js",
        &format!("// vipps\nconst vippsClientSecret = \"{KEY_B}\"; // gitleaks:allow\n"),
    );
    write(
        dir.path(),
        "c.xml",
        &format!(
            "<add key=\"Vipps:ClientSecret\" value=\"{KEY_C}\" /> <!-- pragma: allowlist secret -->\n"
        ),
    );
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 0, "{report}");
    assert!(findings(&report).is_empty(), "{report}");
    assert_eq!(suppressed(&report, "inline"), 3);

    let (code, report) = scan_json(dir.path(), &["--no-suppress"]);
    assert_eq!(findings(&report).len(), 3, "{report}");
    assert!(
        findings(&report)
            .iter()
            .all(|f| f["suppressed"] == "inline"),
        "{report}"
    );
    // showing silenced findings for an audit does not make them fail the run
    assert_eq!(code, 0);
}

#[test]
fn an_allow_comment_on_another_line_does_not_silence() {
    let dir = repo();
    write(
        dir.path(),
        "a.env",
        &format!("# vippsleaks:allow\nVIPPS_CLIENT_SECRET={KEY_A}\n"),
    );
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(findings(&report).len(), 1);
    assert_eq!(suppressed(&report, "inline"), 0);
}

#[test]
fn ignore_file_silences_a_fingerprint_everywhere_or_under_a_glob() {
    let dir = repo();
    write(
        dir.path(),
        "app/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_A}\n"),
    );
    write(
        dir.path(),
        "copy/vipps.env",
        &format!("\n\nVIPPS_CLIENT_SECRET={KEY_A}\n"),
    );
    write(
        dir.path(),
        "docs/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_B}\n"),
    );
    write(
        dir.path(),
        "src/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_B}\n"),
    );
    let a = fingerprint_of(dir.path(), "app/vipps.env");
    let b = fingerprint_of(dir.path(), "docs/vipps.env");
    write(
        dir.path(),
        ".vippsleaksignore",
        &format!("# keys we have accepted\n{a}  # everywhere\n\n{b} docs/**\n"),
    );
    let (code, report) = scan_json(dir.path(), &[]);
    assert_eq!(code, 1);
    let left: Vec<&str> = findings(&report)
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["src/vipps.env"]);
    assert_eq!(suppressed(&report, "ignore-file"), 3);
}

#[test]
fn ignore_file_at_the_repository_root_applies_to_a_subdirectory_scan() {
    let dir = repo();
    write(
        dir.path(),
        "service/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_C}\n"),
    );
    let fp = fingerprint_of(dir.path(), "service/vipps.env");
    write(
        dir.path(),
        ".vippsleaksignore",
        &format!("{fp} service/*.env\n"),
    );
    let out = vippsleaks(dir.path())
        .args(["scan", "service", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(suppressed(&report, "ignore-file"), 1);
}

#[test]
fn malformed_ignore_file_is_an_error_naming_file_and_line() {
    let dir = repo();
    write(
        dir.path(),
        "vipps.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_A}\n"),
    );
    write(
        dir.path(),
        ".vippsleaksignore",
        "# fine\n\nVIPPS_CLIENT_SECRET\n",
    );
    let out = vippsleaks(dir.path()).args(["scan", "."]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(".vippsleaksignore:3:"), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing is scanned after a broken ignore file"
    );
}

#[test]
fn baseline_is_sorted_stable_and_holds_no_secret() {
    let dir = repo();
    write(
        dir.path(),
        "z/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_A}\n"),
    );
    write(
        dir.path(),
        "a/vipps.env",
        &format!("# x\nVIPPS_CLIENT_SECRET={KEY_B}\n"),
    );
    let out = vippsleaks(dir.path())
        .args(["scan", ".", "--write-baseline", "baseline.json"])
        .output()
        .unwrap();
    // the findings just written are the baseline, so this run reports nothing new
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = std::fs::read_to_string(dir.path().join("baseline.json")).unwrap();
    assert!(!first.contains(KEY_A) && !first.contains(KEY_B), "{first}");
    let parsed: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(parsed["version"], 1);
    let entries = parsed["findings"].as_array().unwrap();
    let paths: Vec<&str> = entries
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["a/vipps.env", "z/vipps.env"]);
    assert_eq!(entries[0]["line"], 2);
    assert_eq!(entries[0]["rule_id"], "vipps-client-secret");
    // one finding a line, so that two branches adding findings merge cleanly
    let entry_lines = first
        .lines()
        .filter(|l| l.trim_start().starts_with("{\"fingerprint\":"))
        .count();
    assert_eq!(entry_lines, 2, "{first}");

    vippsleaks(dir.path())
        .args(["scan", ".", "--write-baseline", "baseline.json"])
        .assert()
        .code(0);
    let second = std::fs::read_to_string(dir.path().join("baseline.json")).unwrap();
    assert_eq!(
        first, second,
        "writing the same findings twice gives the same file"
    );
}

#[test]
fn baselined_key_moved_by_three_lines_stays_silent_and_a_new_key_is_reported_alone() {
    let dir = repo();
    write(
        dir.path(),
        "vipps.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_A}\n"),
    );
    vippsleaks(dir.path())
        .args(["scan", ".", "--write-baseline", "base.json"])
        .assert()
        .code(0);

    write(
        dir.path(),
        "vipps.env",
        &format!("# moved down\n\n\n    VIPPS_CLIENT_SECRET={KEY_A}\n"),
    );
    let (code, report) = scan_json(dir.path(), &["--baseline", "base.json"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(suppressed(&report, "baseline"), 1);

    write(
        dir.path(),
        "vipps.env",
        &format!(
            "# moved down\n\n\n    VIPPS_CLIENT_SECRET={KEY_A}\nVIPPS_CLIENT_SECRET_NEW={KEY_C}\n"
        ),
    );
    write(
        dir.path(),
        "elsewhere/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_A}\n"),
    );
    let (code, report) = scan_json(dir.path(), &["--baseline", "base.json"]);
    assert_eq!(code, 1);
    let found = findings(&report);
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0]["line"], 5);
    assert_eq!(found[0]["key_name"], "VIPPS_CLIENT_SECRET_NEW");
    assert_eq!(
        suppressed(&report, "baseline"),
        2,
        "the moved key and its copy"
    );
}

#[test]
fn malformed_baseline_is_an_error_naming_file_and_line() {
    let dir = repo();
    write(
        dir.path(),
        "vipps.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_A}\n"),
    );
    write(
        dir.path(),
        "base.json",
        "{\n  \"version\": 1,\n  \"findings\": [\n    {\"fingerprint\": 12}\n  ]\n}\n",
    );
    let out = vippsleaks(dir.path())
        .args(["scan", ".", "--baseline", "base.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("base.json:4:"), "{stderr}");

    let out = vippsleaks(dir.path())
        .args(["scan", ".", "--baseline", "missing.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.json"));
}

#[test]
fn every_mechanism_is_counted_and_no_suppress_shows_them_all() {
    let dir = repo();
    write(
        dir.path(),
        "inline/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_A} # vippsleaks:allow\n"),
    );
    write(
        dir.path(),
        "ignored/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_B}\n"),
    );
    write(
        dir.path(),
        "allowed/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_C}\n"),
    );
    let b = fingerprint_of(dir.path(), "ignored/vipps.env");
    let c = fingerprint_of(dir.path(), "allowed/vipps.env");
    write(dir.path(), ".vippsleaksignore", &format!("{b}\n"));
    write(
        dir.path(),
        ".vippsleaks.toml",
        &format!("[[allow]]\nfingerprint = \"{c}\"\nreason = \"test\"\n"),
    );
    write(
        dir.path(),
        "new/vipps.env",
        "VIPPS_SUBSCRIPTION_KEY=b0d598338348c385f9090b48373669b7\n",
    );
    vippsleaks(dir.path())
        .args(["scan", ".", "--write-baseline", "base.json"])
        .assert()
        .code(0);

    let (code, report) = scan_json(dir.path(), &["--baseline", "base.json"]);
    assert_eq!(code, 0);
    assert!(findings(&report).is_empty());
    let counts = &report["summary"]["suppressed"];
    assert_eq!(
        counts,
        &serde_json::json!({"inline": 1, "ignore-file": 1, "config": 1, "baseline": 1}),
        "{report}"
    );

    let (code, report) = scan_json(dir.path(), &["--baseline", "base.json", "--no-suppress"]);
    assert_eq!(code, 0);
    assert_eq!(
        report["summary"]["findings"], 0,
        "shown, but still suppressed"
    );
    assert_eq!(report["summary"]["suppressed"], *counts);
    let mut how: Vec<&str> = findings(&report)
        .iter()
        .map(|f| f["suppressed"].as_str().unwrap())
        .collect();
    how.sort_unstable();
    assert_eq!(how, ["baseline", "config", "ignore-file", "inline"]);
}

#[test]
fn writing_over_the_baseline_in_use_refreshes_it() {
    let dir = repo();
    write(
        dir.path(),
        "old.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_A}\n"),
    );
    vippsleaks(dir.path())
        .args(["scan", ".", "--write-baseline", "base.json"])
        .assert()
        .code(0);
    let fixed = fingerprint_of(dir.path(), "old.env");
    std::fs::remove_file(dir.path().join("old.env")).unwrap();
    write(
        dir.path(),
        "new.env",
        &format!("VIPPS_CLIENT_SECRET={KEY_B}\n"),
    );
    let added = fingerprint_of(dir.path(), "new.env");
    vippsleaks(dir.path())
        .args([
            "scan",
            ".",
            "--baseline",
            "base.json",
            "--write-baseline",
            "base.json",
        ])
        .assert()
        .code(0);
    let text = std::fs::read_to_string(dir.path().join("base.json")).unwrap();
    assert!(text.contains(&added) && !text.contains(&fixed), "{text}");
}
