//! `.vippsleaks.toml` end to end: where it is found, what each key does, and errors that name
//! the file and the line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use serde_json::Value;

mod workspace;
use workspace::{repo, vippsleaks, write};

// Made-up keys (random bytes): not keys of any sales unit.
const SECRET: &str = "LreNXRR00tz5uxwwsbCJ9w==";
const OTHER_SECRET: &str = "b/g2MlLaY+oZcpEMrovAnA==";
const SUBSCRIPTION_KEY: &str = "b0d598338348c385f9090b48373669b7";

fn scan_json(dir: &Path, args: &[&str]) -> (i32, Value) {
    let out = vippsleaks(dir)
        .args(["scan", "-f", "json"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), report)
}

fn paths(report: &Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect()
}

/// Runs `scan .` and returns the exit code and standard error.
fn scan_error(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = vippsleaks(dir)
        .args(["scan", "."])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn excluded_paths_are_not_reported() {
    let dir = repo();
    write(
        dir.path(),
        "fixtures/keys/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={SECRET}\n"),
    );
    write(
        dir.path(),
        "vendor/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={OTHER_SECRET}\n"),
    );
    write(
        dir.path(),
        "src/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={OTHER_SECRET}\n"),
    );
    write(
        dir.path(),
        ".vippsleaks.toml",
        "exclude = [\"fixtures/**\", \"vendor\"]\n",
    );
    let (code, report) = scan_json(dir.path(), &["."]);
    assert_eq!(code, 1);
    assert_eq!(paths(&report), ["src/vipps.env"]);
    // excluded files are not read at all, so nothing there is even a suppressed finding
    assert!(
        report["summary"]["suppressed"]["config"].is_null(),
        "{report}"
    );
    assert_eq!(report["summary"]["files_scanned"], 2, "{report}");
}

#[test]
fn config_at_the_repository_root_applies_to_a_subdirectory_scan() {
    let dir = repo();
    write(
        dir.path(),
        "svc/test-data/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={SECRET}\n"),
    );
    write(
        dir.path(),
        "svc/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={OTHER_SECRET}\n"),
    );
    write(
        dir.path(),
        ".vippsleaks.toml",
        "exclude = [\"svc/test-data/**\"]\n",
    );
    let (code, report) = scan_json(dir.path(), &["svc"]);
    assert_eq!(code, 1);
    assert_eq!(paths(&report), ["svc/vipps.env"]);
}

#[test]
fn config_above_the_repository_is_not_used() {
    let outer = tempfile::tempdir().unwrap();
    write(outer.path(), ".vippsleaks.toml", "exclude = [\"**\"]\n");
    let inner = outer.path().join("project");
    std::fs::create_dir_all(inner.join(".git")).unwrap();
    write(
        &inner,
        "vipps.env",
        &format!("VIPPS_CLIENT_SECRET={SECRET}\n"),
    );
    let (code, report) = scan_json(&inner, &["."]);
    assert_eq!(code, 1, "{report}");
}

