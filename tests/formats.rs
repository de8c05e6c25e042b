//! Detection across format families: one snapshot per family of what is found where, and no
//! finding at all in the negative files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use vippsleaks::detect::Detector;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// `file:line:col rule kind key_name env [encoding] (related)` for every finding in a family.
fn family(name: &str) -> String {
    let detector = Detector::builtin();
    let root = fixtures();
    let mut out = String::new();
    for path in files(&root.join(name)) {
        let shown = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let bytes = std::fs::read(&path).unwrap();
        let text = vippsleaks::decode::decode(&bytes).expect("fixture is text");
        for f in detector.detect(&shown, &text) {
            let related: Vec<String> = f
                .related
                .iter()
                .map(|r| format!("{:?}@{}", r.kind, r.line))
                .collect();
            writeln!(
                out,
                "{}:{}:{} {} {:?} `{}` {} {} [{}]",
                f.path,
                f.line,
                f.column,
                f.rule_id,
                f.kind,
                f.key_name,
                f.environment.as_str(),
                f.encoding.as_deref().unwrap_or("plain"),
                related.join(" ")
            )
            .unwrap();
            assert!(
                !out.contains(&f.raw),
                "raw secret in the summary of {shown}"
            );
        }
    }
    out
}

#[test]
fn env_files_shell_and_utf16() {
    insta::assert_snapshot!(family("env"));
}

#[test]
fn config_formats() {
    insta::assert_snapshot!(family("config"));
}

#[test]
fn ci_workflows() {
    insta::assert_snapshot!(family("ci"));
}

#[test]
fn kubernetes_secrets() {
    insta::assert_snapshot!(family("k8s"));
}

#[test]
fn http_clients_captures_and_logs() {
    insta::assert_snapshot!(family("http"));
}

#[test]
fn source_code() {
    insta::assert_snapshot!(family("code"));
}

#[test]
fn sql_dumps() {
    insta::assert_snapshot!(family("dumps"));
}

#[test]
fn tables_and_plists() {
    insta::assert_snapshot!(family("tables"));
}

#[test]
fn other_apis_and_legacy_mobilepay() {
    insta::assert_snapshot!(family("other"));
}

#[test]
fn negatives_are_silent() {
    assert_eq!(family("negative"), "");
}

/// Every file of a positive family holds at least one reported key, so a format that stops
/// being understood shows up as a failure and not only as a snapshot change.
#[test]
fn every_positive_fixture_has_a_finding() {
    let detector = Detector::builtin();
    let root = fixtures();
    for path in files(&root) {
        if path.starts_with(root.join("negative")) {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let text = vippsleaks::decode::decode(&bytes).unwrap();
        // a file that is one value is named by its path; any other names its keys itself
        let shown = if text.text.trim().contains(char::is_whitespace) {
            "fixture".to_owned()
        } else {
            path.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        };
        assert!(
            !detector.detect(&shown, &text).is_empty(),
            "nothing found in {}",
            path.display()
        );
    }
}

#[test]
fn keys_in_a_zip_are_reported_as_members() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("bundle.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("deploy/.env", options).unwrap();
    zip.write_all(b"VIPPS_CLIENT_SECRET=saKq5dBjFcKTaJYQws09flx3T+U=\n")
        .unwrap();
    zip.finish().unwrap();
    let bytes = std::fs::read(&zip_path).unwrap();
    let limits = vippsleaks::scan::Limits::default();
    let outcome =
        vippsleaks::scan::scan_bytes(&Detector::builtin(), "bundle.zip", &bytes, &limits, 0);
    let paths: Vec<(&str, usize)> = outcome
        .findings
        .iter()
        .map(|f| (f.path.as_str(), f.line))
        .collect();
    assert_eq!(paths, [("bundle.zip!/deploy/.env", 1)]);
}

/// Long lines are tokenised only around key words: a key in the middle of a long minified
/// line, with Vipps far from it on both sides, is still found at its own column.
#[test]
fn a_key_inside_a_long_minified_line_is_found() {
    let filler =
        "n.prototype.on=function(t){return this.q.push(t),this};e.preventDefault();".repeat(800);
    let key = "Mt4Zq8Lw1Vx6Rb3Nc7Hy2Kp5Jd9Gs0F=";
    let line = format!(
        "var c={{baseUrl:\"https://api.vipps.no\"}};{filler}var Vp={{clientSecret:\"{key}\"}};{filler}\n"
    );
    assert!(line.len() > vippsleaks::detect::extract::LONG_LINE);
    let text = vippsleaks::decode::decode(line.as_bytes()).unwrap();
    let findings = Detector::builtin().detect("dist/app.js", &text);
    let column = line.find(key).unwrap() + 1;
    let found: Vec<(usize, &str)> = findings
        .iter()
        .map(|f| (f.column, f.rule_id.as_str()))
        .collect();
    assert_eq!(found, [(column, "vipps-client-secret")]);
}
