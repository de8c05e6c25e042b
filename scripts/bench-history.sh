#!/usr/bin/env bash
# bench-history.sh [COMMITS] [FILES]
#
# Builds a synthetic repository with COMMITS commits (default 3000) over FILES files (default 300),
# a few synthetic keys added and removed along the way, then times, side by side, three runs each of
#   vippsleaks git REPO
#   git log -p --all | vippsleaks scan -
# and prints the median wall time of each, with blobs and bytes scanned per second.
# Not a test: the numbers depend on the machine. Needs python3 and a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
COMMITS=${1:-3000}
FILES=${2:-300}

cargo build --release --quiet
bin=$PWD/target/release/vippsleaks
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repo=$work/repo
git init -q "$repo"

python3 - "$COMMITS" "$FILES" <<'PY' | git -C "$repo" fast-import --quiet
import base64, random, secrets, sys
commits, files = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(7)
words = "payment order capture refund amount currency merchant session token callback status".split()
def line(n):
    a, b = rnd.choice(words), rnd.choice(words)
    return f"def {a}_{b}_{n}(x):\n    return x.get('{b}', {rnd.randint(0, 99999)})"
contents = {}
def body(i, version):
    # an edit changes a few lines of the previous version, as real commits do
    lines = contents.get(i) or [line(n) for n in range(rnd.randint(60, 160))]
    for _ in range(rnd.randint(1, 4)):
        lines[rnd.randrange(len(lines))] = line(rnd.randint(0, 999))
    if rnd.random() < 0.3:
        lines.append(line(len(lines)))
    contents[i] = lines
    return f"# module {i}, version {version}\n" + "\n".join(lines) + "\n"
paths = [f"src/pkg{i % 17}/mod{i}.py" for i in range(files)]
versions = [0] * files
out = sys.stdout
t = 1_600_000_000
for c in range(commits):
    t += 3600
    out.write(f"commit refs/heads/main\ncommitter Bench <bench@example.invalid> {t} +0000\n")
    msg = f"change {c}\n"
    out.write(f"data {len(msg)}\n{msg}")
    touched = range(files) if c == 0 else rnd.sample(range(files), rnd.randint(1, 3))
    for i in touched:
        versions[i] += 1
        data = body(i, versions[i])
        if c % 250 == 125:  # a synthetic key, removed again by later edits of the file
            secret = base64.b64encode(secrets.token_bytes(16)).decode()
            data += f"VIPPS_CLIENT_SECRET = '{secret}'  # apitest.vipps.no\n"
        out.write(f"M 100644 inline {paths[i]}\ndata {len(data.encode())}\n{data}")
    out.write("\n")
PY
git -C "$repo" gc -q
commits=$(git -C "$repo" rev-list --all | wc -l)
size=$(du -sh "$repo/.git" | cut -f1)
echo "repository: $commits commits, $FILES files, .git $size"

now() { date +%s.%N; }
: > "$work/git.times"
: > "$work/logp.times"
for run in 1 2 3; do
  s=$(now); "$bin" git "$repo" --format json --output "$work/git.json" || true; e=$(now)
  echo "$s $e" >> "$work/git.times"
  s=$(now); git -C "$repo" log -p --all | "$bin" scan - --format json --output "$work/logp.json" || true; e=$(now)
  echo "$s $e" >> "$work/logp.times"
done
python3 - "$work" <<'PY'
import json, statistics, sys
work = sys.argv[1]
def med(name):
    runs = [line.split() for line in open(f"{work}/{name}.times")]
    return statistics.median(float(e) - float(s) for s, e in runs)
g, l = med("git"), med("logp")
sg = json.load(open(f"{work}/git.json"))
sl = json.load(open(f"{work}/logp.json"))
blobs, nbytes = sg["summary"]["files_scanned"], sg["summary"]["bytes_scanned"]
print(f"vippsleaks git:                 {g:7.2f} s  {blobs} blobs, {nbytes/1e6:.1f} MB"
      f"  ({blobs/g:,.0f} blobs/s, {nbytes/1e6/g:.1f} MB/s)  {len(sg['findings'])} findings")
print(f"git log -p --all | scan -:      {l:7.2f} s  {sl['summary']['bytes_scanned']/1e6:.1f} MB of patches"
      f"  ({sl['summary']['bytes_scanned']/1e6/l:.1f} MB/s)  {len(sl['findings'])} findings")
print(f"speed-up: {l/g:.1f}x (median of 3 runs each)")
PY
