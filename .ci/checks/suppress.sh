#!/usr/bin/env bash
# Baselines on the shared dev corpus: a baseline written from a scan silences every finding of
# that scan, and still does after every text file has moved down three lines and been
# reindented (fingerprints do not depend on position). Also checks that this repository scans
# clean under its own .vippsleaks.toml.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -d ../shared/corpus/dev ]; then
  echo "suppress.sh: ../shared/corpus/dev is absent; skipping the baseline check on the corpus"
  exit 0
fi

bin=${VIPPSLEAKS:-target/release/vippsleaks}
if [ -z "${VIPPSLEAKS:-}" ]; then
  cargo build --release --quiet
fi

"$bin" scan . --quiet >/dev/null || { echo "suppress.sh: this repository does not scan clean" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R ../shared/corpus/dev "$work/corpus"
mkdir "$work/corpus/.git"   # keeps configuration lookup inside the copy

count() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["findings"]), r["summary"]["suppressed"].get("baseline", 0))' "$1"; }

set +e
"$bin" scan "$work/corpus" --format json --output "$work/before.json" --write-baseline "$work/baseline.json"
rc=$?
set -e
[ "$rc" -eq 0 ] || { echo "suppress.sh: writing a baseline exited $rc, expected 0" >&2; exit 1; }
read -r shown baselined < <(count "$work/before.json")
[ "$shown" -eq 0 ] && [ "$baselined" -gt 0 ] || { echo "suppress.sh: baseline run showed $shown findings, baselined $baselined" >&2; exit 1; }

# move every text file's lines down by three and indent them
python3 - "$work/corpus" <<'PY'
import os, sys
root = sys.argv[1]
for d, dirs, files in os.walk(root):
    dirs[:] = [x for x in dirs if x != ".git"]
    for name in files:
        p = os.path.join(d, name)
        with open(p, "rb") as f:
            data = f.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if "\0" in text:
            continue
        with open(p, "w", encoding="utf-8", newline="") as f:
            f.write("\n\n\n" + "\n".join("  " + l if l.strip() else l for l in text.split("\n")))
PY

set +e
"$bin" scan "$work/corpus" --format json --output "$work/after.json" --baseline "$work/baseline.json"
rc=$?
set -e
read -r shown after_baselined < <(count "$work/after.json")
if [ "$rc" -ne 0 ] || [ "$shown" -ne 0 ]; then
  echo "suppress.sh: after moving keys, $shown findings were reported again (exit $rc):" >&2
  python3 -c 'import json,sys; [print("  ", f["path"], f["line"], f["rule_id"]) for f in json.load(open(sys.argv[1]))["findings"]]' "$work/after.json" >&2
  exit 1
fi
echo "suppress.sh: $baselined findings baselined; after moving and reindenting every text file, $after_baselined still found and all silenced by the baseline"
