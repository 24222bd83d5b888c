#!/usr/bin/env bash
# Bastion's main job, end to end and offline: one sandboxed agent session with a budget and a signed
# record. Builds what it needs (dependencies, CLI bundle, Docker engine, images — all offline), makes
# a small demo workspace, and runs the real Gemini CLI inside the hardened sandbox, behind the egress
# gateway. Without GEMINI_API_KEY the shipped fake API plays a scripted session: the model has the
# CLI's own tools list and read the workspace, tries a web fetch the sandbox refuses, and answers with
# a summary that quotes a token the sanitizer redacts. Ends with a receipt and `bastion verify`.
# With GEMINI_API_KEY set it talks to the real Gemini API instead (same receipt).
# Usage: npm run demo [-- "your prompt"] [--json]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Node 24 first on PATH (bootstrapped into .tools/node when the host's is older).
. scripts/use-node.sh
log() { printf '[demo] %s\n' "$*" >&2; }

prompt="List this project's files, read its README, fetch https://example.com/ for context, and summarise what you found."
json=()
for arg in "$@"; do
  case "$arg" in
    --json) json=(--json) ;;
    *) prompt="$arg" ;;
  esac
done

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
node scripts/build.mjs
bash ops/docker/ensure-engine.sh
# Only the image the demo runs: `all` would also fetch Claude Code (~400 MB) for a call it never makes.
bash ops/docker/build.sh gemini-cli

bastion=(node packages/server/bin/bastion.cjs)
work="$(mktemp -d "${TMPDIR:-/tmp}/bastion-demo.XXXXXX")"
fake_pid=""
cleanup() {
  [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The demo workspace: a README carrying a (made-up) deploy token, and the project's own Gemini CLI
# settings letting the agent use web_fetch without asking, as a repository may. The sandbox still
# has no network: the fetch is refused there, whatever the repository allows.
ws="$work/workspace"
mkdir -p "$ws/src" "$ws/.gemini"
token="ghp_$(od -An -tx1 -N18 /dev/urandom | tr -d ' \n')"
printf '# Greeter\n\nA tiny service that greets users by name.\nDeploy token: %s\n' "$token" >"$ws/README.md"
printf 'export const greet = (name) => `hello ${name}`;\n' >"$ws/src/greet.js"
printf '{"tools":{"allowed":["web_fetch"]}}\n' >"$ws/.gemini/settings.json"

# The demo's own signing key and policy, in the temporary directory: nothing of the user's is touched.
key="$work/provenance-ed25519.pem"
"${bastion[@]}" keys init --key "$key" >"$work/provenance.pub"
cat >"$work/policy.yaml" <<'YAML'
version: 1
budget:
  run:
    maxOutputTokens: 4000
    maxModelRequests: 20
  prices:
    # The fake API's models (and the CLI's defaults): priced like gemini-2.5-flash for the receipt.
    gemini-3: { inputUsdPerMTok: 0.30, outputUsdPerMTok: 2.50 }
YAML

fake_url=""
if [ -z "${GEMINI_API_KEY:-}" ] && [ -z "${GEMINI_API_KEY_FILE:-}" ]; then
  api_key="demo-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
  info="$work/fake.json"
  # The fake's stdout goes to a file only: it must not hold the caller's pipe open.
  node packages/testing/bin/fake-gemini-api.cjs --port 0 --expected-api-key "$api_key" --session demo >"$info" 2>/dev/null </dev/null &
  fake_pid=$!
  for _ in $(seq 1 50); do [ -s "$info" ] && break; sleep 0.1; done
  fake_url="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).url)' "$info")"
  export GOOGLE_GEMINI_BASE_URL="$fake_url" GEMINI_API_KEY="$api_key"
  log "no GEMINI_API_KEY: the offline fake Gemini API at $fake_url plays a scripted session (set GEMINI_API_KEY for the real one)"
else
  log "GEMINI_API_KEY is set: using the real Gemini API${GOOGLE_GEMINI_BASE_URL:+ via $GOOGLE_GEMINI_BASE_URL}"
fi

record="$work/run.provenance.json"
log "bastion run --provider gemini-cli --workspace $ws --policy policy.yaml --provenance run.provenance.json \"$prompt\""
status=0
BASTION_NO_DAEMON=1 "${bastion[@]}" run --provider gemini-cli --workspace "$ws" --policy "$work/policy.yaml" \
  --provenance "$record" --provenance-key "$key" --json "$prompt" >"$work/result.json" || status=$?
if [ "${#json[@]}" -gt 0 ]; then
  cat "$work/result.json"
else
  node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); process.stdout.write((r.response||"")+"\n"); if(r.error) process.stderr.write(`bastion: ${r.error.code}: ${r.error.message}\n`)' "$work/result.json"
fi
[ -s "$record" ] || { log "no provenance record was written"; exit "${status:-1}"; }
node scripts/demo-receipt.cjs "$work/result.json" "$record" $fake_url
log "bastion verify run.provenance.json --pubkey provenance.pub --workspace $ws"
"${bastion[@]}" verify "$record" --pubkey "$work/provenance.pub" --workspace "$ws" >&2
# The record, its public key and the result outlive the demo (the workspace and private key do not),
# in the checkout's own cache: a fixed name under /tmp could be planted by another local user.
keep=".ops-cache/demo-last"
mkdir -p "$keep" && cp "$record" "$work/provenance.pub" "$work/result.json" "$keep/"
log "kept: $keep/run.provenance.json (check: node packages/server/bin/bastion.cjs verify $keep/run.provenance.json --pubkey $keep/provenance.pub)"
exit "$status"
