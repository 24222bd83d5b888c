#!/usr/bin/env bash
# Builds Bastion's images offline, each only when its recipe changed:
#   bastion/base     debootstrap --variant=minbase root filesystem, `docker import`ed
#   bastion/sandbox  base + Node 24 (the host's, or .tools/node: scripts/ensure-node.sh) + Bastion's in-container helpers, user 1001
#   bastion/<recipe>    sandbox + a provider's agent, by ops/docker/<recipe>/build.sh (gemini-cli, claude-code)
# Every image carries dev.bastion.recipe=<hash of what built it (content only, see recipes.sh)>; an
# image whose label matches is kept. Progress (stages, build steps, sizes) goes to stderr.
# Usage: ops/docker/build.sh [base] [sandbox] [<recipe>…] [all]   (default: base sandbox)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
SUITE="${BASTION_DEBIAN_SUITE:-bookworm}"
MIRROR="${BASTION_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_PACKAGES="procps,ca-certificates"

log() { printf '[build] %s\n' "$*" >&2; }
label_of() { docker image inspect -f '{{index .Config.Labels "dev.bastion.recipe"}}' "$1" 2>/dev/null || true; }
# shellcheck source=ops/docker/recipes.sh
. "$here/recipes.sh"

build_base() {
  local want; want="$(base_recipe)"
  if [ "$(label_of bastion/base:latest)" = "$want" ]; then log "bastion/base up to date ($want)"; return; fi
  command -v debootstrap >/dev/null 2>&1 || { log "installing debootstrap"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2 || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2; }; }
  local root; root="$(mktemp -d /var/tmp/bastion-rootfs.XXXXXX)"
  # The log is made by mktemp, not a fixed /tmp name another local user could plant a link at.
  local dlog; dlog="$(mktemp /var/tmp/bastion-debootstrap.XXXXXX)"
  trap 'rm -rf "$root" "$dlog"' RETURN
  log "debootstrap --variant=minbase $SUITE (about 35 s; its stages follow)"
  # Its I: lines are the stages (retrieving, validating, extracting, installing, configuring).
  debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$root" "$MIRROR" 2>&1 | tee "$dlog" \
    | grep --line-buffered -E '^I: (Retrieving Release|Validating Packages|Extracting|Installing core|Unpacking the base|Configuring the base|Base system installed)' \
    | sed -u 's/^I: /[build]   /' >&2 \
    || { tail -n 20 "$dlog" >&2; exit 1; }
  [ -x "$root/bin/sh" ] || { tail -n 20 "$dlog" >&2; exit 1; }
  # Caches and docs are dead weight in every container start.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
  tar -C "$root" -c . | docker import \
    --change "LABEL dev.bastion.recipe=$want" \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    --change 'CMD ["/bin/sh"]' - bastion/base:latest >/dev/null
  log "built bastion/base ($want, $(numfmt --to=iec --suffix=B "$(docker image inspect -f '{{.Size}}' bastion/base:latest)"))"
}

build_sandbox() {
  local want; want="$(sandbox_recipe)"
  if [ "$(label_of bastion/sandbox:latest)" = "$want" ]; then log "bastion/sandbox up to date ($want)"; return; fi
  local ctx; ctx="$(mktemp -d /var/tmp/bastion-ctx.XXXXXX)"
  trap 'rm -rf "$ctx"' RETURN
  cp "$(sandbox_node)" "$ctx/node"
  mkdir -p "$ctx/opt" && cp -a "$here/sandbox/." "$ctx/opt/"
  log "building bastion/sandbox ($want): base + Node $("$ctx/node" --version) + ops/docker/sandbox"
  docker_build bastion/sandbox:latest "$here/sandbox.Dockerfile" "$ctx" --build-arg "RECIPE=$want"
  log "built bastion/sandbox ($want)"
}

# Provider images: every ops/docker/<recipe>/build.sh (gemini-cli, claude-code, …) builds its image
# over bastion/sandbox, so a new provider's recipe needs no edit here.
recipes() { local f; for f in "$here"/*/build.sh; do if [ -x "$f" ]; then basename "$(dirname "$f")"; fi; done; }
build_recipe() { "$here/$1/build.sh"; }

targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=(base sandbox)
for t in "${targets[@]}"; do
  case "$t" in
    base) build_base ;;
    sandbox) build_base; build_sandbox ;;
    all) build_base; build_sandbox; for r in $(recipes); do build_recipe "$r"; done ;;
    *)
      if [[ "$t" =~ ^[a-z0-9][a-z0-9-]*$ ]] && [ -x "$here/$t/build.sh" ]; then build_base; build_sandbox; build_recipe "$t"
      else log "unknown image '$t' (base, sandbox, $(recipes | tr '\n' ' ')all)"; exit 2; fi ;;
  esac
done
