/**
 * The policy's `providers[].models` applied to the provider API proxy. A sandboxed agent can pick
 * any model by URL (the Gemini CLI's own router does), so the check belongs where the key is added.
 */

export type ModelVerdict = { allow: true; model?: string } | { allow: false; model: string; reason: string };

// /v1beta/models/<model>:<method> and /v1beta/models/<model>; `..` is already resolved by URL.
const MODEL_PATH = /^\/(?:upload\/)?v1(?:alpha|beta)?\/models\/([^/:]+)(?::[A-Za-z]+)?$/;
const MODEL_LIST = /^\/(?:upload\/)?v1(?:alpha|beta)?\/models\/?$/;

/**
 * Which model a provider API path addresses, judged against `allowed` (absent: any model). Paths
 * that can reach a model without naming it in the URL (tuned models, cached contents, batches)
 * are refused while an allowlist is in force, because their body or a stored object picks it.
 */
export function checkModelPath(pathname: string, allowed: readonly string[] | undefined): ModelVerdict {
  if (allowed === undefined) return { allow: true };
  if (MODEL_LIST.test(pathname)) return { allow: true };
  const m = MODEL_PATH.exec(pathname);
  if (!m) {
    return { allow: false, model: '(unnamed)', reason: `${pathname} does not name an allowed model; the policy allows only ${allowed.join(', ')}` };
  }
  let model: string;
  try {
    model = decodeURIComponent(m[1]);
  } catch {
    return { allow: false, model: m[1], reason: 'the model name in the path is not valid percent-encoding' };
  }
  if (!allowed.includes(model)) {
    return { allow: false, model, reason: `model "${model}" is not allowed by the policy (allowed: ${allowed.join(', ')})` };
  }
  return { allow: true, model };
}

/** The error document Google's API sends for a refusal; the Gemini CLI prints its `message`. */
export function googlePermissionDenied(message: string, model: string): string {
  return JSON.stringify({
    error: {
      code: 403,
      message,
      status: 'PERMISSION_DENIED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'MODEL_NOT_ALLOWED', domain: 'bastion', metadata: { model } }],
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
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${Math.max(1, Math.ceil(retryAfterMs / 1000))}s` }],
    },
  });
}
