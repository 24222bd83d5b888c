import type { UpstreamApi } from '../contract/provider-manifest';

function anthropicError(type: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message } });
}

/**
 * Anthropic's Messages API as Claude Code uses it (OBSERVED.md in @bastion/testing's fake): the
 * model is named in the JSON body's `model`, the key travels in `x-api-key`, and the only calls
 * are `POST /v1/messages` (plus `count_tokens` and the model listing some versions make).
 */
export const ANTHROPIC_API: UpstreamApi = {
  name: 'anthropic',
  defaultBaseUrl: 'https://api.anthropic.com',
  baseUrlEnv: 'ANTHROPIC_BASE_URL',
  apiKeyEnv: 'ANTHROPIC_API_KEY',
  authHeader: 'x-api-key',
  secret: 'anthropic-api-key',
  paths: /^\/v1\/(messages|messages\/count_tokens|models(\/[^/]+)?)$/,
  model: { in: 'body', field: 'model' },
  // Claude Code's default model when no --model is given; pinned, it stays inside the policy's list.
  pinnedModelEnv: 'ANTHROPIC_MODEL',
  errors: {
    forbidden: (message) => anthropicError('permission_error', message),
    rateLimited: (message) => anthropicError('rate_limit_error', message),
  },
};
