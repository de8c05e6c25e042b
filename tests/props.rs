//! Properties over arbitrary bytes and mutated synthetic files: decoding, extraction, detection
//! and archive scanning never panic, and every position they report lies inside the input.

// A failed unwrap in a test is a failed test: the crate-wide ban is for shipped code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod synthetic;

use std::io::Write;
use std::sync::OnceLock;

use proptest::prelude::*;
use vippsleaks::decode::{self, Text};
use vippsleaks::detect::{Detector, extract};
use vippsleaks::finding::Finding;
use vippsleaks::scan::{self, Limits, ScanOutcome};

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(Detector::builtin)
}

/// Small files in the formats the detector reads, each with a synthetic key in it. `{s}` is a
/// client_secret, `{h}` a subscription key, `{g}` a client_id, `{b}` a Basic credential.
const SEEDS: &[&str] = &[
    "VIPPS_CLIENT_SECRET={s}\nVIPPS_SUBSCRIPTION_KEY={h}\nVIPPS_CLIENT_ID={g}\n",
    "{\"Vipps\": {\"ClientId\": \"{g}\", \"ClientSecret\": \"{s}\", \"SubscriptionKey\": \"{h}\"}}",
    "vipps:\n  client-id: {g}\n  client-secret: >-\n    {s}\n  subscription-key: '{h}'\n",
    "<appSettings>\n  <add key=\"Vipps:ClientSecret\" value=\"{s}\" />\n</appSettings>\r\n",
    "curl https://apitest.vipps.no/accesstoken/get -H 'client_id: {g}' -H 'client_secret: {s}' \\\n  -H 'Ocp-Apim-Subscription-Key: {h}'",
    "POST https://api.vipps.no/miami/v1/token\nAuthorization: Basic {b}\n",
    "INSERT INTO vipps_keys (client_id, client_secret) VALUES ('{g}', '{s}');",
    "const vippsConfig = { clientSecret: \"{s}\", msn: \"712345\" }; // vipps",
];

fn seed_file(seed: &str, raw: &[u8; 20], hex: &[u8; 16]) -> Vec<u8> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let s = b64.encode(raw);
    let h: String = hex.iter().map(|b| format!("{b:02x}")).collect();
    let g = format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    );
    let b = b64.encode(format!("{g}:{s}"));
    seed.replace("{s}", &s)
        .replace("{h}", &h)
        .replace("{g}", &g)
        .replace("{b}", &b)
        .into_bytes()
}

/// An edit to a file: overwrite, insert or delete bytes at a position.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let awkward = prop_oneof![
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\x00".to_vec()),
        Just(b"\xFF\xFE".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just("é€😀".as_bytes().to_vec()),
        Just(b"\"'=:%\\".to_vec()),
        Just(b"==".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<usize>(), awkward).prop_map(|(i, v)| Edit::Insert(i, v)),
        (any::<usize>(), 1usize..6).prop_map(|(i, n)| Edit::Delete(i, n)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len();
        match e {
            Edit::Set(i, b) if len > 0 => bytes[i % len] = *b,
            Edit::Insert(i, v) => {
                let at = i % (len + 1);
                bytes.splice(at..at, v.iter().copied());
            }
            Edit::Delete(i, n) if len > 0 => {
                let at = i % len;
                bytes.drain(at..(at + n).min(len));
            }
            _ => {}
        }
    }
    bytes
}

/// Every line and column of a finding is inside the text it came from.
fn check_finding(text: &Text, f: &Finding) -> Result<(), TestCaseError> {
    let lines = text.line_count();
    prop_assert!((1..=lines).contains(&f.line), "line {} of {lines}", f.line);
    let chars = text.line(f.line - 1).chars().count();
    prop_assert!(
        f.column >= 1 && f.column <= chars + 1,
        "column {} of {chars}",
        f.column
    );
    prop_assert!(
        f.end_column > f.column && f.end_column <= chars + 2,
        "end {} of {chars}",
        f.end_column
    );
    for r in &f.related {
        prop_assert!((1..=lines).contains(&r.line));
        let chars = text.line(r.line - 1).chars().count();
        prop_assert!(r.column >= 1 && r.column <= chars + 1 && r.end_column > r.column);
    }
    for (n, _) in &f.context_lines {
        prop_assert!((1..=lines).contains(n));
    }
    prop_assert!(!f.raw.is_empty());
    prop_assert!(!f.redacted.contains(&f.raw), "redacted form holds the key");
    Ok(())
}

fn check_text(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Some(text) = decode::decode(bytes) else {
        prop_assert!(decode::is_binary(bytes));
        return Ok(());
    };
    prop_assert!(text.line_count() >= 1);
    for l in 0..text.line_count() {
        let line = text.line(l);
        prop_assert!(!line.contains('\n'));
        prop_assert!(text.line_start(l) <= text.text.len());
    }
    for a in extract::assignments(&text) {
        prop_assert!(
            a.start <= a.end && a.end <= text.text.len(),
            "{}..{} of {}",
            a.start,
            a.end,
            text.text.len()
        );
        prop_assert!(text.text.is_char_boundary(a.start) && text.text.is_char_boundary(a.end));
        prop_assert!(a.line < text.line_count());
        prop_assert_eq!(text.line_of(a.start), a.line);
    }
    for f in detector().detect("mutated.env", &text) {
        check_finding(&text, &f)?;
    }
    Ok(())
}

