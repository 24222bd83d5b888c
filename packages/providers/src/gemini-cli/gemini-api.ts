import type { UpstreamApi } from '../contract/provider-manifest';

/** The error document Google's API sends for a refusal; the Gemini CLI prints its `message`. */
export function googlePermissionDenied(message: string, model: string): string {
  return JSON.stringify({
    error: {
      code: 403,
      message,
      status: 'PERMISSION_DENIED',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'MODEL_NOT_ALLOWED',
          domain: 'bastion',
          metadata: { model },
        },
      ],
    },
  });
}

/** Google's shape for a 429, so a client's own retry logic reads RetryInfo as it would upstream. */
export function googleRateLimited(message: string, retryAfterMs: number): string {
  return JSON.stringify({
    error: {
      code: 429,
      message,
      status: 'RESOURCE_EXHAUSTED',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.RetryInfo',
          retryDelay: `${Math.max(1, Math.ceil(retryAfterMs / 1000))}s`,
        },
      ],
    },
  });
}

/**
 * Google's Generative Language API as the Gemini CLI uses it: the model is named in the path
 * (`/v1beta/models/{model}:streamGenerateContent`), the key travels in `x-goog-api-key`.
 */
export const GEMINI_API: UpstreamApi = {
  name: 'gemini',
  defaultBaseUrl: 'https://generativelanguage.googleapis.com',
  baseUrlEnv: 'GOOGLE_GEMINI_BASE_URL',
  apiKeyEnv: 'GEMINI_API_KEY',
  authHeader: 'x-goog-api-key',
  secret: 'gemini-api-key',
  paths: /^\/(upload\/)?v1(alpha|beta)?\//,
  // /v1beta/models/<model>:<method> and /v1beta/models/<model>; `..` is already resolved by URL.
  model: {
    in: 'path',
    pattern: /^\/(?:upload\/)?v1(?:alpha|beta)?\/models\/([^/:]+)(?::[A-Za-z]+)?$/,
    listing: /^\/(?:upload\/)?v1(?:alpha|beta)?\/models\/?$/,
  },
  // The CLI reads its default model from GEMINI_MODEL (after `-m`, before settings). Pinned to the
  // policy's first allowed model, its own router (a classifier call to a flash-lite model, then
  // whichever model it picks) is bypassed by its override strategy and stays inside the list.
  pinnedModelEnv: 'GEMINI_MODEL',
  errors: { forbidden: googlePermissionDenied, rateLimited: googleRateLimited },
};
