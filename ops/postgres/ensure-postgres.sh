#!/usr/bin/env bash
# A PostgreSQL server for Bastion's task ledger, the way ops/docker/ensure-engine.sh brings up
# Docker: installs Debian's postgresql when missing (root + apt-get), initdb's a cluster in a
# project directory (default .ops-cache/postgres), starts it on a loopback port and a unix socket
# in that directory, and creates the database. Idempotent: a running cluster is left alone.
# Prints the connection URL on stdout (everything else goes to stderr), so callers can do
#   export BASTION_TEST_DATABASE_URL="$(bash ops/postgres/ensure-postgres.sh)"
# Environment: BASTION_PG_DIR (cluster directory), BASTION_PG_PORT (default 54329),
# BASTION_PG_DB (default bastion). `ensure-postgres.sh stop` stops the cluster (tests use it to
# take the database away for a while).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${BASTION_PG_DIR:-$root/.ops-cache/postgres}"
port="${BASTION_PG_PORT:-54329}"
db="${BASTION_PG_DB:-bastion}"
data="$dir/data"
sock="$dir/run"
log() { printf '[ensure-postgres] %s\n' "$*" >&2; }

bindir=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && bindir="$d"; done
if [ -z "$bindir" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    log "PostgreSQL is not installed and this is not root on Debian: install postgresql (>= 13), or point --database at an existing server"
    exit 1
  fi
  log "installing postgresql from the Debian archive"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq postgresql >&2 || { apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2; }
  # Debian's package starts its own cluster on 5432; ours is separate and needs nothing of it.
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && bindir="$d"; done
fi

# PostgreSQL refuses to run as root: as root the cluster belongs to the postgres user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-}" = "stop" ]; then
  if [ -f "$data/postmaster.pid" ]; then as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >&2; fi
  exit 0
fi

mkdir -p "$dir" "$sock"
if [ "$(id -u)" = 0 ]; then
  chown postgres:postgres "$dir" "$sock"
  # The postgres user must reach the cluster directory through the checkout.
  p="$dir"; while [ "$p" != "/" ]; do p="$(dirname "$p")"; chmod o+x "$p" 2>/dev/null || true; done
fi

if [ ! -f "$data/PG_VERSION" ]; then
  log "initdb in $data"
  as_owner "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi

if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  log "starting PostgreSQL on 127.0.0.1:$port (socket in $sock)"
  as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $sock -c max_connections=200 -c fsync=on" start >&2
fi

if ! "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "select 1 from pg_database where datname = '$db'" | grep -q 1; then
  log "creating database $db"
  "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "create database \"$db\"" >&2
fi
echo "postgres://postgres@127.0.0.1:$port/$db"
