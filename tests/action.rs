//! The outputs the GitHub Action is built on: workflow commands (`--format github`), the job
//! summary (`--format markdown`) and SARIF's `primaryLocationLineHash`, run through the real
//! binary on synthetic keys written to temporary directories.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;
use vippsleaks::finding::fingerprint;
use vippsleaks::report::sarif::line_hash::line_hashes;

// Synthetic keys made up for these tests; they belong to no sales unit.
const CLIENT_ID: &str = "bc57c2ef-981e-4db2-9e70-b2ce2abc0e41";
const CLIENT_SECRET: &str = "VG01D/M7DwQVFV4Vmp0L/n0OGNw=";
const SUBSCRIPTION_KEY: &str = "52a9d5dcb8901ada0f2513ebc176260e";
const MSN: &str = "7204518";

/// A test sales unit's keys in a .env file: the secret on line 3, the subscription key on 4.
fn env_file(secret_suffix: &str) -> String {
    format!(
        "# Vipps MobilePay test sales unit (apitest.vipps.no)\n\
         VIPPS_CLIENT_ID={CLIENT_ID}\n\
         VIPPS_CLIENT_SECRET={CLIENT_SECRET}{secret_suffix}\n\
         VIPPS_SUBSCRIPTION_KEY_PRIMARY={SUBSCRIPTION_KEY}\n\
         VIPPS_MSN={MSN}\n"
    )
}

fn put(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// Runs `vippsleaks ARGS` in `dir`; returns the exit code and standard output.
fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("vippsleaks")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_no_secret(&stdout);
    assert_no_secret(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap(), stdout)
}

/// Neither key, nor any part of it longer than the shown prefix, may be printed.
fn assert_no_secret(output: &str) {
    for secret in [CLIENT_SECRET, SUBSCRIPTION_KEY] {
        for window in secret.as_bytes().windows(6) {
            let part = std::str::from_utf8(window).unwrap();
            assert!(
                !output.contains(part),
                "{part:?} of a secret is in:\n{output}"
            );
        }
    }
}

fn secret_annotation(file: &str) -> String {
    format!(
        "::error file={file},line=3,col=21,endColumn=49,title=Vipps MobilePay client_secret (vipps-client-secret)::\
         Leaked Vipps MobilePay client_secret (test) of sales unit MSN {MSN} in `VIPPS_CLIENT_SECRET` [VG01…(28 chars)]. \
         Regenerate the client_secret in the merchant portal, then update every integration. \
         Fingerprint {}.",
        fingerprint("vipps-client-secret", CLIENT_SECRET)
    )
}

fn subscription_annotation(file: &str) -> String {
    format!(
        "::error file={file},line=4,col=32,endColumn=64,title=Vipps MobilePay primary subscription key (vipps-subscription-key)::\
         Leaked Vipps MobilePay primary subscription key (test) of sales unit MSN {MSN} in `VIPPS_SUBSCRIPTION_KEY_PRIMARY` [52a9…(32 chars)]. \
         Switch to the other subscription key, then regenerate this one in the merchant portal. \
         Fingerprint {}.",
        fingerprint("vipps-subscription-key", SUBSCRIPTION_KEY)
    )
}

#[test]
fn github_annotations_are_exact_and_escape_percent_and_comma_in_the_path() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), "a,b%c/.env", &env_file(""));
    let (code, out) = run(dir.path(), &["scan", ".", "--format", "github"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            secret_annotation("a%2Cb%25c/.env"),
            subscription_annotation("a%2Cb%25c/.env")
        ]
    );
}

// A colon or a line break in a file name would otherwise end the property or the command.
#[cfg(unix)]
#[test]
fn github_annotations_escape_colon_and_newline_in_the_path() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), "de:ploy\nold/.env", &env_file(""));
    let (code, out) = run(dir.path(), &["scan", ".", "--format", "github"]);
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert_eq!(
        out.lines().next().unwrap(),
        secret_annotation("de%3Aploy%0Aold/.env")
    );
}

#[test]
fn github_output_is_empty_when_clean() {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "appsettings.json",
        "{ \"Vipps\": { \"ClientSecret\": \"<client_secret>\" } }\n",
    );
    let (code, out) = run(dir.path(), &["scan", ".", "--format", "github"]);
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn suppressed_findings_are_notices_when_shown() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), ".env", &env_file(" # vippsleaks:allow"));
    let (code, out) = run(
        dir.path(),
        &["scan", ".", "--format", "github", "--no-suppress"],
    );
    assert_eq!(code, 1, "the subscription key is not suppressed");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with("::notice file=.env,line=3,"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("Suppressed (inline)."), "{}", lines[0]);
    assert_eq!(lines[1], subscription_annotation(".env"));
}

