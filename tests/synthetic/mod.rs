//! Random, obviously synthetic keys and small helpers for the tests that run the binary.
#![allow(dead_code)]

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::Path;
use std::process::Output;

use base64::Engine;
use vippsleaks::detect::shape::{self, Shape};

/// Random bytes: every `RandomState` is seeded afresh, which is all the randomness these tests need.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    for chunk in out.chunks_mut(8) {
        let mut h = RandomState::new().build_hasher();
        h.write_u8(0);
        let word = h.finish().to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
    out
}

/// A random client_secret in the shape every real one has (28 Base64 characters).
pub fn client_secret() -> String {
    loop {
        let s = base64::engine::general_purpose::STANDARD.encode(random_bytes::<20>());
        if !shape::is_fake(&s, Shape::Base64Secret) {
            return s;
        }
    }
}

/// A random subscription key (32 lowercase hex).
pub fn subscription_key() -> String {
    loop {
        let s: String = random_bytes::<16>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if !shape::is_fake(&s, Shape::Hex32) {
            return s;
        }
    }
}

/// A `.env` line that is reported on its own.
pub fn secret_line(secret: &str) -> String {
    format!("VIPPS_CLIENT_SECRET={secret}\n")
}

pub fn bin() -> assert_cmd::Command {
    let mut cmd =
        assert_cmd::Command::cargo_bin("vippsleaks").unwrap_or_else(|e| panic!("binary: {e}"));
    cmd.timeout(std::time::Duration::from_secs(120))
        .env("NO_COLOR", "1");
    cmd
}

/// Runs `vippsleaks scan ARGS... -f json` in `dir` and parses the report.
pub fn scan_json(dir: &Path, args: &[&str]) -> (Output, serde_json::Value) {
    let out = bin()
        .current_dir(dir)
        .arg("scan")
        .args(args)
        .args(["-f", "json"])
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (out, json)
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub fn summary(json: &serde_json::Value, field: &str) -> u64 {
    json["summary"][field]
        .as_u64()
        .unwrap_or_else(|| panic!("summary.{field} in {json}"))
}

/// The redacted forms of the findings (`abcd…(28 chars)`), to match them to planted keys.
pub fn redacted(json: &serde_json::Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["redacted"].as_str().unwrap().to_owned())
        .collect()
}

pub fn paths(json: &serde_json::Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect()
}

/// The paths of the errors a JSON report lists.
pub fn error_paths(json: &serde_json::Value) -> Vec<String> {
    json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect()
}

/// A tar archive of `members` (name, content).
pub fn tar_of<N: AsRef<str>>(members: &[(N, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        b.append_data(&mut header, name.as_ref(), data.as_slice())
            .unwrap();
    }
    b.into_inner().unwrap()
}

/// `data` gzip-compressed.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    w.write_all(data).unwrap();
    w.finish().unwrap()
}

pub fn fingerprint(secret: &str) -> String {
    vippsleaks::finding::fingerprint("vipps-client-secret", secret)
}

pub fn fingerprints(json: &serde_json::Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_owned())
        .collect()
}
