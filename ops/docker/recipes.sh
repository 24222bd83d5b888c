# Sourced by build.sh, rootfs.sh and gemini-cli/build.sh: the image recipes' hashes and the one
# way images are built. A recipe hash covers content only (file bytes, names relative to
# ops/docker, versions), never where the checkout sits: two clones on one host agree on
# bastion/*:latest instead of rebuilding and retagging it under each other.
# Needs: $here (ops/docker), $SUITE, $BASE_PACKAGES.

hash_of() { sha256sum | cut -c1-16; }
# `name  hash` for each file, names relative to ops/docker.
content_of() { (cd "$here" && find "$@" -type f | LC_ALL=C sort | xargs sha256sum); }

base_recipe() { printf 'base v1 %s %s %s\n' "$SUITE" minbase "$BASE_PACKAGES" | hash_of; }
# The Node binary the sandbox image carries: the supported one (>= 24) that scripts/ensure-node.sh
# finds or bootstraps into .tools/node, so the images never ship an end-of-life host node. (A bare
# copy of ops/docker without the repo's scripts, as the recipe tests make, uses the node on PATH.)
sandbox_node() {
  local ensure="$here/../../scripts/ensure-node.sh" bin
  if [ -f "$ensure" ]; then bin="$(bash "$ensure")" || return 1; printf '%s\n' "$(readlink -f "$bin/node")"
  else readlink -f "$(command -v node)"; fi
}
sandbox_recipe() {
  # v2: content-only (v1 hashed absolute paths). The node it copies is hashed by its bytes.
  local node; node="$(sandbox_node)" || return 1
  { echo 'sandbox v2'; base_recipe; cat "$here/sandbox.Dockerfile"; "$node" --version; sha256sum < "$node";
    content_of sandbox; } | hash_of
}

# Docker's classic builder prints a deprecation banner on every build; BuildKit needs the buildx
# plugin, which this kind of host lacks. Use BuildKit when it is there, else the classic builder
# with the banner dropped (after saying so once per run of the script).
if [ -z "${DOCKER_BUILDKIT:-}" ]; then
  if docker buildx version >/dev/null 2>&1; then export DOCKER_BUILDKIT=1; else export DOCKER_BUILDKIT=0; fi
fi
drop_banner() { awk '/^DEPRECATED: The legacy builder is deprecated/ { skip = 1; next } skip && (/^ / || /^$/) { next } { skip = 0; print }'; }

# docker_build TAG DOCKERFILE CONTEXT [build args…]: progress (steps, context size) on stderr,
# prefixed, then the image's size.
docker_build() {
  local tag="$1" file="$2" ctx="$3"; shift 3
  if [ "$DOCKER_BUILDKIT" = 0 ] && [ -z "${BASTION_BANNER_NOTED:-}" ]; then
    log "classic builder (no buildx plugin for BuildKit); its deprecation notice is not repeated"
    export BASTION_BANNER_NOTED=1
  fi
  local progress=(); [ "$DOCKER_BUILDKIT" = 1 ] && progress=(--progress=plain)
  docker build "${progress[@]}" -f "$file" "$@" -t "$tag" "$ctx" 2>&1 | drop_banner | sed -u 's/^/[build]   /' >&2
  local size; size="$(docker image inspect -f '{{.Size}}' "$tag")"
  log "$tag: $(numfmt --to=iec --suffix=B "$size" 2>/dev/null || echo "$size bytes")"
}