#[test]
fn explicit_config_file_is_used_and_must_exist() {
    let dir = repo();
    write(
        dir.path(),
        "vipps.env",
        &format!("VIPPS_CLIENT_SECRET={SECRET}\n"),
    );
    write(dir.path(), "ci/strict.toml", "exclude = [\"*.env\"]\n");
    // globs are relative to the configuration file's directory
    let (code, _) = scan_json(dir.path(), &[".", "--config", "ci/strict.toml"]);
    assert_eq!(code, 1);
    write(dir.path(), "ci/strict.toml", "exclude = [\"../*.env\"]\n");
    write(dir.path(), "loose.toml", "exclude = [\"*.env\"]\n");
    let (code, _) = scan_json(dir.path(), &[".", "--config", "loose.toml"]);
    assert_eq!(code, 0);
    let (code, stderr) = scan_error(dir.path(), &["--config", "nope.toml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("nope.toml"), "{stderr}");
}

#[test]
fn disabled_rules_do_not_report() {
    let dir = repo();
    write(
        dir.path(),
        "vipps.env",
        &format!("VIPPS_CLIENT_SECRET={SECRET}\nVIPPS_SUBSCRIPTION_KEY={SUBSCRIPTION_KEY}\n"),
    );
    let (_, report) = scan_json(dir.path(), &["."]);
    assert_eq!(paths(&report).len(), 2);
    write(
        dir.path(),
        ".vippsleaks.toml",
        "disable-rules = [\"vipps-subscription-key\"]\n",
    );
    let (code, report) = scan_json(dir.path(), &["."]);
    assert_eq!(code, 1);
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["vipps-client-secret"]);
}

#[test]
fn extra_vipps_words_count_as_evidence() {
    let dir = repo();
    write(
        dir.path(),
        "pay.ini",
        &format!("[acmepay]\nclient_secret = {SECRET}\n"),
    );
    let (code, _) = scan_json(dir.path(), &["."]);
    assert_eq!(
        code, 0,
        "without the word nothing says the key is Vipps MobilePay's"
    );
    write(
        dir.path(),
        ".vippsleaks.toml",
        "vipps-words = [\"AcmePay\"]\n",
    );
    let (code, report) = scan_json(dir.path(), &["."]);
    assert_eq!(code, 1);
    assert_eq!(paths(&report), ["pay.ini"]);
}

const EXTRA_RULE: &str = r##"
[[rules]]
id = "acme-vipps-token"
name = "ACME's Vipps token"
kind = "client_secret"
role = "report"
severity = "warning"
security_severity = 7.0
precision = "medium"
shape = "base64-secret"
names = [["acme", "token"]]
evidence = "vipps"
summary = "ACME's copy of a Vipps client_secret."
description = "ACME stores the Vipps client_secret under a token name."
remediation = "1. Regenerate the client_secret."
examples = ["# vipps\nACME_SECRET_TOKEN=JQRLN+uOCGl5jSVYMgXJ2g=="]
negative_examples = ["# vipps\nACME_SECRET_TOKEN=${ACME_SECRET_TOKEN}"]
"##;

#[test]
fn extra_rule_files_find_more() {
    let dir = repo();
    write(
        dir.path(),
        "vipps.env",
        &format!("VIPPS_ACME_SECRET_TOKEN={SECRET}\n"),
    );
    let (code, _) = scan_json(dir.path(), &["."]);
    assert_eq!(code, 0, "the built-in rules do not take a token name");
    write(dir.path(), "conf/acme.toml", EXTRA_RULE);
    write(
        dir.path(),
        ".vippsleaks.toml",
        "rule-files = [\"conf/acme.toml\"]\n",
    );
    let (code, report) = scan_json(dir.path(), &["."]);
    assert_eq!(code, 1);
    assert_eq!(report["findings"][0]["rule_id"], "acme-vipps-token");
    assert_eq!(report["findings"][0]["severity"], "warning");
}

#[test]
fn allowed_fingerprints_are_silenced() {
    let dir = repo();
    write(
        dir.path(),
        "a/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={SECRET}\n"),
    );
    write(
        dir.path(),
        "b/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={OTHER_SECRET}\n"),
    );
    let (_, report) = scan_json(dir.path(), &["."]);
    let fp = report["findings"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    write(
        dir.path(),
        ".vippsleaks.toml",
        &format!("[[allow]]\nfingerprint = \"{fp}\"\nreason = \"public demo key\"\n"),
    );
    let (code, report) = scan_json(dir.path(), &["."]);
    assert_eq!(code, 1);
    assert_eq!(paths(&report), ["b/vipps.env"]);
}

#[test]
fn limits_apply() {
    let dir = repo();
    let padding = "# filler\n".repeat(50);
    write(
        dir.path(),
        "vipps.env",
        &format!("{padding}VIPPS_CLIENT_SECRET={SECRET}\n"),
    );
    write(
        dir.path(),
        ".vippsleaks.toml",
        "[limits]\nmax-file-size = 100\n",
    );
    let (code, report) = scan_json(dir.path(), &["."]);
    assert_eq!(code, 0, "{report}");
    assert!(report["summary"]["files_skipped"].as_u64().unwrap() >= 1);
}

