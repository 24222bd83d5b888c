# Sourced by the repo's scripts (demo, test-all, first-hour, .ci/run): puts a supported Node first on
# PATH (bootstrapping Node 24 into .tools/node when the host's is older; see ensure-node.sh), so
# `node`, `npx` and every `#!/usr/bin/env node` tool below them run on it.
# shellcheck shell=bash
__bastion_node_bin="$(bash "$(dirname "${BASH_SOURCE[0]}")/ensure-node.sh")" || {
  echo "[use-node] no supported Node (>= 24): see the message above" >&2
  return 1 2>/dev/null || exit 1
}
case ":$PATH:" in
  *":$__bastion_node_bin:"*) ;;
  *) export PATH="$__bastion_node_bin:$PATH" ;;
esac
unset __bastion_node_bin
