#!/usr/bin/env bash
# A PostgreSQL server for Bastion's task ledger, the way ops/docker/ensure-engine.sh brings up
# Docker: installs Debian's postgresql when missing (root + apt-get), initdb's a cluster in a
# project directory (default .ops-cache/postgres), starts it on a loopback port and a unix socket
# in that directory, and creates the database. Idempotent: a running cluster is left alone.
# Prints the connection URL on stdout (everything else goes to stderr), so callers can do
#   export BASTION_TEST_DATABASE_URL="$(bash ops/postgres/ensure-postgres.sh)"
# Environment: BASTION_PG_DIR (cluster directory), BASTION_PG_PORT (default 54329; when that port
# is taken by another server, the next free one up to 54349 is used and the URL says which; an
# explicit BASTION_PG_PORT that is taken is an error), BASTION_PG_DB (default bastion). `ensure-postgres.sh stop` stops the cluster (tests use it to
# take the database away for a while).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${BASTION_PG_DIR:-$root/.ops-cache/postgres}"
port="${BASTION_PG_PORT:-54329}"
port_explicit="${BASTION_PG_PORT:+yes}"
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

# Something listening on 127.0.0.1:PORT (bash's /dev/tcp: no extra tool needed).
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  # Ours runs: on the port it started on (line 4 of postmaster.pid), which may not be the default.
  port="$(sed -n 4p "$data/postmaster.pid")"
else
  # Another server (another checkout's cluster, Debian's own) on the port: ours must not talk to
  # it as if it were ours, nor fail with pg_ctl's log. The last port ours used comes first.
  if [ -z "$port_explicit" ] && [ -f "$dir/port" ]; then port="$(cat "$dir/port")"; fi
  if listening "$port"; then
    if [ -n "$port_explicit" ]; then
      log "port $port (BASTION_PG_PORT) on 127.0.0.1 is taken by another server: set BASTION_PG_PORT to a free port, or stop that server"
      exit 1
    fi
    taken="$port"; port=""
    for p in $(seq 54329 54349); do listening "$p" || { port="$p"; break; }; done
    [ -n "$port" ] || { log "ports 54329-54349 on 127.0.0.1 are all taken: set BASTION_PG_PORT to a free port"; exit 1; }
    log "port $taken is taken by another server: using $port instead (BASTION_PG_PORT sets it)"
  fi
  echo "$port" >"$dir/port"
  log "starting PostgreSQL on 127.0.0.1:$port (socket in $sock)"
  as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $sock -c max_connections=200 -c fsync=on" start >&2
fi

if ! "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "select 1 from pg_database where datname = '$db'" | grep -q 1; then
  log "creating database $db"
  "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "create database \"$db\"" >&2
fi
echo "postgres://postgres@127.0.0.1:$port/$db"
