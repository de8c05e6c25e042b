//! Bad input never hangs, panics, loses a file or stops the scan: each test runs the binary on a
//! temporary directory built to be awkward.

// A failed unwrap in a test is a failed test: the crate-wide ban is for shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod synthetic;

use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use synthetic::*;

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, contents).unwrap();
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn fifos_sockets_and_devices_are_skipped_unread() {
    let dir = tempdir();
    let secret = client_secret();
    write(dir.path(), "app.env", secret_line(&secret));
    // Opening a FIFO with no writer for reading blocks forever; /dev/zero never ends.
    mkfifo(&dir.path().join("pipe"));
    let _socket = std::os::unix::net::UnixListener::bind(dir.path().join("socket")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero")).unwrap();
    std::os::unix::fs::symlink("/dev/null", dir.path().join("null")).unwrap();

    let (out, json) = scan_json(dir.path(), &["-L", "."]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fingerprints(&json), [fingerprint(&secret)]);
    assert_eq!(summary(&json, "files_scanned"), 1);
    assert_eq!(
        summary(&json, "files_skipped"),
        4,
        "pipe, socket, zero and null"
    );
    assert_eq!(summary(&json, "files_unreadable"), 0);

    // Named on the command line, they are skipped the same way.
    let (out, json) = scan_json(dir.path(), &["pipe", "socket", "/dev/zero"]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(summary(&json, "files_skipped"), 3);
    assert_eq!(summary(&json, "files_scanned"), 0);
}

#[test]
fn symlink_loops_and_broken_links_are_reported_once_and_the_scan_goes_on() {
    let dir = tempdir();
    let secret = client_secret();
    write(dir.path(), "sub/app.env", secret_line(&secret));
    let link = |target: &str, name: &str| {
        std::os::unix::fs::symlink(target, dir.path().join(name)).unwrap()
    };
    link("loop-b", "loop-a");
    link("loop-a", "loop-b");
    link("nowhere", "broken");
    link("..", "sub/up");
    link("app.env", "sub/again.env");

    // Not following links: each file once, nothing to report.
    let (out, json) = scan_json(dir.path(), &["."]);
    assert_eq!(code(&out), 1);
    assert_eq!(paths(&json), ["sub/app.env"]);
    assert!(json["errors"].as_array().unwrap().is_empty(), "{json}");

    // Following them: the loop through `sub/up` ends, bad links are named, the key is found
    // through both names it has.
    let (out, json) = scan_json(dir.path(), &["-L", "."]);
    assert_eq!(code(&out), 1);
    let mut found = paths(&json);
    found.sort();
    assert_eq!(found, ["sub/again.env", "sub/app.env"]);
    let errors: Vec<&str> = json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    for name in ["broken", "loop-a", "loop-b", "sub/up"] {
        assert!(errors.contains(&name), "{name} not in {errors:?}");
    }
    assert_eq!(summary(&json, "files_unreadable") as usize, errors.len());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken:"), "{stderr}");
}

#[test]
fn a_file_that_cannot_be_read_is_reported_and_the_exit_code_says_so() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let locked_secret = client_secret();
    write(dir.path(), "locked.env", secret_line(&locked_secret));
    write(dir.path(), "clean.txt", "nothing to see\n");
    let locked = dir.path().join("locked.env");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads files whatever their mode: assert what this OS actually does.
    let readable = fs::File::open(&locked).is_ok();

    let (out, json) = scan_json(dir.path(), &["."]);
    if readable {
        assert_eq!(code(&out), 1);
        assert_eq!(fingerprints(&json), [fingerprint(&locked_secret)]);
        assert_eq!(summary(&json, "files_unreadable"), 0);
    } else {
        assert_eq!(code(&out), 2, "unreadable and no findings: exit 2");
        assert_eq!(summary(&json, "files_unreadable"), 1);
        assert_eq!(summary(&json, "files_scanned"), 1);
        assert_eq!(json["errors"][0]["path"], "locked.env");
        assert!(String::from_utf8_lossy(&out.stderr).contains("locked.env"));

        // Findings outrank unreadable files.
        write(dir.path(), "open.env", secret_line(&client_secret()));
        let (out, _) = scan_json(dir.path(), &["."]);
        assert_eq!(code(&out), 1);
    }
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o600)).unwrap();
}

