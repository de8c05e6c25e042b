#!/usr/bin/env bash
# shellcheck disable=SC2016 # the backticks in the expected lines are Markdown, not commands
# The GitHub Action, run locally the way the runner runs it: action.yml is validated, then its
# steps run on a workspace with a leaked key (the action must fail, write a valid SARIF file and
# a summary, and print no secret) and on a clean one (it must succeed). The steps that only
# matter on pull requests (the commit range, changes to suppression) run on a git fixture.
set -euo pipefail
cd "$(dirname "$0")/../.."

shared=../shared
if [ ! -d "$shared/tools" ]; then
  echo "action check skipped: $shared is not beside the project"
  exit 0
fi

for tool in git jq python3; do
  command -v "$tool" > /dev/null || { echo "action check: $tool is needed" >&2; exit 1; }
done

cargo build --release --quiet
export PATH="$PWD/target/release:$PATH"

bash "$shared/tools/validate_action.sh" action.yml

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
  echo "action check: $*" >&2
  exit 1
}

# Fresh synthetic keys on every run.
read -r client_id secret sub_key msn < <(python3 -c '
import base64, secrets, uuid
print(uuid.uuid4(), base64.b64encode(secrets.token_bytes(20)).decode(), secrets.token_hex(16),
      secrets.randbelow(900000) + 100000)')

no_secret() {
  for f in "$@"; do
    if grep -F -q -e "$secret" -e "$sub_key" "$f"; then
      fail "a raw secret is in $f"
    fi
  done
}

# --- a leaked key -----------------------------------------------------------------------------
leak=$work/leak
mkdir -p "$leak"
cat > "$leak/appsettings.json" <<EOF
{
  "Vipps": {
    "BaseUrl": "https://apitest.vipps.no",
    "ClientId": "$client_id",
    "ClientSecret": "$secret",
    "SubscriptionKey": "$sub_key",
    "MerchantSerialNumber": "$msn"
  }
}
EOF
set +e
python3 "$shared/tools/run_composite_action.py" -w "$leak" -i sarif-file="$work/leak.sarif" \
  --json-out "$work/leak.json" . > "$work/leak.log" 2>&1
rc=$?
set -e
no_secret "$work/leak.log" "$work/leak.sarif" "$work/leak.md"
[ "$rc" -eq 1 ] || { cat "$work/leak.log"; fail "leak: the action exited $rc, not 1"; }
[ "$(jq -r .conclusion "$work/leak.json")" = failure ] || fail "leak: the action did not conclude failure"
[ "$(jq -r .outputs.findings "$work/leak.json")" = 2 ] || fail "leak: findings output is not 2"
[ "$(jq -r '.outputs["sarif-file"]' "$work/leak.json")" = "$work/leak.sarif" ] || fail "leak: sarif-file output"
python3 "$shared/tools/validate_sarif.py" --srcroot "$leak" -W --quiet "$work/leak.sarif"
[ "$(jq '.runs[0].results | length' "$work/leak.sarif")" = 2 ] || fail "leak: SARIF does not hold 2 results"
grep -q '^| `appsettings.json` | 5 | Vipps MobilePay client_secret | test |' "$work/leak.md" \
  || { cat "$work/leak.md"; fail "leak: the summary has no row for the client_secret"; }
grep -q '^::error file=appsettings.json,line=5,' "$work/leak.log" || fail "leak: no annotation"
grep -q 'leaked key(s): the job summary says which' "$work/leak.log" || fail "leak: no failure message"

# --- the leak in a subdirectory: SARIF paths still start at the repository root -------------
mkdir -p "$work/mono/services/pay api"
cp "$leak/appsettings.json" "$work/mono/services/pay api/"
set +e
python3 "$shared/tools/run_composite_action.py" -w "$work/mono" -i "path=services/pay api" \
  -i sarif-file="$work/mono.sarif" . > "$work/mono.log" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$work/mono.log"; fail "subdirectory: the action exited $rc, not 1"; }
python3 "$shared/tools/validate_sarif.py" --srcroot "$work/mono" -W --quiet "$work/mono.sarif"
[ "$(jq -r '.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri' "$work/mono.sarif")" \
  = "services/pay%20api/appsettings.json" ] || fail "subdirectory: SARIF path not from the root"
grep -q '^::error file=services/pay api/appsettings.json,line=5,' "$work/mono.log" \
  || fail "subdirectory: annotation not on the workspace path"

# --- the same leak, not failing --------------------------------------------------------------
python3 "$shared/tools/run_composite_action.py" -w "$leak" -i sarif-file="$work/soft.sarif" \
  -i fail-on-findings=false --json-out "$work/soft.json" . > "$work/soft.log" 2>&1 \
  || { cat "$work/soft.log"; fail "fail-on-findings=false: the action failed"; }
[ "$(jq -r .outputs.findings "$work/soft.json")" = 2 ] || fail "fail-on-findings=false: findings output"

# --- a clean workspace -----------------------------------------------------------------------
clean=$work/clean
mkdir -p "$clean"
cat > "$clean/appsettings.json" <<'EOF'
{
  "Vipps": {
    "BaseUrl": "https://apitest.vipps.no",
    "ClientId": "<client_id>",
    "ClientSecret": "${VIPPS_CLIENT_SECRET}",
    "SubscriptionKey": "YOUR-SUBSCRIPTION-KEY"
  }
}
EOF
python3 "$shared/tools/run_composite_action.py" -w "$clean" -i sarif-file="$work/clean.sarif" \
  --json-out "$work/clean.json" . > "$work/clean.log" 2>&1 \
  || { cat "$work/clean.log"; fail "clean: the action failed"; }
[ "$(jq -r .outputs.findings "$work/clean.json")" = 0 ] || fail "clean: findings output is not 0"
python3 "$shared/tools/validate_sarif.py" -W --quiet "$work/clean.sarif"
grep -q '^No leaked Vipps MobilePay keys found.' "$work/clean.md" || fail "clean: summary"

# --- pull requests: the range, and changes to suppression ------------------------------------
# The steps' own scripts, taken from action.yml, run with the environment the runner gives them.
step_script() {
  python3 - "$1" <<'PY'
import sys, yaml
steps = yaml.safe_load(open("action.yml"))["runs"]["steps"]
print(next(s["run"] for s in steps if s.get("id") == sys.argv[1]))
PY
}
repo=$work/repo
git init -q "$repo"
g() { git -C "$repo" -c user.name=ci -c user.email=ci@example.invalid "$@"; }
echo "Vipps integration" > "$repo/README.md"
g add -A && g commit -qm base
base=$(g rev-parse HEAD)
printf 'a\nb\nc\n' > "$repo/.vippsleaksignore"
mkdir -p "$repo/conf"
printf '# Vipps MobilePay (apitest.vipps.no)\nVIPPS_MSN=%s\nVIPPS_CLIENT_SECRET=%s # vippsleaks:allow\n' \
  "$msn" "$secret" > "$repo/conf/.env"
g add -A && g commit -qm "silence it"
head=$(g rev-parse HEAD)

run_step() { # ID OUT_DIR ENV...
  local id=$1 out=$2
  shift 2
  mkdir -p "$out"
  : > "$out/output"; : > "$out/summary"
  step_script "$id" > "$out/step.sh"
  (cd "$work" && env GITHUB_OUTPUT="$out/output" GITHUB_STEP_SUMMARY="$out/summary" "$@" \
    bash --noprofile --norc -eo pipefail "$out/step.sh") > "$out/log" 2>&1 \
    || { cat "$out/log"; fail "step $id failed"; }
}
run_step plan "$work/plan" MODE=auto SCAN_PATH=repo EVENT_NAME=pull_request \
  PR_BASE="$base" PR_HEAD="$head" PUSH_BEFORE= PUSH_AFTER=
grep -qx "kind=diff" "$work/plan/output" || fail "plan: a pull request is not scanned as a range"
grep -qx "range=$base..$head" "$work/plan/output" || fail "plan: wrong range"
run_step plan "$work/plan-push" MODE=auto SCAN_PATH=repo EVENT_NAME=push PR_BASE= PR_HEAD= \
  PUSH_BEFORE=0000000000000000000000000000000000000000 PUSH_AFTER="$head"
grep -qx "kind=files" "$work/plan-push/output" || fail "plan: a new branch is not scanned as files"

: > "$work/supp.sarif"
run_step suppression "$work/supp" RANGE="$base..$head" SCAN_PATH=repo CONFIG= BASELINE= \
  SARIF_FILE="$work/supp.sarif"
no_secret "$work/supp/log" "$work/supp/summary"
grep -qx "changes=2" "$work/supp/output" || { cat "$work/supp/log"; fail "suppression: not 2 changes"; }
grep -q '^| `` .vippsleaksignore `` | file A |' "$work/supp/summary" || fail "suppression: ignore file not listed"
grep -q '^| `` conf/.env:3 `` | adds `vippsleaks:allow` |' "$work/supp/summary" \
  || { cat "$work/supp/summary"; fail "suppression: allow comment not listed"; }
grep -q '^::warning file=repo/conf/.env,line=3,' "$work/supp/log" || fail "suppression: no annotation"
cmp -s "$work/supp/summary" "$work/supp.md" || fail "suppression: not added to the summary file"

echo "action check: OK (leak fails with 2 findings and a valid SARIF, clean passes, suppression changes listed)"
