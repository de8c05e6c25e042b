//! No output shows a raw key unless `--show-secrets` asks for it: random keys are planted in
//! several forms, and every format, every file the tool writes and everything on standard error
//! is searched for them.

// A failed unwrap in a test is a failed test: the crate-wide ban is for shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod synthetic;

use std::fs;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use synthetic::*;

/// A planted key: the secret, and how it is spelled in the file when that differs.
struct Planted {
    secret: String,
    spelled: Option<String>,
}

fn guid() -> String {
    let h: String = random_bytes::<16>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn plant(dir: &Path) -> Vec<Planted> {
    let mut planted = Vec::new();
    let env_secret = client_secret();
    fs::write(dir.join(".env"), secret_line(&env_secret)).unwrap();
    planted.push(Planted {
        secret: env_secret,
        spelled: None,
    });

    let (json_secret, sub_key) = (client_secret(), subscription_key());
    let settings = format!(
        "{{\n  \"Vipps\": {{\n    \"BaseUrl\": \"https://api.vipps.no\",\n    \"ClientId\": \"{}\",\n    \
         \"ClientSecret\": \"{json_secret}\",\n    \"SubscriptionKey\": \"{sub_key}\",\n    \
         \"MerchantSerialNumber\": \"{}\"\n  }}\n}}\n",
        guid(),
        700_000 + random_bytes::<2>()[0] as u32 * 97
    );
    fs::write(dir.join("appsettings.json"), settings).unwrap();
    planted.push(Planted {
        secret: json_secret,
        spelled: None,
    });
    planted.push(Planted {
        secret: sub_key,
        spelled: None,
    });

    let basic_secret = client_secret();
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{basic_secret}", guid()));
    fs::write(
        dir.join("token.http"),
        format!("POST https://api.vipps.no/miami/v1/token\nAuthorization: Basic {basic}\n"),
    )
    .unwrap();
    planted.push(Planted {
        secret: basic_secret,
        spelled: Some(basic),
    });

    let zipped_secret = client_secret();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("config/vipps.env", zip::write::SimpleFileOptions::default())
        .unwrap();
    w.write_all(secret_line(&zipped_secret).as_bytes()).unwrap();
    let zip = w.finish().unwrap().into_inner();
    fs::write(dir.join("bundle.jar"), &zip).unwrap();
    // The same archive cut short: its error message must not quote what it holds either.
    fs::write(dir.join("cut.zip"), &zip[..zip.len() - 30]).unwrap();
    planted.push(Planted {
        secret: zipped_secret,
        spelled: None,
    });
    planted
}

fn leaks<'a>(haystack: &[u8], planted: &'a [Planted]) -> Vec<&'a str> {
    let hay = String::from_utf8_lossy(haystack);
    planted
        .iter()
        .flat_map(|p| std::iter::once(p.secret.as_str()).chain(p.spelled.as_deref()))
        .filter(|s| hay.contains(s))
        .collect()
}

/// Scans planted keys in `format`, to standard output and to a file, and asserts that no
/// output, no message and no file written holds a raw key.
fn assert_no_raw_key(format: &str) {
    let dir = tempfile::tempdir().unwrap();
    let scanned = dir.path().join("repo");
    fs::create_dir(&scanned).unwrap();
    let planted = plant(&scanned);
    let out_dir = dir.path().join("out");
    fs::create_dir(&out_dir).unwrap();

    let stdout = bin()
        .current_dir(dir.path())
        .args(["scan", "repo", "-f", format])
        .output()
        .unwrap();
    assert_eq!(
        code(&stdout),
        1,
        "{format}: {}",
        String::from_utf8_lossy(&stdout.stderr)
    );
    assert!(!stdout.stdout.is_empty());
    assert_eq!(
        leaks(&stdout.stdout, &planted),
        Vec::<&str>::new(),
        "{format} on stdout"
    );
    assert_eq!(
        leaks(&stdout.stderr, &planted),
        Vec::<&str>::new(),
        "{format}: stderr"
    );
    assert!(
        String::from_utf8_lossy(&stdout.stderr).contains("cut.zip"),
        "an error message was searched"
    );

    let file = out_dir.join("report");
    let written = bin()
        .current_dir(dir.path())
        .args(["scan", "repo", "-f", format, "-o"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(code(&written), 1);
    assert_eq!(
        leaks(&written.stdout, &planted),
        Vec::<&str>::new(),
        "{format} -o: stdout"
    );
    assert_eq!(
        leaks(&written.stderr, &planted),
        Vec::<&str>::new(),
        "{format} -o: stderr"
    );
    // Everything the tool wrote: the report, and nothing else beside it or in the scanned tree.
    let beside: Vec<_> = fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(beside, std::slice::from_ref(&file));
    assert_eq!(fs::read_dir(&scanned).unwrap().count(), 5);
    assert_eq!(
        leaks(&fs::read(&file).unwrap(), &planted),
        Vec::<&str>::new(),
        "{format} -o: the file"
    );

    // Every planted key was found: the searches above were of real reports.
    let (_, json) = scan_json(dir.path(), &["repo"]);
    let found = redacted(&json);
    for p in &planted {
        assert!(
            found.contains(&vippsleaks::finding::redact(&p.secret)),
            "{} not found in {found:?}",
            p.secret
        );
    }
}

#[test]
fn text_shows_no_raw_key() {
    assert_no_raw_key("text");
}

#[test]
fn json_shows_no_raw_key() {
    assert_no_raw_key("json");
}

#[test]
fn sarif_shows_no_raw_key() {
    assert_no_raw_key("sarif");
}

#[test]
fn github_shows_no_raw_key() {
    assert_no_raw_key("github");
}

#[test]
fn markdown_shows_no_raw_key() {
    assert_no_raw_key("markdown");
}

#[test]
fn show_secrets_puts_the_raw_keys_in_json() {
    let dir = tempfile::tempdir().unwrap();
    let planted = plant(dir.path());
    let out = bin()
        .current_dir(dir.path())
        .args(["scan", ".", "-f", "json", "--show-secrets"])
        .output()
        .unwrap();
    assert_eq!(code(&out), 1);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secrets: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["secret"].as_str())
        .collect();
    for p in &planted {
        assert!(
            secrets.contains(&p.secret.as_str()),
            "{} not shown in {secrets:?}",
            p.secret
        );
    }
}

/// Crates that speak to the network (HTTP clients, TLS, DNS). None is in the
/// dependency tree, so a scan cannot send what it reads anywhere.
const NETWORK_CRATES: &[&str] = &[
    "reqwest",
    "hyper",
    "ureq",
    "curl",
    "curl-sys",
    "isahc",
    "attohttpc",
    "surf",
    "h2",
    "h3",
    "quinn",
    "rustls",
    "native-tls",
    "openssl",
    "openssl-sys",
    "tokio-rustls",
    "trust-dns-resolver",
    "hickory-resolver",
];

#[test]
fn no_crate_in_the_lockfile_speaks_to_the_network() {
    let lock =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock")).unwrap();
    let packages: Vec<&str> = lock
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .collect();
    assert!(
        packages.contains(&"vippsleaks") && packages.contains(&"zip"),
        "{packages:?}"
    );
    let network: Vec<&&str> = packages
        .iter()
        .filter(|p| NETWORK_CRATES.contains(p))
        .collect();
    assert_eq!(network, Vec::<&&str>::new());
}
