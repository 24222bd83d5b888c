import type { ModelLocation } from '@bastion/providers';

/**
 * The policy's `providers[].models` applied to the model API proxy. A sandboxed agent can pick any
 * model (the Gemini CLI's own router does), so the check belongs where the key is added. Where the
 * model is named comes from the upstream's declaration: in the URL path (Gemini) or in a field of
 * the JSON body (Anthropic).
 */

export type ModelVerdict = { allow: true; model?: string } | { allow: false; model: string; reason: string };

/** Largest request body held to read the model from (Anthropic's own Messages API limit is 32 MB). */
export const MAX_MODEL_BODY_BYTES = 32 * 1024 * 1024;

/**
 * Which model a path-addressed API request names, judged against `allowed` (absent: any model).
 * Paths that can reach a model without naming it in the URL (tuned models, cached contents,
 * batches) are refused while an allowlist is in force, because their body or a stored object picks it.
 */
export function checkModelPath(
  location: Extract<ModelLocation, { in: 'path' }>,
  pathname: string,
  allowed: readonly string[] | undefined,
): ModelVerdict {
  if (allowed === undefined) return { allow: true };
  if (location.listing?.test(pathname)) return { allow: true };
  const m = location.pattern.exec(pathname);
  if (!m || m[1] === undefined) {
    return {
      allow: false,
      model: '(unnamed)',
      reason: `${pathname} does not name an allowed model; the policy allows only ${allowed.join(', ')}`,
    };
  }
  let model: string;
  try {
    model = decodeURIComponent(m[1]);
  } catch {
    return { allow: false, model: m[1], reason: 'the model name in the path is not valid percent-encoding' };
  }
  return judge(model, allowed);
}

/**
 * Which model a body-addressed API request names (the top-level string `field` of its JSON body),
 * judged against `allowed`. A request without a body names none and passes; while an allowlist is
 * in force, a body that is not JSON or names no model is refused (it could reach a model the
 * list does not hold). Without an allowlist the model is still read, for usage accounting.
 */
export function checkModelInBody(field: string, body: Buffer, allowed: readonly string[] | undefined): ModelVerdict {
  if (body.length === 0) return { allow: true };
  let named: unknown;
  try {
    const doc: unknown = JSON.parse(body.toString('utf8'));
    named =
      doc !== null && typeof doc === 'object' && !Array.isArray(doc)
        ? (doc as Record<string, unknown>)[field]
        : undefined;
  } catch {
    if (allowed === undefined) return { allow: true };
    return {
      allow: false,
      model: '(unnamed)',
      reason: `the request body is not JSON, so it names no allowed model; the policy allows only ${allowed.join(', ')}`,
    };
  }
  if (typeof named !== 'string' || named.length === 0) {
    if (allowed === undefined) return { allow: true };
    return {
      allow: false,
      model: '(unnamed)',
      reason: `the request does not name a model in "${field}"; the policy allows only ${allowed.join(', ')}`,
    };
  }
  if (allowed === undefined) return { allow: true, model: named };
  return judge(named, allowed);
}

function judge(model: string, allowed: readonly string[]): ModelVerdict {
  if (!allowed.includes(model))
    return {
      allow: false,
      model,
      reason: `model "${model}" is not allowed by the policy (allowed: ${allowed.join(', ')})`,
    };
  return { allow: true, model };
}
