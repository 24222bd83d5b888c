import type { OutputSanitizer, Redaction } from '@bastion/security';

/**
 * A copy of `value` with every string (object keys too) run through the sanitizer, at any depth,
 * the way JSON.stringify would see it: errors become their name, message, stack, cause and own
 * fields; other objects with toJSON (Date, Buffer) are cleaned in their JSON form. Each sanitize
 * call's report goes to `onRedactions`.
 */
export function cleanDeep<T>(
  value: T,
  sanitizer: Pick<OutputSanitizer, 'sanitize'>,
  onRedactions?: (found: Redaction[]) => void,
): T {
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      if (v.length === 0) return v;
      const out = sanitizer.sanitize(v);
      if (out.redactions.length > 0) onRedactions?.(out.redactions);
      return out.text;
    }
    if (v === null || typeof v !== 'object') return v;
    // A cycle cannot be written as JSON; pino prints it as "[Circular]" too.
    if (seen.has(v)) return '[Circular]';
    seen.add(v);
    let out: unknown;
    if (Array.isArray(v)) out = v.map(walk);
    else if (v instanceof Error) {
      const fields: Record<string, unknown> = { type: v.name, message: walk(v.message) };
      if (v.stack !== undefined) fields.stack = walk(v.stack);
      for (const [k, inner] of Object.entries(v))
        if (k !== 'message' && k !== 'stack') fields[walk(k) as string] = walk(inner);
      if (v.cause !== undefined) fields.cause = walk(v.cause);
      out = fields;
    } else if (typeof (v as { toJSON?: unknown }).toJSON === 'function') {
      out = walk((v as { toJSON(): unknown }).toJSON());
    } else {
      const fields: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) fields[walk(k) as string] = walk(inner);
      out = fields;
    }
    seen.delete(v);
    return out;
  };
  return walk(value) as T;
}
