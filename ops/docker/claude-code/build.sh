#!/usr/bin/env bash
# Builds bastion/claude-code offline: the platform package @anthropic-ai/claude-code-linux-x64
# (pinned in VERSION) is fetched once with `npm pack` (no install scripts run: the wrapper package
# @anthropic-ai/claude-code only links this binary in a postinstall, so the recipe places it
# itself), checked, unpacked into a cache dir, then copied into a layer over bastion/sandbox.
# Skipped when the image's recipe label matches.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
version="$(tr -d '[:space:]' < "$here/VERSION")"
package="@anthropic-ai/claude-code-linux-x64"
log() { printf '[build] %s\n' "$*" >&2; }
# shellcheck source=ops/docker/recipes.sh
. "$here/../recipes.sh"

sandbox="$(docker image inspect -f '{{index .Config.Labels "dev.bastion.recipe"}}' bastion/sandbox:latest)"
want="$({ echo 'claude-code v1' "$sandbox" "$package@$version"; (cd "$here" && sha256sum claude claude-code.Dockerfile); } | hash_of)"
have="$(docker image inspect -f '{{index .Config.Labels "dev.bastion.recipe"}}' bastion/claude-code:latest 2>/dev/null || true)"
if [ "$have" = "$want" ]; then log "bastion/claude-code up to date ($want)"; exit 0; fi

stage="${BASTION_CACHE_DIR:-$repo/.ops-cache}/claude-code-$version"
if [ ! -f "$stage/.complete" ]; then
  log "fetching $package@$version from npm into $stage (about 400 MB unpacked)"
  rm -rf "$stage" && mkdir -p "$stage"
  # npm pack verifies the tarball against the registry's integrity hash and runs no scripts.
  (cd "$stage" && npm pack "$package@$version" --silent >/dev/null)
  tar -xzf "$stage"/anthropic-ai-claude-code-linux-x64-"$version".tgz -C "$stage"
  rm -f "$stage"/*.tgz
  [ -x "$stage/package/claude" ] || { log "$package@$version has no executable 'claude'"; exit 1; }
  "$stage/package/claude" --version | grep -q "^$version" || { log "$stage/package/claude is not version $version"; exit 1; }
  touch "$stage/.complete"
fi

ctx="$(mktemp -d /var/tmp/bastion-claude-ctx.XXXXXX)"
trap 'rm -rf "$ctx"' EXIT
# A hard link where the cache and the context share a filesystem: the binary is 400 MB.
ln "$stage/package/claude" "$ctx/claude-bin" 2>/dev/null || cp "$stage/package/claude" "$ctx/claude-bin"
cp "$here/claude" "$ctx/claude"
log "building bastion/claude-code ($want): sandbox + $package@$version"
docker_build bastion/claude-code:latest "$here/claude-code.Dockerfile" "$ctx" --build-arg "RECIPE=$want"
log "built bastion/claude-code ($want, $package@$version)"
