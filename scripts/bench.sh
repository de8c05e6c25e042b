#!/usr/bin/env bash
# Times whole-process scans by vippsleaks against ripgrep reading the same files.
#
#   scripts/bench.sh [RUNS]          # median of RUNS (default 3) for each corpus
#   BIG=1 scripts/bench.sh           # also a 2 GiB file, with peak memory (needs 2 GiB of disk)
#   CORPUS=/path scripts/bench.sh    # keep the generated corpus there (default: a temp dir)
#
# ripgrep searches for a literal that never matches (`rg -uuu -c -F`), so both tools read every
# byte of every file and report nothing: the ratio is the price of detection over reading.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${1:-3}
command -v rg >/dev/null || { echo "ripgrep (rg) is needed: apt-get install ripgrep" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed: apt-get install time" >&2; exit 1; }
cargo build --release --quiet
bin=$PWD/target/release/vippsleaks

corpus=${CORPUS:-$(mktemp -d)}
[ -n "${CORPUS:-}" ] || trap 'rm -rf "$corpus"' EXIT
mkdir -p "$corpus"

python3 - "$corpus" "${BIG:-0}" <<'EOF'
import base64, os, random, sys

root, big = sys.argv[1], sys.argv[2] == "1"
rng = random.Random(20260101)

def hexs(n):
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))

def write(path, text):
    path = os.path.join(root, path)
    if os.path.exists(path):
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)

# 100,000 small source files, a few KiB each; about one in ten mentions a key.
snippets = [
    "fn handler_{i}(req: &Request) -> Response {{\n    let n = req.len() * {i};\n    Response::ok(n)\n}}\n",
    "export function view{i}(props) {{\n  return <div className=\"item-{i}\">{{props.title}}</div>;\n}}\n",
    "def task_{i}(ctx):\n    timeout = ctx.config.get('timeout', {i})\n    return run(ctx, timeout)\n",
    "<item id=\"{i}\" name=\"entry {i}\" enabled=\"true\" />\n",
]
keyed = "api_key = os.environ['SERVICE_KEY_{i}']\nrequest_id = '{h}'\n"
for i in range(100_000):
    body = "".join(rng.choice(snippets).format(i=i * 10 + j) for j in range(rng.randint(10, 40)))
    if i % 10 == 0:
        body += keyed.format(i=i, h=hexs(32))
    write(f"small/d{i % 97}/e{i % 13}/f{i}.src", body)

# One 128 MiB minified line: over the 64 MiB window, so it is read in windows.
line = "".join(
    f"function a{n}(e,t){{var r=e.key||\"k{n}\";return t.apiKey=r,fetch(\"/api/\"+e.id,{{headers:t}})}};"
    for n in range(2000)
)
path = os.path.join(root, "minified/bundle.min.js")
if not os.path.exists(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        written = 0
        while written < 128 << 20:
            f.write(line)
            written += len(line)

# A 64 MiB access log full of headers with 32-hex values.
path = os.path.join(root, "logs/access.log")
if not os.path.exists(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    block = "".join(
        f"2026-01-01T10:00:{k % 60:02}Z POST /epayment/v1/payments Ocp-Apim-Subscription-Key: {hexs(32)} "
        f"X-Request-Id: {hexs(8)}-{hexs(4)}-{hexs(4)}-{hexs(4)}-{hexs(12)} Content-Type: application/json\n"
        for k in range(5000)
    )
    with open(path, "w") as f:
        written = 0
        while written < 64 << 20:
            f.write(block)
            written += len(block)

if big:
    path = os.path.join(root, "big/huge.txt")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        block = "".join(f"line {k}: nothing to see, value={hexs(16)}\n" for k in range(20000))
        with open(path, "w") as f:
            written = 0
            while written < 2 << 30:
                f.write(block)
                written += len(block)
            # a key at the very end, to be found past 32 windows
            secret = base64.b64encode(bytes(rng.getrandbits(8) for _ in range(20))).decode()
            f.write(f"VIPPS_CLIENT_SECRET={secret}\n")
EOF

sync
# Seconds of one run of "$@", output discarded.
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || true
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

median() {
  sort -g | awk '{a[NR] = $1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f", m}'
}

time_it() {
  local i
  for ((i = 0; i < runs; i++)); do seconds "$@"; done | median
}

never=zq9xNeverMatchesThisLiteral7
printf '%-22s %10s %14s %12s %8s\n' corpus size vippsleaks_s ripgrep_s ratio
for dir in small minified logs ${BIG:+big}; do
  [ -d "$corpus/$dir" ] || continue
  size=$(du -sh "$corpus/$dir" | cut -f1)
  # one untimed run of each warms the page cache
  seconds "$bin" scan --max-file-size 4000000000 "$corpus/$dir" >/dev/null
  seconds rg -uuu -c -F "$never" "$corpus/$dir" >/dev/null
  v=$(time_it "$bin" scan --max-file-size 4000000000 "$corpus/$dir")
  r=$(time_it rg -uuu -c -F "$never" "$corpus/$dir")
  printf '%-22s %10s %14s %12s %8s\n' "$dir" "$size" "$v" "$r" "$(echo "$v / $r" | bc -l | xargs printf '%.1fx')"
done

echo
echo "peak memory (maximum resident set size), two threads, JSON output:"
for dir in minified logs ${BIG:+big}; do
  [ -d "$corpus/$dir" ] || continue
  rss=$({ /usr/bin/time -v "$bin" scan -j 2 -f json --max-file-size 4000000000 "$corpus/$dir" 2>&1 >/dev/null || true; } |
    awk -F': ' '/Maximum resident set size/ {print $2}')
  printf '  %-10s %8d MiB\n' "$dir" $((rss / 1024))
done
