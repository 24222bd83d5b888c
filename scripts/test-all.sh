#!/usr/bin/env bash
# The whole test suite, from a fresh clone: dependencies, the CLI bundle, the Docker engine and
# the images (all offline), then lint, typecheck, unit tests, integration tests and the failure
# suites. Under CI=true a missing Docker engine is a failure, never a skip.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Node 24 first on PATH (bootstrapped into .tools/node when the host's is older): every step below runs on it.
. scripts/use-node.sh || exit 1
start=$(date +%s)
step() { printf '\n==> %s\n' "$*" >&2; }

totals="$(mktemp)"; export BASTION_TEST_TOTALS="$totals"
status=0
run() { "$@" || { status=1; printf '!!! failed: %s\n' "$*" >&2; }; }

step "dependencies"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error || exit 1
fi

step "CLI bundle"
node scripts/build.mjs || exit 1

step "Docker engine and images"
engine=ok
if ! bash ops/docker/ensure-engine.sh; then
  engine=missing
  [ "${CI:-}" = "true" ] && { echo "CI=true and no Docker engine: failing" >&2; exit 1; }
  echo "!!! no Docker engine: integration and failure suites will SKIP (locally only)" >&2
fi
if [ "$engine" = ok ]; then
  bash ops/docker/build.sh all || exit 1
fi
# The durable task ledger's suites need PostgreSQL: started like the engine (ops/postgres), its
# URL exported for them. Under CI=true a missing server is a failure, never a skip.
if BASTION_TEST_DATABASE_URL="$(bash ops/postgres/ensure-postgres.sh)"; then
  export BASTION_TEST_DATABASE_URL
else
  [ "${CI:-}" = "true" ] && { echo "CI=true and no PostgreSQL: failing" >&2; exit 1; }
  echo "!!! no PostgreSQL: the task ledger's PostgreSQL suites will SKIP (locally only)" >&2
fi
# The daemonless backend's suites need bubblewrap, and libseccomp's python binding (Debian's
# python3-seccomp, for /usr/bin/python3) that compiles its seccomp filter from
# ops/docker/seccomp.json; install them the same way as the engine.
if ! command -v bwrap >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import seccomp' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap python3-seccomp >&2 || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap python3-seccomp >&2; }
  else
    echo "!!! bubblewrap or python3-seccomp is not installed: the bwrap backend's suites will skip (fail under CI=true)" >&2
  fi
fi

# The /metrics test runs `promtool check metrics`; Debian's prometheus package ships promtool
# (about 96 MB installed, for the one binary).
if ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >&2 || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >&2; }
  else
    echo "!!! promtool is not installed: the promtool check of /metrics will skip (fail under CI=true)" >&2
  fi
fi

nxflags=(--outputStyle=stream)
[ "${CI:-}" = "true" ] && nxflags+=(--skip-nx-cache)

step "lint"
run npx nx run-many -t lint "${nxflags[@]}"
step "format (prettier --check)"
run npm run -s format:check
step "typecheck"
run npx tsc -p tsconfig.json --noEmit
step "unit tests"
run npx nx run-many -t test "${nxflags[@]}"
step "integration tests (real engine)"
run npx nx run-many -t test-int --parallel=1 "${nxflags[@]}"
step "failure suites"
run npx nx run-many -t failure-suite --parallel=1 "${nxflags[@]}"
step "first hour (the README's flow and the usual mistakes, on a fresh clone)"
run bash scripts/first-hour.sh

leftover=$(docker ps -aq --filter label=dev.bastion.managed=true 2>/dev/null | wc -l)
if [ "$leftover" != 0 ]; then echo "!!! $leftover containers labelled dev.bastion.managed left behind" >&2; status=1; fi

read -r passed failed skipped < <(awk -F'[:,}]' '{p+=$2; f+=$4; s+=$6} END {print p+0, f+0, s+0}' "$totals")
rm -f "$totals"
echo "wall time: $(( $(date +%s) - start )) s" >&2
[ "$failed" != 0 ] && status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit $status
