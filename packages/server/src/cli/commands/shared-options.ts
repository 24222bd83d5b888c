/**
 * Options several commands take with one meaning, defined once so their help cannot drift apart:
 * `.option(...CONFIG_OPTION)`. A command whose option means something narrower keeps its own text.
 */
export const POLICY_OPTION = ['--policy <file>', 'policy file (default: the embedded policy)'] as const;

export const CONFIG_OPTION = [
  '--config <file>',
  'config file (default: $BASTION_CONFIG, else $XDG_CONFIG_HOME/bastion/config.yaml or /etc/bastion/config.yaml)',
] as const;

export const FLAGS_FILE_OPTION = [
  '--flags-file <file>',
  'flags file that overrides FF_* variables (default: $BASTION_FLAGS_FILE; never one in the working directory)',
] as const;

/** The backend of a long-running command (serve, mcp, worker): the FF_DEFAULT_BACKEND flag may pick it. */
export const SERVICE_BACKEND_OPTION = [
  '--backend <backend>',
  'sandbox backend: docker or bwrap (default: FF_DEFAULT_BACKEND, $BASTION_BACKEND, else docker)',
] as const;

/** Where a command that takes tasks from callers (serve, mcp) accepts their workspaces; used with collectOption and []. */
export const ACCEPT_WORKSPACE_ROOT_OPTION = [
  '--workspace-root <dir>',
  'accept workspaces only below this directory (repeatable); without any root, a task naming a workspace is refused',
] as const;