#[test]
fn unknown_key_names_file_line_and_key() {
    let dir = repo();
    write(
        dir.path(),
        ".vippsleaks.toml",
        "exclude = []\n\n[limits]\nmax-file-size = 10\narchive-dept = 2\n",
    );
    let (code, stderr) = scan_error(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains(".vippsleaks.toml:5:"), "{stderr}");
    assert!(stderr.contains("archive-dept"), "{stderr}");
}

#[test]
fn wrong_type_and_unknown_rule_name_file_and_line() {
    let dir = repo();
    write(
        dir.path(),
        ".vippsleaks.toml",
        "# settings\nexclude = \"tests/**\"\n",
    );
    let (code, stderr) = scan_error(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(".vippsleaks.toml:2:") && stderr.contains("exclude"),
        "{stderr}"
    );

    write(
        dir.path(),
        ".vippsleaks.toml",
        "disable-rules = [\n  \"vipps-client-secrte\",\n]\n",
    );
    let (code, stderr) = scan_error(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(".vippsleaks.toml:2:") && stderr.contains("vipps-client-secrte"),
        "{stderr}"
    );

    write(
        dir.path(),
        ".vippsleaks.toml",
        "exclude = [\"ok/**\", \"bad/[\"]\n",
    );
    let (code, stderr) = scan_error(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains(".vippsleaks.toml:1:") && stderr.contains("bad/["),
        "{stderr}"
    );
}

#[test]
fn broken_rule_file_names_its_own_line_and_the_config() {
    let dir = repo();
    write(
        dir.path(),
        "conf/acme.toml",
        &EXTRA_RULE.replace("severity = \"warning\"", "severity = \"loud\""),
    );
    write(
        dir.path(),
        ".vippsleaks.toml",
        "\nrule-files = [\"conf/acme.toml\"]\n",
    );
    let (code, stderr) = scan_error(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("acme.toml:7:"), "{stderr}");
    assert!(stderr.contains(".vippsleaks.toml:2"), "{stderr}");
}

/// This repository's own configuration excludes its made-up keys, so a scan of it is clean.
#[test]
fn this_repository_scans_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = vippsleaks(root)
        .args(["scan", ".", "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The example in docs/suppression.md is a working configuration.
#[test]
fn documented_example_configuration_is_valid() {
    let doc = include_str!("../docs/suppression.md");
    let start = doc.find("```toml\n").expect("a toml example") + "```toml\n".len();
    let example = &doc[start..start + doc[start..].find("```").unwrap()];
    let dir = repo();
    write(dir.path(), ".vippsleaks.toml", example);
    write(dir.path(), "ci/vippsleaks-rules.toml", EXTRA_RULE);
    write(
        dir.path(),
        "vendor/lib/vipps.env",
        &format!("VIPPS_CLIENT_SECRET={SECRET}\n"),
    );
    write(
        dir.path(),
        "pay.ini",
        &format!("[acmepay]\nclient_secret = {OTHER_SECRET}\n"),
    );
    let (code, report) = scan_json(dir.path(), &["."]);
    assert_eq!(code, 1, "{report}");
    let found = paths(&report);
    assert!(found.contains(&"pay.ini".to_owned()), "{report}");
    assert!(!found.iter().any(|p| p.starts_with("vendor/")), "{report}");
    assert!(
        report["summary"]["suppressed"]["config"].is_null(),
        "{report}"
    );
}

/// A finding inside an archive is under the archive's path.
#[test]
fn excluding_an_archive_covers_its_members() {
    use std::io::Write as _;
    let dir = repo();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("conf/vipps.env", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(format!("VIPPS_CLIENT_SECRET={SECRET}\n").as_bytes())
        .unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    write(dir.path(), "dist/bundle.zip", "");
    std::fs::write(dir.path().join("dist/bundle.zip"), bytes).unwrap();
    let (code, report) = scan_json(dir.path(), &["."]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(paths(&report), ["dist/bundle.zip!/conf/vipps.env"]);
    write(
        dir.path(),
        ".vippsleaks.toml",
        "exclude = [\"dist/*.zip\"]\n",
    );
    let (code, report) = scan_json(dir.path(), &["."]);
    assert_eq!(code, 0, "{report}");
}
