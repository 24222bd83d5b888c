#!/usr/bin/env bash
# Bastion's main job on its embedded default: one sandboxed agent call, end to end.
# Builds what it needs (dependencies, CLI bundle, Docker engine, images — all offline), then asks
# the real Gemini CLI, inside the hardened sandbox and behind the egress gateway, about this repo.
# With GEMINI_API_KEY set it talks to the real Gemini API; without, to the offline fake API.
# Usage: npm run demo [-- "your prompt"] [--json]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log() { printf '[demo] %s\n' "$*" >&2; }

prompt="Summarise what this repository does, in three sentences."
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
bash ops/docker/build.sh all

fake_pid=""
cleanup() { [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null || true; }
trap cleanup EXIT
if [ -z "${GEMINI_API_KEY:-}" ] && [ -z "${GEMINI_API_KEY_FILE:-}" ]; then
  key="demo-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
  info="$(mktemp)"
  # The fake's stdout goes to a file only: it must not hold the caller's pipe open.
  node packages/testing/bin/fake-gemini-api.cjs --port 0 --expected-api-key "$key" >"$info" 2>/dev/null </dev/null &
  fake_pid=$!
  for _ in $(seq 1 50); do [ -s "$info" ] && break; sleep 0.1; done
  url="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).url)' "$info")"
  rm -f "$info"
  export GOOGLE_GEMINI_BASE_URL="$url" GEMINI_API_KEY="$key"
  log "no GEMINI_API_KEY: using the offline fake Gemini API at $url (set GEMINI_API_KEY for the real one)"
else
  log "GEMINI_API_KEY is set: using the real Gemini API${GOOGLE_GEMINI_BASE_URL:+ via $GOOGLE_GEMINI_BASE_URL}"
fi

log "bastion run --provider gemini-cli --workspace $PWD \"$prompt\""
status=0
node packages/agent-runtime/bin/bastion.cjs run --provider gemini-cli --workspace "$PWD" "${json[@]}" "$prompt" || status=$?
exit "$status"
