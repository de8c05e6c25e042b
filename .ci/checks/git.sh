#!/usr/bin/env bash
# Git history and staged scans: the pre-commit hook through the real pre-commit framework, and
# (when ../shared is beside the project) the shared git fixture scored for history and staged.
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v pre-commit >/dev/null || python3 -m pip install --quiet --disable-pip-version-check pre-commit
cargo test --test precommit -- --ignored

if [ ! -f ../shared/corpus/make_git_fixture.sh ]; then
  echo "git.sh: ../shared is absent; skipping the shared git fixture checks"
  exit 0
fi

cargo build --release
bin=$PWD/target/release/vippsleaks
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash ../shared/corpus/make_git_fixture.sh "$work/fx" >/dev/null

expect_findings() {  # expect_findings CMD...: the scan must exit 1 (findings)
  set +e
  "$@"
  rc=$?
  set -e
  if [ "$rc" -ne 1 ]; then
    echo "git.sh: expected exit 1 (findings) from: $*; got $rc" >&2
    exit 1
  fi
}

expect_findings "$bin" git "$work/fx/repo" --format sarif --output "$work/history.sarif"
python3 ../shared/corpus/score.py --labels "$work/fx/labels.jsonl" --root "$work/fx/repo" \
  --findings "$work/history.sarif" --scope head,history,branch --min-recall 1.0 --max-fp 0 --quiet

(cd "$work/fx/repo" && expect_findings "$bin" staged --format sarif --output "$work/staged.sarif")
python3 ../shared/corpus/score.py --labels "$work/fx/labels.jsonl" --root "$work/fx/repo" \
  --findings "$work/staged.sarif" --scope staged --min-recall 1.0 --max-fp 0 --quiet

python3 ../shared/tools/validate_sarif.py --quiet "$work/history.sarif" "$work/staged.sarif"
echo "git.sh: history and staged scans of the shared git fixture: recall 1.0, no false positives"