#[test]
fn a_file_gone_before_it_is_read_is_counted_as_unreadable() {
    let dir = tempdir();
    let detector = vippsleaks::detect::Detector::builtin();
    let gone = dir.path().join("gone.env");
    let outcome =
        vippsleaks::scan::scan_file(&detector, &gone, &vippsleaks::scan::Limits::default());
    assert_eq!(outcome.summary.files_unreadable, 1);
    assert_eq!(outcome.summary.files_scanned, 0);
    assert!(outcome.errors[0].path.ends_with("gone.env"));
}

#[test]
fn files_vanishing_during_a_scan_are_either_scanned_or_reported() {
    let dir = tempdir();
    let n = 3000;
    for i in 0..n {
        write(
            dir.path(),
            &format!("d{}/f{i}.txt", i % 30),
            "key = nothing secret here\n",
        );
    }
    let child = Command::new(env!("CARGO_BIN_EXE_vippsleaks"))
        .current_dir(dir.path())
        .args(["scan", ".", "-f", "json", "-j", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for i in (0..n).rev().step_by(2) {
        let _ = fs::remove_file(dir.path().join(format!("d{}/f{i}.txt", i % 30)));
    }
    let out = child.wait_with_output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let code = code(&out);
    let unreadable = summary(&json, "files_unreadable");
    assert!(code == 0 || code == 2, "exit {code}");
    assert_eq!(code == 2, unreadable > 0);
    assert!(summary(&json, "files_scanned") + unreadable <= n as u64);
    assert!(
        summary(&json, "files_scanned") >= n as u64 / 2,
        "the files never removed are all scanned"
    );
    assert_eq!(json["errors"].as_array().unwrap().len() as u64, unreadable);
    for e in json["errors"].as_array().unwrap() {
        assert!(e["path"].as_str().unwrap().ends_with(".txt"), "{e}");
    }
}

#[test]
fn names_that_are_not_utf8_are_shown_escaped_and_round_trip() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempdir();
    let name = std::ffi::OsStr::from_bytes(b"caf\xE9 \xFF.env");
    let secret = client_secret();
    fs::write(dir.path().join(name), secret_line(&secret)).unwrap();

    let (out, json) = scan_json(dir.path(), &["."]);
    assert_eq!(code(&out), 1);
    let shown = json["findings"][0]["path"].as_str().unwrap();
    assert_eq!(shown, "caf\\xE9 \\xFF.env");
    assert_eq!(unescape(shown), name.as_bytes());

    let text = bin()
        .current_dir(dir.path())
        .args(["scan", "."])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("--> caf\\xE9 \\xFF.env:1:21"));
}

/// Undoes the `\xHH` escapes of a shown path.
fn unescape(shown: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = shown.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'\\' && tail.len() >= 3 && tail[0] == b'x' {
            out.push(u8::from_str_radix(std::str::from_utf8(&tail[1..3]).unwrap(), 16).unwrap());
            rest = &tail[3..];
        } else {
            out.push(b);
            rest = tail;
        }
    }
    out
}

#[test]
fn sarif_uris_percent_encode_the_bytes_of_names_that_are_not_utf8() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempdir();
    let name = std::ffi::OsStr::from_bytes(b"caf\xE9 x.env");
    fs::write(dir.path().join(name), secret_line(&client_secret())).unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["scan", ".", "-f", "sarif"])
        .output()
        .unwrap();
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let uri = &sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"];
    assert_eq!(uri, "caf%E9%20x.env");
}

