//! Detector throughput on synthetic inputs, in bytes per second.
//!
//! `cargo bench --bench detect` (sizes are scaled so one run takes a few minutes on two cores;
//! `scripts/bench.sh` times whole scans against ripgrep).

use std::sync::OnceLock;

use divan::counter::BytesCount;
use vippsleaks::decode::{self, Text};
use vippsleaks::detect::Detector;
use vippsleaks::scan::{self, Limits};

fn main() {
    divan::main();
}

fn detector() -> &'static Detector {
    static D: OnceLock<Detector> = OnceLock::new();
    D.get_or_init(Detector::builtin)
}

/// xorshift64*: reproducible filler, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(n);
        s
    }

    fn guid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

/// Ordinary source code: functions, string literals, config lookups, the odd key-ish name.
fn plain_code(size: usize) -> String {
    let mut rng = Rng(0x5EED_0001);
    let mut s = String::with_capacity(size + 400);
    let mut i = 0u64;
    while s.len() < size {
        i += 1;
        s.push_str(&format!(
            "pub fn handler_{i}(req: &Request) -> Result<Response> {{\n    \
             let timeout = config.get(\"http.timeout_{i}\").unwrap_or(30);\n    \
             let api_key = std::env::var(\"SERVICE_API_KEY\")?;\n    \
             log::debug!(\"request {{}} took {{}} ms\", req.id, {});\n    \
             Ok(Response::new(200, \"{}\"))\n}}\n\n",
            rng.next() % 1000,
            rng.hex(12)
        ));
    }
    s
}

/// One minified line: a JavaScript bundle without a single newline.
fn minified_line(size: usize) -> String {
    let mut rng = Rng(0x5EED_0002);
    let mut s = String::with_capacity(size + 200);
    while s.len() < size {
        let n = rng.next() % 10_000;
        s.push_str(&format!(
            "function a{n}(e,t){{var r=e.key||\"k{n}\";return t.apiKey=r,fetch(\"/api/v1/items/\"+e.id,{{headers:t}})}};"
        ));
    }
    s
}

/// An HTTP access log with request headers: many name-value pairs, many 32-hex values.
fn header_log(size: usize) -> String {
    let mut rng = Rng(0x5EED_0003);
    let mut s = String::with_capacity(size + 400);
    while s.len() < size {
        s.push_str(&format!(
            "2026-01-{:02}T10:{:02}:{:02}Z POST /epayment/v1/payments Host: api.example.com \
             Ocp-Apim-Subscription-Key: {} X-Request-Id: {} Authorization: Bearer eyJ{} \
             Content-Type: application/json\n",
            rng.next() % 28 + 1,
            rng.next() % 60,
            rng.next() % 60,
            rng.hex(32),
            rng.guid(),
            rng.hex(40)
        ));
    }
    s
}

/// `n` GUIDs, one per line, bound to a name, in a file that mentions keys (so the prefilter
/// lets it through).
fn guids(n: usize) -> String {
    let mut rng = Rng(0x5EED_0004);
    let mut s = String::from("# subscription key inventory\n");
    for i in 0..n {
        s.push_str(&format!("client_id_{i} = {}\n", rng.guid()));
    }
    s
}

/// `n` 32-hex strings, one per line, bound to a name.
fn hex32s(n: usize) -> String {
    let mut rng = Rng(0x5EED_0005);
    let mut s = String::from("# primary key inventory\n");
    for i in 0..n {
        s.push_str(&format!("digest_{i}: {}\n", rng.hex(32)));
    }
    s
}

/// `n` Base64 values, one per line and none named, under one secret-like name (a certificate
/// bundle or a list of digests in a file about Vipps): every line is a candidate value.
fn base64_lines(n: usize) -> String {
    let mut rng = Rng(0x5EED_0006);
    let mut s = String::from("vipps_client_secret:\n");
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for _ in 0..n {
        for _ in 0..27 {
            s.push(alphabet[(rng.next() % 64) as usize] as char);
        }
        s.push_str("=\n");
    }
    s
}

/// A log of calls to the Vipps API, each with its host and a subscription key: every line is a
/// finding, so this measures what a finding costs (its environment, pairing and context).
fn vipps_call_log(lines: usize) -> String {
    let mut rng = Rng(0x5EED_0007);
    let mut s = String::new();
    for i in 0..lines {
        let host = if i % 2 == 0 { "api" } else { "apitest" };
        s.push_str(&format!(
            "POST https://{host}.vipps.no/epayment/v1/payments Ocp-Apim-Subscription-Key: {} \
             Merchant-Serial-Number: 223344 X-Request-Id: {}\n",
            rng.hex(32),
            rng.guid()
        ));
    }
    s
}

fn text(s: String) -> Text {
    decode::decode(s.as_bytes()).unwrap_or_else(|| unreachable!("synthetic input is text"))
}

fn run_detect(bencher: divan::Bencher, make: fn() -> String) {
    let input = text(make());
    let len = input.text.len();
    bencher
        .counter(BytesCount::new(len))
        .bench(|| detector().detect("input.txt", divan::black_box(&input)));
}

#[divan::bench(sample_count = 10, sample_size = 1)]
fn plain_code_8mb(bencher: divan::Bencher) {
    run_detect(bencher, || plain_code(8 << 20));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn minified_line_32mb(bencher: divan::Bencher) {
    run_detect(bencher, || minified_line(32 << 20));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn header_log_16mb(bencher: divan::Bencher) {
    run_detect(bencher, || header_log(16 << 20));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn million_guids(bencher: divan::Bencher) {
    run_detect(bencher, || guids(1_000_000));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn million_hex32(bencher: divan::Bencher) {
    run_detect(bencher, || hex32s(1_000_000));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn million_base64_lines(bencher: divan::Bencher) {
    run_detect(bencher, || base64_lines(1_000_000));
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn vipps_call_log_50k_findings(bencher: divan::Bencher) {
    run_detect(bencher, || vipps_call_log(50_000));
}

/// Decoding and detection together, as a scan does it for one file.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn scan_bytes_plain_code_8mb(bencher: divan::Bencher) {
    let bytes = plain_code(8 << 20).into_bytes();
    bencher.counter(BytesCount::new(bytes.len())).bench(|| {
        scan::scan_bytes(
            detector(),
            "input.rs",
            divan::black_box(&bytes),
            &Limits::default(),
            0,
        )
    });
}
