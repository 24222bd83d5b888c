import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** Headers that carry a credential in either direction; none of them may reach the sandbox. */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'x-goog-api-key',
  'x-api-key',
  'cookie',
  'set-cookie',
  'set-cookie2',
]);

/** Connection-level headers: they describe the gateway's upstream hop, not the sandbox's. */
const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
]);

export interface ScrubbedHeaders {
  headers: OutgoingHttpHeaders;
  /** Names of the headers that were dropped (never their values, nor a name that holds a secret). */
  dropped: string[];
}

/**
 * The response headers the sandbox may see: no credential headers, no upstream cookies, and no
 * header whose name or value contains a known secret (an upstream that reflects the request's
 * `x-goog-api-key` under any name would otherwise hand the real key to the agent).
 */
export function scrubResponseHeaders(
  input: IncomingHttpHeaders,
  secrets: readonly string[],
  options: { dropCredentials: boolean },
): ScrubbedHeaders {
  const headers: OutgoingHttpHeaders = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower)) continue;
    if ((options.dropCredentials && CREDENTIAL_HEADERS.has(lower)) || carriesSecret(lower, value, secrets)) {
      // The list is logged: a name that itself carries a secret is reported without it.
      dropped.push(carriesSecret(lower, '', secrets) ? '(a header named after a secret)' : lower);
      continue;
    }
    headers[lower] = value;
  }
  return { headers, dropped };
}

function carriesSecret(name: string, value: string | string[], secrets: readonly string[]): boolean {
  const values = Array.isArray(value) ? value : [value];
  for (const secret of secrets) {
    if (secret.length === 0) continue;
    const lowerSecret = secret.toLowerCase();
    if (name.includes(lowerSecret)) return true;
    // Header values are case-insensitive in places (e.g. some proxies lower-case them): compare so.
    if (values.some((v) => v.toLowerCase().includes(lowerSecret))) return true;
  }
  return false;
}
