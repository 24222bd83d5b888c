import path from 'node:path';

/**
 * Absolute path of the fake `cursor-agent` executable (packages/testing/bin/cursor-agent): the
 * bundle of fake-cursor-agent-cli.ts, one file with a `#!/usr/bin/env node` shebang, mode 0755. Mount its
 * directory into a sandbox the way the real install is mounted.
 */
export const FAKE_CURSOR_AGENT_PATH = path.resolve(__dirname, '../../bin/cursor-agent');

/** The version string the fake prints for `--version`. */
export const FAKE_CURSOR_AGENT_VERSION = '2026.09.18-fake';

/** The exact stderr lines of the errors the fake (like the real CLI) prints, for parsers' tests. */
export const FAKE_CURSOR_AGENT_MESSAGES = {
  auth: "Error: Authentication required. Please run 'cursor-agent login' first, or set CURSOR_API_KEY environment variable.",
  trust: '⚠ Workspace Trust Required',
  usageLimit:
    "Error: You've hit your usage limit. Upgrade your plan or wait for your limit to reset to keep using Agent.",
  resourceExhausted: 'Error: ConnectError: [resource_exhausted] Error',
} as const;
