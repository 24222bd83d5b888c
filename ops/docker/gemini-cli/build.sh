#!/usr/bin/env bash
# Builds bastion/gemini-cli offline: @google/gemini-cli (pinned in VERSION) is installed on the
# host from the npm registry into a staging dir (cached), then copied into a layer over
# bastion/sandbox. Skipped when the image's recipe label matches.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="$(tr -d '[:space:]' < "$here/VERSION")"
log() { printf '[build] %s\n' "$*" >&2; }
# shellcheck source=ops/docker/recipes.sh
. "$here/../recipes.sh"

sandbox="$(docker image inspect -f '{{index .Config.Labels "dev.bastion.recipe"}}' bastion/sandbox:latest)"
# v2: content only (v1 hashed the files' absolute paths, so every checkout rebuilt it).
want="$({ echo 'gemini-cli v2' "$sandbox" "$version"; (cd "$here" && sha256sum gemini settings.json gemini-cli.Dockerfile); } | hash_of)"
have="$(docker image inspect -f '{{index .Config.Labels "dev.bastion.recipe"}}' bastion/gemini-cli:latest 2>/dev/null || true)"
if [ "$have" = "$want" ]; then log "bastion/gemini-cli up to date ($want)"; exit 0; fi

stage="${BASTION_CACHE_DIR:-/var/cache/bastion}/gemini-cli-$version"
if [ ! -f "$stage/.complete" ]; then
  log "installing @google/gemini-cli@$version from npm into $stage"
  rm -rf "$stage" && mkdir -p "$stage"
  # Install scripts stay off (npm 11 default): the CLI works without keytar/node-pty.
  npm install --prefix "$stage" "@google/gemini-cli@$version" --omit=dev --no-audit --no-fund --loglevel=error >&2
  touch "$stage/.complete"
fi

ctx="$(mktemp -d /var/tmp/bastion-gemini-ctx.XXXXXX)"
trap 'rm -rf "$ctx"' EXIT
cp -a "$stage/node_modules" "$ctx/node_modules"
cp "$here/settings.json" "$here/gemini" "$ctx/"
log "building bastion/gemini-cli ($want): sandbox + @google/gemini-cli@$version"
docker_build bastion/gemini-cli:latest "$here/gemini-cli.Dockerfile" "$ctx" --build-arg "RECIPE=$want"
log "built bastion/gemini-cli ($want, @google/gemini-cli@$version)"
