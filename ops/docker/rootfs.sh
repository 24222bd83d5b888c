#!/usr/bin/env bash
# Produces the read-only root filesystem the bubblewrap backend runs over: the SAME tree as a
# Docker image (default bastion/sandbox), unpacked once into a cache keyed by the image's recipe:
#   $BASTION_ROOTFS_DIR/<recipe>/root/        the filesystem (owned by root, never written to)
#   $BASTION_ROOTFS_DIR/<recipe>/image.json   {"image","recipe","env","workdir","user"} from the image config
#   $BASTION_ROOTFS_DIR/<image-slug> -> <recipe>   what the executor resolves (bastion/sandbox:latest -> bastion_sandbox_latest)
# With an engine: `docker export` of a created (never started) container. Without one: the same
# recipe as ops/docker/build.sh (debootstrap minbase + the sandbox.Dockerfile steps), offline.
# An up-to-date cache is kept. Usage: ops/docker/rootfs.sh [image]   (prints the rootfs path on stdout)
# Trees no image link points at any more are marked retired, and removed once retired for
# $BASTION_ROOTFS_KEEP_MINUTES (default 60): executors resolve the link at every call, so only a
# call that started before the switch can still be running in an old tree (the default policy's
# longest deadline is 30 min; raise the grace with it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMAGE="${1:-bastion/sandbox:latest}"
case "$IMAGE" in *:*) ;; *) IMAGE="$IMAGE:latest" ;; esac
DIR="${BASTION_ROOTFS_DIR:-/var/lib/bastion/rootfs}"
SUITE="${BASTION_DEBIAN_SUITE:-bookworm}"
MIRROR="${BASTION_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE_PACKAGES="procps,ca-certificates"
slug="$(printf '%s' "$IMAGE" | tr '/:@' '___')"

log() { printf '[rootfs] %s\n' "$*" >&2; }
# The same recipes as ops/docker/build.sh, so both paths agree on what "the same recipe" is.
# shellcheck source=ops/docker/recipes.sh
. "$here/recipes.sh"
engine() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
KEEP_MINUTES="${BASTION_ROOTFS_KEEP_MINUTES:-60}"
case "$KEEP_MINUTES" in '' | *[!0-9]*) log "BASTION_ROOTFS_KEEP_MINUTES must be a whole number of minutes"; exit 2 ;; esac
prune() {
  local tree name linked
  # Every link's target, one per line, with a newline on both ends for whole-line matching.
  linked="$(printf '\n'; find "$DIR" -mindepth 1 -maxdepth 1 -type l -printf '%l\n' 2>/dev/null | sed 's:.*/::' || true; printf '\n.')"
  for tree in "$DIR"/*/; do
    tree="${tree%/}"
    name="${tree##*/}"
    [ -L "$tree" ] && continue
    case "$name" in *[!0-9a-f]* | '') continue ;; esac
    [ -f "$tree/image.json" ] || continue
    case "$linked" in
      *"
$name
"*) rm -f "$tree/retired"; continue ;;
    esac
    if [ ! -e "$tree/retired" ]; then
      touch "$tree/retired"
    elif [ -n "$(find "$tree/retired" -mmin +"$KEEP_MINUTES" 2>/dev/null)" ]; then
      log "removing $name (no image has used it for over $KEEP_MINUTES min)"
      rm -rf "$tree"
    fi
  done
}

mkdir -p "$DIR"
if engine && docker image inspect "$IMAGE" >/dev/null 2>&1; then
  recipe="$(docker image inspect -f '{{index .Config.Labels "dev.bastion.recipe"}}' "$IMAGE")"
  [ -n "$recipe" ] || recipe="$(docker image inspect -f '{{.Id}}' "$IMAGE" | sed 's/^sha256://' | cut -c1-16)"
  source=docker
elif [ "$IMAGE" = "bastion/sandbox:latest" ]; then
  recipe="$(sandbox_recipe)"
  source=debootstrap
else
  log "no engine (or no image $IMAGE) and no offline recipe for it"; exit 1
fi

target="$DIR/$recipe"
if [ -f "$target/image.json" ] && [ -d "$target/root/usr" ]; then
  ln -sfn "$recipe" "$DIR/$slug"
  prune
  log "$IMAGE up to date ($recipe)"; printf '%s\n' "$target/root"; exit 0
fi

work="$(mktemp -d "$DIR/.build.XXXXXX")"
cid=""
cleanup() { [ -n "$cid" ] && docker rm -f "$cid" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/root"

if [ "$source" = docker ]; then
  log "exporting $IMAGE ($recipe)"
  cid="$(docker create --label dev.bastion.managed=true --label dev.bastion.expires="$(date -u -d '+10 min' +%Y-%m-%dT%H:%M:%S.000Z)" "$IMAGE" true)"
  docker export "$cid" | tar -C "$work/root" -x --numeric-owner
  docker rm -f "$cid" >/dev/null; cid=""
  docker image inspect -f '{"image":"'"$IMAGE"'","recipe":"'"$recipe"'","env":{{json .Config.Env}},"workdir":{{json .Config.WorkingDir}},"user":{{json .Config.User}}}' "$IMAGE" >"$work/image.json"
else
  command -v debootstrap >/dev/null 2>&1 || { log "installing debootstrap"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2 || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2; }; }
  log "debootstrap --variant=minbase $SUITE (about 35 s)"
  debootstrap --variant=minbase --include="$BASE_PACKAGES" "$SUITE" "$work/root" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$work"/root/var/cache/apt/archives/*.deb "$work"/root/var/lib/apt/lists/* "$work"/root/usr/share/doc/* "$work"/root/usr/share/man/*
  # The sandbox.Dockerfile steps, by hand.
  install -m 0755 "$(sandbox_node)" "$work/root/usr/local/bin/node"
  mkdir -p "$work/root/opt/bastion" "$work/root/workspace" && cp -a "$here/sandbox/." "$work/root/opt/bastion/"
  chmod 0755 "$work"/root/opt/bastion/bin/*
  echo 'bastion:x:1001:1001:bastion sandbox:/tmp:/bin/bash' >>"$work/root/etc/passwd"
  echo 'bastion:x:1001:' >>"$work/root/etc/group"
  printf '{"image":"%s","recipe":"%s","env":["PATH=/opt/bastion/bin:/usr/local/bin:/usr/bin:/bin","HOME=/tmp","NODE_OPTIONS=","LANG=C.UTF-8"],"workdir":"/workspace","user":"1001:1001"}\n' \
    "$IMAGE" "$recipe" >"$work/image.json"
fi

# Mount points bwrap binds over must exist in the (read-only) tree.
mkdir -p "$work/root/proc" "$work/root/dev" "$work/root/tmp" "$work/root/workspace" "$work/root/run/bastion" "$work/root/opt/cursor-agent"
chmod 0755 "$work/root"
rm -rf "$target"
mv "$work" "$target"
chmod 0755 "$target"
ln -sfn "$recipe" "$DIR/$slug"
prune
log "unpacked $IMAGE into $target/root"
printf '%s\n' "$target/root"
