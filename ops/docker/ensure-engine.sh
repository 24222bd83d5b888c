#!/usr/bin/env bash
# Finds a working Docker engine, or on Debian as root installs docker.io and starts dockerd.
# Prints what it did on stderr; exits non-zero with the exact missing piece otherwise.
# Idempotent: a running engine is left alone.
set -euo pipefail

log() { printf '[ensure-engine] %s\n' "$*" >&2; }
engine_ok() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && engine_ok; then
  log "engine is running (server $(docker version --format '{{.Server.Version}}'))"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  log "no running Docker engine and not root: start dockerd (or ask an admin to), or use --backend bwrap"
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    log "no dockerd and no apt-get: install a Docker engine for this distribution"
    exit 1
  fi
  log "installing docker.io from the Debian archive"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq docker.io >&2
fi

if ! command -v docker >/dev/null 2>&1; then
  log "dockerd is installed but no docker client is on PATH"
  exit 1
fi

if [ -S /var/run/docker.sock ] && ! engine_ok; then
  log "stale /var/run/docker.sock with no engine behind it; removing"
  rm -f /var/run/docker.sock
fi

log "starting dockerd (log: /var/log/bastion-dockerd.log)"
# setsid: the engine must outlive the shell (and the CI step) that started it.
setsid dockerd >/var/log/bastion-dockerd.log 2>&1 < /dev/null &

for _ in $(seq 1 60); do
  if engine_ok; then
    log "engine is up (server $(docker version --format '{{.Server.Version}}'))"
    exit 0
  fi
  sleep 0.5
done
log "dockerd did not come up within 30 s; last lines of its log:"
tail -n 20 /var/log/bastion-dockerd.log >&2 || true
exit 1
