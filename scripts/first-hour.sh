#!/usr/bin/env bash
# A newcomer's first hour, scripted: clone this repository afresh, put `bastion` on PATH as the
# README says, run the README's flow from a directory outside the clone, then make the mistakes
# people make first and check that each answer names its fix (and exits with the documented code).
# Runs in CI from scripts/test-all.sh; about a minute. Under CI=true a missing Docker engine fails.
# Usage: scripts/first-hour.sh [--keep]   (--keep leaves the temporary clone for a look)
set -uo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Node 24 first on PATH (bootstrapped into .tools/node when the host's is older), as for the README's user.
. "$repo/scripts/use-node.sh" || exit 1
keep=0; [ "${1:-}" = "--keep" ] && keep=1
work="$(mktemp -d /tmp/bastion-first-hour.XXXXXX)"
fake_pid=""
cleanup() {
  [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null
  if [ "$keep" = 1 ]; then echo "[first-hour] kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
start=$(date +%s)
passed=0; failed=0
log() { printf '[first-hour] %s\n' "$*" >&2; }
ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$1" >&2; }
bad() { failed=$((failed + 1)); printf '  FAIL  %s\n' "$1" >&2; [ -n "${2:-}" ] && sed 's/^/        | /' "$2" | head -n 15 >&2; }

out="$work/out"; err="$work/err"
# try CODE DESCRIPTION -- COMMAND…: runs it (stdout > $out, stderr > $err) and checks the exit code.
try() {
  local want="$1" what="$2"; shift 3
  "$@" >"$out" 2>"$err" </dev/null
  local got=$?
  if [ "$got" = "$want" ]; then ok "$what (exit $got)"; else bad "$what: exit $got, expected $want" "$err"; fi
}
# has FILE TEXT DESCRIPTION: the file contains the text (fixed string).
has() { if grep -qF -- "$2" "$1"; then ok "$3"; else bad "$3: no \"$2\" in $(basename "$1")" "$1"; fi; }
hasnt() { if grep -qF -- "$2" "$1"; then bad "$3: \"$2\" in $(basename "$1")" "$1"; else ok "$3"; fi; }

engine=ok
if ! docker info >/dev/null 2>&1; then
  engine=missing
  [ "${CI:-}" = "true" ] && { log "CI=true and no Docker engine: failing"; exit 1; }
  log "no Docker engine: the sandboxed steps are skipped (locally only)"
fi

log "cloning $repo into $work/bastion"
git clone --quiet "$repo" "$work/bastion" || { log "git clone failed"; exit 1; }
clone="$work/bastion"
# Dependencies: the checkout's, linked entry by entry (no registry, seconds instead of npm ci),
# except the workspace packages, which must be the clone's own.
mkdir -p "$clone/node_modules/@bastion"
for entry in "$repo"/node_modules/* "$repo"/node_modules/.bin; do
  name="$(basename "$entry")"
  [ "$name" = "@bastion" ] || ln -s "$entry" "$clone/node_modules/$name"
done
for pkg in "$clone"/packages/*/; do
  name="$(basename "$pkg")"
  ln -s "../../packages/$name" "$clone/node_modules/@bastion/$name"
  [ -d "$repo/packages/$name/node_modules" ] && ln -s "$repo/packages/$name/node_modules" "$clone/packages/$name/node_modules"
done

log "README: put bastion on PATH (one step), then use it from outside the clone"
mkdir -p "$work/bin" "$work/elsewhere"
ln -sf "$clone/packages/server/bin/bastion.cjs" "$work/bin/bastion"
export PATH="$work/bin:$PATH" BASTION_NO_DAEMON=1 BASTION_AUDIT_LOG="$work/audit.log"
unset BASTION_FLAGS_FILE BASTION_CONFIG BASTION_BACKEND FF_DEFAULT_BACKEND FF_CURSOR_AUTOFIX
cd "$work/elsewhere" || exit 1
version="$(node -p "require('$clone/packages/server/package.json').version")"
try 0 "bastion --version on a fresh clone (builds its bundle on first use)" -- bastion --version
has "$out" "$version" "--version comes from package.json ($version)"
# (It may warn against it; it must not show it as a command to run.)
if grep -qE '^\s*(\$ )?npx bastion|`npx bastion …` works' "$clone/README.md"; then bad "the README shows npx bastion as a command (outside the repo: an unrelated npm package)"; else ok "the README never sends anyone to npx bastion"; fi
try 0 "bastion --help" -- bastion --help
# A host node older than 22 (this clone has no .tools/node of its own): bastion says how to get one.
for old in /usr/bin/node /usr/local/bin/node; do
  [ -x "$old" ] && [ "$("$old" -p 'process.versions.node.split(".")[0]')" -lt 22 ] || continue
  try 125 "bastion on Node $("$old" --version) without .tools/node" -- "$old" "$clone/packages/server/bin/bastion.cjs" --version
  has "$err" "bash scripts/ensure-node.sh" "that answer names the Node bootstrap"
  break
done
for cmd in exec run doctor "policy check" "flags list" sanitize; do
  # shellcheck disable=SC2086
  try 0 "bastion $cmd --help" -- bastion $cmd --help
  if grep -q '^Example:' "$out" && grep -q '^Exit codes:' "$out"; then ok "$cmd --help shows an example and the exit codes"; else bad "$cmd --help lacks an example or exit codes" "$out"; fi
done

log "policy and sanitize (no sandbox needed)"
try 0 "policy show-default" -- bastion policy show-default
cp "$out" default.yaml
try 0 "policy check of the default it printed" -- bastion policy check default.yaml
has "$out" "default.yaml: ok" "policy check prints its verdict on stdout"
printf 'version: 1\nnetwork:\n  mode: none\n' >partial.yaml
try 0 "a partial policy (version and network only) is valid" -- bastion policy check partial.yaml
printf 'version: 1\nresources:\n  max: { memory: lots, pids: -1 }\nnetwork:\n  mode: sometimes\n  colour: blue\n' >broken.yaml
try 125 "policy check of a broken file" -- bastion policy check broken.yaml
has "$out" "broken.yaml:3: resources.max.memory" "each problem with its line, on stdout"
printf 'ghp_%s\n' "Z8x1Yq2Wv3Ut4Sr5Qp6On7Ml8Kj9Ih0GfEdCb" >secret.txt
bastion sanitize <secret.txt >"$out" 2>"$err"
hasnt "$out" "Z8x1Yq2Wv3Ut4Sr5Qp6On7Ml8Kj9Ih0GfEdCb" "sanitize redacts a GitHub token"

log "flags"
try 0 "flags list" -- bastion flags list
has "$out" "FF_CURSOR_AUTOFIX=" "flags list prints on stdout (| grep AUTOFIX works)"
printf 'FF_CURSOR_AUTOFIX: true\nFF_DEFAULT_BACKEND: [bwrap\n' >flags.yaml
try 125 "flags list with a broken flags file" -- bastion flags list --file flags.yaml
has "$err" "flags.yaml:3:1 is not valid YAML" "the parse error names the file and line"
try 125 "flags get with a broken flags file" -- bastion flags get FF_CURSOR_AUTOFIX --file flags.yaml

log "usage mistakes"
try 2 "exec ls -la / (no --)" -- bastion exec ls -la /
has "$err" "put the command after --, e.g. bastion exec -- ls -la /" "the hint shows the command with --"
try 2 "exec --json ls -la / (no --)" -- bastion exec --json ls -la /
if node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); process.exit(d.error.code==="INVALID_INPUT"?0:1)' "$out"; then ok "under --json a usage error is one JSON document on stdout"; else bad "usage error under --json is not one JSON document" "$out"; fi
try 2 "exec --timeout soon" -- bastion exec --timeout soon -- true
try 2 "run --intent fix (not a choice)" -- bastion run --provider gemini-cli --intent fix "x"
DOCKER_HOST=unix://"$work"/no-engine.sock try 125 "doctor without an engine" -- bastion doctor
has "$out" "unreachable at unix://$work/no-engine.sock" "doctor names the socket it tried"

if [ "$engine" = ok ]; then
  log "README flow in the sandbox"
  try 0 "doctor" -- bastion doctor
  has "$out" "[ok  ] docker engine" "doctor's report is on stdout"
  try 0 "exec -- echo hello" -- bastion exec -- echo hello
  has "$out" "hello" "the command's output on stdout"
  try 0 "exec --policy partial.yaml" -- bastion exec --policy partial.yaml -- true
  try 125 "exec --policy broken.yaml" -- bastion exec --policy broken.yaml -- true
  has "$err" "bastion policy check broken.yaml" "a bad policy's message points to bastion policy check"
  try 127 "exec -- nosuchcmd" -- bastion exec -- nosuchcmd
  has "$err" "command not found in the sandbox image" "says the command is not in the image"
  hasnt "$err" "runc" "no runc dump"
  try 3 "exec -- sh -c 'exit 3'" -- bastion exec -- sh -c 'exit 3'

  key="first-hour-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
  node "$clone/packages/testing/bin/fake-gemini-api.cjs" --port 0 --expected-api-key "$key" >"$work/fake.json" 2>/dev/null </dev/null &
  fake_pid=$!
  for _ in $(seq 1 50); do [ -s "$work/fake.json" ] && break; sleep 0.1; done
  url="$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).url' "$work/fake.json")"
  mkdir -p ws && echo '# a tiny project' >ws/README.md
  GOOGLE_GEMINI_BASE_URL="$url" GEMINI_API_KEY="$key" try 0 "run --provider gemini-cli --workspace ws (fake Gemini API)" -- bastion run --provider gemini-cli --workspace ws "What is this project?"
  has "$out" "you asked: What is this project?" "the answer on stdout"
  has "$err" "bastion: agent running" "progress on stderr while the agent runs"
  has "$err" "bastion: parsing gemini-cli's output" "progress names the parsing phase"
  GOOGLE_GEMINI_BASE_URL="$url" GEMINI_API_KEY="$key" try 125 "run --provider gemini-cli --intent edit" -- bastion run --provider gemini-cli --intent edit --workspace ws "Fix it"
  has "$err" "cannot edit; providers that can: cursor, claude-code" "refused as not capable, naming the providers that are"

  log "images: the clone's recipes match the images the checkout built (no rebuild, no retag)"
  want="$(cd "$clone/ops/docker" && here="$PWD" SUITE="${BASTION_DEBIAN_SUITE:-bookworm}" BASE_PACKAGES=procps,ca-certificates bash -c '. ./recipes.sh; sandbox_recipe')"
  have="$(docker image inspect -f '{{index .Config.Labels "dev.bastion.recipe"}}' bastion/sandbox:latest 2>/dev/null)"
  if [ "$want" = "$have" ]; then
    bash "$clone/ops/docker/build.sh" all >"$out" 2>"$err"
    has "$err" "bastion/sandbox up to date ($have)" "a second checkout keeps bastion/sandbox:latest"
    hasnt "$err" "DEPRECATED" "no legacy-builder banner"
  else
    log "bastion/sandbox:latest was built from another tree ($have, the clone's recipe is $want): not rebuilding it here"
  fi
fi

log "$passed passed, $failed failed in $(( $(date +%s) - start )) s"
[ "$failed" = 0 ]