#[test]
fn archive_members_are_annotated_on_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    write_zip(&dir.path().join("bundle.zip"), "conf/.env", &env_file(""));
    let (code, out) = run(dir.path(), &["scan", ".", "--format", "github"]);
    assert_eq!(code, 1);
    let first = out.lines().next().unwrap();
    assert!(
        first.starts_with(
            "::error file=bundle.zip,title=Vipps MobilePay client_secret (vipps-client-secret)::"
        ),
        "{first}"
    );
    assert!(
        first.contains("(archive member conf/.env, line 3)"),
        "{first}"
    );
}

fn write_zip(path: &Path, member: &str, content: &str) {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file(member, options).unwrap();
    zip.write_all(content.as_bytes()).unwrap();
    zip.finish().unwrap();
}

#[test]
fn markdown_summary_is_a_table_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), "a`b/.env", &env_file(""));
    let (code, out) = run(dir.path(), &["scan", ".", "--format", "markdown"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..6],
        [
            "## vippsleaks",
            "",
            "| Path | Line | Key | Environment | What to do |",
            "| --- | ---: | --- | --- | --- |",
            "| ``a`b/.env`` | 3 | Vipps MobilePay client_secret | test | Regenerate the client_secret in the merchant portal, then update every integration |",
            "| ``a`b/.env`` | 4 | Vipps MobilePay primary subscription key | test | Switch to the other subscription key, then regenerate this one in the merchant portal |",
        ]
    );
    assert_eq!(lines[6], "");
    assert!(
        lines[7].starts_with("vippsleaks: scanned 1 file (") && lines[7].ends_with(": 2 findings"),
        "{}",
        lines[7]
    );
    assert_eq!(lines.len(), 8, "{out}");
    assert!(!out.contains("VG01"), "not even the redacted prefix");
}

// A pipe would end the cell and a line break the row.
#[cfg(unix)]
#[test]
fn markdown_escapes_pipe_and_newline_in_the_path() {
    let dir = tempfile::tempdir().unwrap();
    put(dir.path(), "x|y\nz/.env", &env_file(""));
    let (_, out) = run(dir.path(), &["scan", ".", "--format", "markdown"]);
    assert!(
        out.lines()
            .any(|l| l.starts_with("| `x\\|y z/.env` | 3 | Vipps MobilePay client_secret |")),
        "{out}"
    );
}

#[test]
fn markdown_says_clean_and_counts_what_was_suppressed() {
    let dir = tempfile::tempdir().unwrap();
    let content = format!(
        "# Vipps MobilePay (apitest.vipps.no)\nVIPPS_MSN={MSN}\nVIPPS_CLIENT_SECRET={CLIENT_SECRET} # vippsleaks:allow\n"
    );
    put(dir.path(), ".env", &content);
    let (code, out) = run(dir.path(), &["scan", ".", "--format", "markdown"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..5],
        [
            "## vippsleaks",
            "",
            "No leaked Vipps MobilePay keys found.",
            "",
            "Suppressed on purpose: 1 (inline 1)",
        ]
    );
}

fn sarif(dir: &Path, args: &[&str]) -> Value {
    let (code, out) = run(dir, args);
    assert_eq!(code, 1);
    serde_json::from_str(&out).unwrap()
}

#[test]
fn sarif_carries_githubs_line_hash_of_the_finding_line() {
    let dir = tempfile::tempdir().unwrap();
    let content = env_file("");
    put(dir.path(), "deploy/.env", &content);
    // The root is given as an absolute path, so the file is read from there, not from the
    // working directory.
    let root = dir.path().to_str().unwrap();
    let doc = sarif(Path::new("/"), &["scan", root, "--format", "sarif"]);
    let expected = line_hashes(content.as_bytes());
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for (result, line) in results.iter().zip([3, 4]) {
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], "deploy/.env");
        assert_eq!(location["region"]["startLine"], line);
        assert_eq!(
            result["partialFingerprints"]["primaryLocationLineHash"],
            expected[line - 1].as_str()
        );
    }
    assert_ne!(expected[2], expected[3]);
}

#[test]
fn sarif_places_archive_members_on_the_archive_and_hashes_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("bundle.zip");
    write_zip(&archive, "conf/.env", &env_file(""));
    let doc = sarif(dir.path(), &["scan", ".", "--format", "sarif"]);
    let result = &doc["runs"][0]["results"][0];
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "bundle.zip");
    assert_eq!(location["region"]["startLine"], 1);
    assert_eq!(result["properties"]["archiveMember"], "conf/.env");
    assert_eq!(result["properties"]["memberLine"], 3);
    let bytes = std::fs::read(&archive).unwrap();
    assert_eq!(
        result["partialFingerprints"]["primaryLocationLineHash"],
        line_hashes(&bytes)[0].as_str()
    );
}

#[test]
fn sarif_from_standard_input_has_no_line_hash() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("vippsleaks")
        .unwrap()
        .current_dir(dir.path())
        .args(["scan", "-", "--format", "sarif"])
        .write_stdin(env_file(""))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = &doc["runs"][0]["results"][0];
    assert!(result["partialFingerprints"]["vippsleaks/v1"].is_string());
    assert!(result["partialFingerprints"]["primaryLocationLineHash"].is_null());
}