#[test]
fn invalid_utf8_and_nul_bytes_do_not_hide_keys() {
    let dir = tempdir();
    let a = client_secret();
    let b = client_secret();
    let c = client_secret();
    // Two bytes that are not UTF-8 before the key: each is one replacement character.
    let mut bad = b"x\x80\xFF VIPPS_CLIENT_SECRET=".to_vec();
    bad.extend(a.as_bytes());
    bad.push(b'\n');
    write(dir.path(), "bad.env", bad);
    // A NUL past the sniffed head does not make a text file binary.
    let mut late_nul = "# config\n".repeat(1200).into_bytes();
    late_nul.extend(b"\x00\n");
    late_nul.extend(secret_line(&b).as_bytes());
    write(dir.path(), "late.env", late_nul);
    // A NUL at the start does: the file is skipped and counted.
    let mut binary = b"\x00\x01\x02\x03".to_vec();
    binary.extend(secret_line(&c).as_bytes());
    write(dir.path(), "binary.env", binary);

    let (out, json) = scan_json(dir.path(), &["."]);
    assert_eq!(code(&out), 1);
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{json}");
    assert_eq!(findings[0]["path"], "bad.env");
    assert_eq!(findings[0]["fingerprint"], fingerprint(&a).as_str());
    assert_eq!(
        (findings[0]["line"].as_u64(), findings[0]["column"].as_u64()),
        (Some(1), Some(25))
    );
    assert_eq!(findings[1]["path"], "late.env");
    assert_eq!(findings[1]["line"], 1202);
    assert_eq!(summary(&json, "files_skipped"), 1);
}

#[test]
fn keys_in_and_at_the_end_of_a_line_longer_than_a_read_window_are_found() {
    let dir = tempdir();
    let (first, last) = (client_secret(), client_secret());
    let chunk = "var a=1,b=[2,3];function f(x){return x+1}é";
    let mut line = String::with_capacity(vippsleaks::scan::WINDOW + (256 << 10));
    let push_until = |line: &mut String, len: usize| {
        while line.len() < len {
            line.push_str(chunk);
        }
    };
    // The first key sits just past the middle of the overlap of the first two windows, where
    // the second window takes over; the second ends the line, and the file.
    push_until(
        &mut line,
        vippsleaks::scan::WINDOW + vippsleaks::scan::OVERLAP / 2 + 100,
    );
    let mut columns = Vec::new();
    for (secret, more) in [(&first, 200 << 10), (&last, 0)] {
        line.push_str(" VIPPS_CLIENT_SECRET=");
        columns.push(line.chars().count() as u64 + 1);
        line.push_str(secret);
        line.push(' ');
        let target = line.len() + more;
        push_until(&mut line, target);
    }
    write(dir.path(), "bundle.min.js", &line);
    drop(line);

    let (out, json) = scan_json(dir.path(), &["."]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        fingerprints(&json),
        [fingerprint(&first), fingerprint(&last)]
    );
    let findings = json["findings"].as_array().unwrap();
    let at: Vec<(u64, u64)> = findings
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap()))
        .collect();
    assert_eq!(at, [(1, columns[0]), (1, columns[1])]);
}