fn zip_of(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (i, (name, data)) in members.iter().enumerate() {
        let method = if i % 2 == 0 {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        w.start_file(
            name.as_str(),
            zip::write::SimpleFileOptions::default().compression_method(method),
        )
        .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn check_outcome(o: &ScanOutcome) -> Result<(), TestCaseError> {
    check_outcome_of(o, "input.zip")
}

fn check_outcome_of(o: &ScanOutcome, name: &str) -> Result<(), TestCaseError> {
    for f in &o.findings {
        prop_assert!(f.line >= 1 && f.column >= 1 && f.end_column > f.column);
        // a mutation that breaks the archive's header leaves a file that is scanned as text
        prop_assert!(
            f.path == name || f.path.starts_with(&format!("{name}!/")),
            "{}",
            f.path
        );
    }
    for e in &o.errors {
        prop_assert!(e.path.starts_with(name), "{}", e.path);
    }
    prop_assert!(o.summary.files_unreadable as usize <= o.errors.len());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check_text(&bytes)?;
    }

    #[test]
    fn arbitrary_text(text in "(?s).{0,600}") {
        check_text(text.as_bytes())?;
    }

    #[test]
    fn mutated_files_with_keys(
        seed in 0..SEEDS.len(),
        raw in any::<[u8; 20]>(),
        hex in any::<[u8; 16]>(),
        edits in proptest::collection::vec(edit(), 0..12),
    ) {
        let bytes = apply(seed_file(SEEDS[seed], &raw, &hex), &edits);
        check_text(&bytes)?;
    }

    #[test]
    fn mutated_utf16_files(
        seed in 0..SEEDS.len(),
        raw in any::<[u8; 20]>(),
        hex in any::<[u8; 16]>(),
        bom in any::<bool>(),
        edits in proptest::collection::vec(edit(), 0..6),
    ) {
        let text = String::from_utf8_lossy(&seed_file(SEEDS[seed], &raw, &hex)).into_owned();
        let mut bytes = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        check_text(&apply(bytes, &edits))?;
    }

    #[test]
    fn mutated_archives(
        seeds in proptest::collection::vec((0..SEEDS.len(), any::<[u8; 20]>(), any::<[u8; 16]>()), 1..4),
        nested in any::<bool>(),
        edits in proptest::collection::vec(edit(), 0..8),
    ) {
        let mut members: Vec<(String, Vec<u8>)> = seeds
            .iter()
            .enumerate()
            .map(|(i, (s, raw, hex))| (format!("conf/vipps{i}.env"), seed_file(SEEDS[*s], raw, hex)))
            .collect();
        if nested {
            let inner = zip_of(&members);
            members.push(("lib/inner.jar".to_owned(), inner));
        }
        let zip = zip_of(&members);
        let limits = Limits::default();
        let intact = scan::scan_bytes(detector(), "input.zip", &zip, &limits, 0);
        check_outcome(&intact)?;
        prop_assert!(intact.errors.is_empty(), "{:?}", intact.errors);
        let damaged = apply(zip, &edits);
        check_outcome(&scan::scan_bytes(detector(), "input.zip", &damaged, &limits, 0))?;
    }

    #[test]
    fn mutated_compressed_tars(
        seeds in proptest::collection::vec((0..SEEDS.len(), any::<[u8; 20]>(), any::<[u8; 16]>()), 1..4),
        edits in proptest::collection::vec(edit(), 0..8),
    ) {
        let members: Vec<(String, Vec<u8>)> = seeds
            .iter()
            .enumerate()
            .map(|(i, (s, raw, hex))| (format!("conf/vipps{i}.env"), seed_file(SEEDS[*s], raw, hex)))
            .collect();
        let tgz = synthetic::gzip(&synthetic::tar_of(&members));
        let limits = Limits::default();
        let intact = scan::scan_bytes(detector(), "input.tgz", &tgz, &limits, 0);
        check_outcome_of(&intact, "input.tgz")?;
        prop_assert!(intact.errors.is_empty(), "{:?}", intact.errors);
        // the archive finds what its members find as files of their own (a seed whose random
        // bytes make a fake key finds nothing either way)
        let mut inside: Vec<String> = intact.findings.iter().map(|f| f.fingerprint.clone()).collect();
        let mut alone: Vec<String> = members
            .iter()
            .flat_map(|(name, data)| scan::scan_bytes(detector(), name, data, &limits, 1).findings)
            .map(|f| f.fingerprint)
            .collect();
        inside.sort();
        alone.sort();
        prop_assert_eq!(inside, alone);
        let damaged = apply(tgz, &edits);
        check_outcome_of(&scan::scan_bytes(detector(), "input.tgz", &damaged, &limits, 0), "input.tgz")?;
    }

    #[test]
    fn arbitrary_bytes_named_as_compressed_archives(mut bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        bytes.splice(0..0, [0x1f, 0x8b, 8, 0]);
        check_outcome_of(&scan::scan_bytes(detector(), "input.tgz", &bytes, &Limits::default(), 0), "input.tgz")?;
    }

    #[test]
    fn arbitrary_bytes_named_as_archives(mut bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        bytes.splice(0..0, *b"PK\x03\x04");
        check_outcome(&scan::scan_bytes(detector(), "input.zip", &bytes, &Limits::default(), 0))?;
    }
}

/// The seeds hold keys the detector finds, so the mutations start from files with findings.
#[test]
fn every_seed_has_findings() {
    let raw = [
        31, 7, 250, 99, 140, 3, 66, 201, 18, 77, 129, 5, 240, 56, 90, 13, 171, 38, 222, 104,
    ];
    let hex = [
        19, 211, 70, 142, 8, 183, 95, 36, 250, 61, 129, 4, 177, 88, 203, 46,
    ];
    for (i, seed) in SEEDS.iter().enumerate() {
        let text = decode::decode(&seed_file(seed, &raw, &hex)).unwrap();
        assert!(
            !detector().detect("seed.env", &text).is_empty(),
            "seed {i}: {seed}"
        );
    }
}
