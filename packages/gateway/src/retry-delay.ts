/** Gemini's per-minute quotas: the wait assumed when a 429 carries no hint at all. */
export const DEFAULT_RETRY_AFTER_MS = 60_000;

function durationMs(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(value);
    return m ? Math.round(Number(m[1]) * 1000) : undefined;
  }
  if (value !== null && typeof value === 'object') {
    const { seconds, nanos } = value as { seconds?: unknown; nanos?: unknown };
    const s = Number(seconds ?? 0);
    const n = Number(nanos ?? 0);
    if (Number.isFinite(s) && Number.isFinite(n)) return Math.round(s * 1000 + n / 1e6);
  }
  return undefined;
}

/**
 * How long to wait after an upstream 429: google.rpc.RetryInfo.retryDelay in the error body
 * ("2s", "1.5s"), else the Retry-After header (seconds or an HTTP date), else the default.
 */
export function retryAfterFrom(body: string, retryAfterHeader: string | undefined, now: number = Date.now()): number {
  try {
    const doc = JSON.parse(body) as { error?: { details?: unknown } } | Array<{ error?: { details?: unknown } }>;
    const error = Array.isArray(doc) ? doc[0]?.error : doc.error;
    const details = Array.isArray(error?.details) ? (error.details as Record<string, unknown>[]) : [];
    for (const d of details) {
      if (typeof d['@type'] === 'string' && d['@type'].endsWith('google.rpc.RetryInfo')) {
        const ms = durationMs(d.retryDelay);
        if (ms !== undefined) return ms;
      }
    }
  } catch {
    // Not JSON: fall through to the header.
  }
  if (retryAfterHeader !== undefined) {
    const trimmed = retryAfterHeader.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
    const date = Date.parse(trimmed);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return DEFAULT_RETRY_AFTER_MS;
}
