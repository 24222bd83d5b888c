import type { ProviderManifest } from '../contract/provider-manifest';

/** The secret-store name of Cursor's API key (CURSOR_API_KEY / CURSOR_API_KEY_FILE on the host). */
export const CURSOR_API_KEY_SECRET = 'cursor-api-key';

/** Where the host's agent install directory is mounted read-only inside the sandbox. */
export const CURSOR_AGENT_MOUNT = '/opt/cursor-agent';

/**
 * Cursor's CLI agent: taken from the host (it cannot be installed into an image offline), run in
 * the plain sandbox image, talking to Cursor's own backend through the CONNECT proxy (no model API
 * behind the reverse proxy). It edits, so its changes are applied only under FF_CURSOR_AUTOFIX.
 */
export const CURSOR_MANIFEST: ProviderManifest = {
  id: 'cursor',
  image: 'sandbox',
  upstreams: [],
  capabilities: { analyze: true, edit: true },
  flags: { autofix: 'FF_CURSOR_AUTOFIX' },
  // cursor-agent talks to Cursor's backend itself (CONNECT proxy): its key has to be in the sandbox.
  sandboxSecrets: [{ env: 'CURSOR_API_KEY', secret: CURSOR_API_KEY_SECRET }],
  hostBinary: {
    command: 'cursor-agent',
    pathEnv: 'BASTION_CURSOR_AGENT',
    mountPath: CURSOR_AGENT_MOUNT,
    networkEnv: 'BASTION_CURSOR_NETWORK',
    installHint:
      "Install Cursor's CLI on this host (curl https://cursor.com/install -fsS | bash), or point Bastion at it with --agent-path, the config key providers.cursor.agentPath or BASTION_CURSOR_AGENT",
  },
};