#[test]
fn empty_files_are_scanned_and_clean() {
    let dir = tempdir();
    write(dir.path(), "empty.env", "");
    write(dir.path(), "empty.zip", "");
    let (out, json) = scan_json(dir.path(), &["."]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(summary(&json, "files_scanned"), 2);
    assert!(json["errors"].as_array().unwrap().is_empty());
}

#[test]
fn a_key_400_directories_deep_is_found() {
    let dir = tempdir();
    let deep = "d/".repeat(400);
    let secret = client_secret();
    write(dir.path(), &format!("{deep}app.env"), secret_line(&secret));
    let (out, json) = scan_json(dir.path(), &["."]);
    assert_eq!(code(&out), 1);
    assert_eq!(paths(&json), [format!("{deep}app.env")]);
}

#[test]
fn twenty_thousand_small_files_are_each_scanned_once() {
    let dir = tempdir();
    let n = 20_000;
    for i in 0..n {
        write(
            dir.path(),
            &format!("p{}/q{}/f{i}.cfg", i % 20, i % 7),
            format!("setting_{i} = {i}\n"),
        );
    }
    let secret = client_secret();
    write(dir.path(), "p3/app.env", secret_line(&secret));
    let (out, json) = scan_json(dir.path(), &["."]);
    assert_eq!(code(&out), 1);
    assert_eq!(summary(&json, "files_scanned"), n + 1);
    assert_eq!(fingerprints(&json), [fingerprint(&secret)]);
}

fn zip_of(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn a_corrupt_member_is_reported_and_the_rest_of_the_archive_is_scanned() {
    let dir = tempdir();
    let (a, b) = (client_secret(), client_secret());
    let filler: String = (0..400)
        .map(|i| format!("line {i} of the middle member\n"))
        .collect();
    let mut zip = zip_of(&[
        ("a.env", secret_line(&a).into_bytes()),
        ("middle.txt", filler.into_bytes()),
        ("c.env", secret_line(&b).into_bytes()),
    ]);
    // Damage the middle member's compressed data, well away from its headers.
    let at = find(&zip, b"middle.txt").unwrap() + 40;
    for byte in &mut zip[at..at + 30] {
        *byte ^= 0x5A;
    }
    write(dir.path(), "bundle.zip", &zip);
    // A truncated archive cannot be opened at all: reported, and the scan goes on.
    let whole = zip_of(&[("x.env", secret_line(&client_secret()).into_bytes())]);
    write(dir.path(), "cut.zip", &whole[..whole.len() / 2]);

    let (out, json) = scan_json(dir.path(), &["."]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(paths(&json), ["bundle.zip!/a.env", "bundle.zip!/c.env"]);
    assert_eq!(fingerprints(&json), [fingerprint(&a), fingerprint(&b)]);
    assert_eq!(error_paths(&json), ["bundle.zip!/middle.txt", "cut.zip"]);
    assert_eq!(summary(&json, "files_unreadable"), 2);
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn zip_bombs_and_deep_nesting_stay_within_the_limits() {
    let dir = tempdir();
    let limits = vippsleaks::scan::Limits::default();
    // A member that unpacks to far more than `archive_ratio` times its size.
    let zeros = vec![0u8; 64 << 20];
    let near = client_secret();
    let bomb = zip_of(&[
        ("zeros.bin", zeros),
        ("next.env", secret_line(&near).into_bytes()),
    ]);
    assert!(bomb.len() < 1 << 20);
    write(dir.path(), "bomb.zip", &bomb);

    // Archives in archives, each level with a key of its own.
    let levels = limits.archive_depth + 3;
    let secrets: Vec<String> = (0..levels).map(|_| client_secret()).collect();
    let mut inner: Option<Vec<u8>> = None;
    for level in (0..levels).rev() {
        let mut members = vec![(
            format!("k{level}.env"),
            secret_line(&secrets[level]).into_bytes(),
        )];
        if let Some(z) = inner.take() {
            members.push((format!("l{}.zip", level + 1), z));
        }
        let refs: Vec<(&str, Vec<u8>)> = members
            .iter()
            .map(|(n, d)| (n.as_str(), d.clone()))
            .collect();
        inner = Some(zip_of(&refs));
    }
    write(dir.path(), "nested.zip", inner.unwrap());

    let (out, json) = scan_json(dir.path(), &["."]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    let found = fingerprints(&json);
    assert!(found.contains(&fingerprint(&near)));
    for (level, secret) in secrets.iter().enumerate() {
        assert_eq!(
            found.contains(&fingerprint(secret)),
            level < limits.archive_depth,
            "level {level}"
        );
    }
    assert_eq!(found.len(), 1 + limits.archive_depth);
    let errors = json["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["path"] == "bomb.zip!/zeros.bin"),
        "{errors:?}"
    );
    assert!(
        summary(&json, "files_skipped") >= 2,
        "the bomb and the deepest archive"
    );
}

#[test]
fn tar_and_gzip_members_are_scanned_within_the_limits() {
    let dir = tempdir();
    let (a, b, c, d) = (
        client_secret(),
        client_secret(),
        client_secret(),
        client_secret(),
    );
    let tar = tar_of(&[
        ("conf/a.env", secret_line(&a).into_bytes()),
        ("README.md", b"nothing here\n".to_vec()),
    ]);
    write(dir.path(), "plain.tar", &tar);
    write(
        dir.path(),
        "bundle.tgz",
        gzip(&tar_of(&[("./app/b.env", secret_line(&b).into_bytes())])),
    );
    write(dir.path(), "c.env.gz", gzip(secret_line(&c).as_bytes()));
    // a gzip stream that unpacks to far more than `archive_ratio` times its size
    write(dir.path(), "bomb.gz", gzip(&vec![0u8; 64 << 20]));
    // a truncated stream: reported, and the scan goes on
    let whole = gzip(secret_line(&d).as_bytes());
    write(dir.path(), "cut.env.gz", &whole[..whole.len() / 2]);

    let (out, json) = scan_json(dir.path(), &["."]);
    assert_eq!(code(&out), 1, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        paths(&json),
        [
            "bundle.tgz!/app/b.env",
            "c.env.gz!/c.env",
            "plain.tar!/conf/a.env"
        ]
    );
    let found = fingerprints(&json);
    for secret in [&a, &b, &c] {
        assert!(found.contains(&fingerprint(secret)));
    }
    assert_eq!(error_paths(&json), ["bomb.gz", "cut.env.gz"]);
    assert_eq!(summary(&json, "files_unreadable"), 1);
}

#[test]
fn a_report_that_cannot_be_written_fails_and_leaves_nothing_behind() {
    let dir = tempdir();
    write(dir.path(), "src/app.env", secret_line(&client_secret()));
    fs::create_dir(dir.path().join("taken")).unwrap();
    write(dir.path(), "plain-file", "x");
    for target in ["missing/dir/report.json", "plain-file/report.json", "taken"] {
        let before = listing(dir.path());
        let out = bin()
            .current_dir(dir.path())
            .args(["scan", "src", "-f", "json", "-o", target])
            .output()
            .unwrap();
        assert_eq!(code(&out), 2, "{target}");
        assert!(out.stdout.is_empty(), "{target}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("cannot write"),
            "{target}"
        );
        assert_eq!(
            listing(dir.path()),
            before,
            "{target}: a file was left behind"
        );
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut all: Vec<String> = walk(dir)
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect();
    all.sort();
    all
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn a_report_to_a_fifo_is_written_into_it_not_over_it() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempdir();
    write(dir.path(), "src/app.env", secret_line(&client_secret()));
    let fifo = dir.path().join("report.fifo");
    mkfifo(&fifo);
    let (tx, rx) = std::sync::mpsc::channel();
    let reader_path = fifo.clone();
    std::thread::spawn(move || {
        let mut s = String::new();
        if let Ok(mut f) = fs::File::open(reader_path) {
            let _ = f.read_to_string(&mut s);
        }
        let _ = tx.send(s);
    });
    let out = bin()
        .current_dir(dir.path())
        .args(["scan", "src", "-f", "json", "-o"])
        .arg(&fifo)
        .output()
        .unwrap();
    assert!(
        fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(),
        "the FIFO was replaced"
    );
    assert_eq!(code(&out), 1);
    let got = rx.recv_timeout(std::time::Duration::from_secs(20)).unwrap();
    assert!(got.contains("\"findings\""));
}

fn closed_stdout_run(dir: &Path) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vippsleaks"))
        .current_dir(dir)
        .args(["scan", "."])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reading end goes away before anything is written, as with `| head -0`.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap().code().unwrap_or(-1), stderr)
}

fn dir_with_findings() -> tempfile::TempDir {
    let dir = tempdir();
    for i in 0..50 {
        write(
            dir.path(),
            &format!("f{i}.env"),
            secret_line(&client_secret()),
        );
    }
    dir
}

#[test]
fn a_closed_stdout_ends_the_scan_quietly() {
    let dir = dir_with_findings();
    let (code, stderr) = closed_stdout_run(dir.path());
    assert!(stderr.is_empty(), "{stderr}");
    assert_ne!(code, 101, "panicked");
}

#[test]
fn a_closed_stdout_keeps_the_exit_status_of_the_scan() {
    let dir = dir_with_findings();
    let (code, _) = closed_stdout_run(dir.path());
    assert_eq!(code, 1);
}
