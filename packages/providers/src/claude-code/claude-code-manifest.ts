import type { ProviderManifest } from '../contract/provider-manifest';
import { ANTHROPIC_API } from './anthropic-api';

/**
 * Anthropic's Claude Code CLI in its own image (ops/docker/claude-code), reaching the Messages API
 * only through the gateway. It edits, so its changes come back as a diff and are applied only
 * under FF_CLAUDE_CODE_AUTOFIX, as Cursor's.
 */
export const CLAUDE_CODE_MANIFEST: ProviderManifest = {
  id: 'claude-code',
  image: 'claude-code',
  upstreams: [ANTHROPIC_API],
  capabilities: { analyze: true, edit: true },
  flags: { autofix: 'FF_CLAUDE_CODE_AUTOFIX' },
  defaultModelEnv: 'BASTION_CLAUDE_CODE_MODEL',
};
