const CODE_WORDS = new Set([
  'string', 'number', 'boolean', 'null', 'undefined', 'true', 'false', 'none', 'nil', 'required', 'optional', 'str',
  'int', 'bytes', 'any', 'unknown', 'object', 'function', 'async', 'await', 'return', 'this', 'self', 'new', 'void',
  'redacted', 'xxxxxx', 'changeme?', 'password', 'secret', 'token', 'value', 'example', 'placeholder', 'env',
]);

const QUOTED_ENDS = /^["'`]|["'`,;]$/;

/** Values that are code or placeholders, not secrets: `string`, `process.env.X`, `${VAR}`, `getPassword()`. */
export function looksLikeCode(value: string): boolean {
  const v = QUOTED_ENDS.test(value) ? value.replace(/^["'`]|["'`,;]$/g, '') : value;
  if (v.length === 0) return true;
  if (CODE_WORDS.has(v.toLowerCase())) return true;
  if (/^[$%{<[(*]/.test(v) || v.startsWith('[REDACTED')) return true;
  if (/[()]/.test(v)) return true;
  if (/^(?:process\.env|os\.environ|env\.|self\.|this\.|req\.|config\.|settings\.|options\.|props\.)/i.test(v)) return true;
  if (/^\*+$/.test(v) || /^x+$/i.test(v)) return true;
  return false;
}

/** git SHAs, UUIDs, integrity hashes and image digests look random but are not secrets. */
export function isKnownLookAlike(value: string): boolean {
  const n = value.length;
  if ((n === 40 || n === 64) && /^[0-9a-f]+$/i.test(value)) return true;
  if (n === 36 && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return true;
  return value.startsWith('sha') && /^sha(?:1|256|384|512)[-:]/.test(value);
}
