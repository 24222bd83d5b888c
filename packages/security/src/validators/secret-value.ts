const CODE_WORDS = new Set([
  'string', 'number', 'boolean', 'null', 'undefined', 'true', 'false', 'none', 'nil', 'required', 'optional', 'str',
  'int', 'bytes', 'any', 'unknown', 'object', 'function', 'async', 'await', 'return', 'this', 'self', 'new', 'void',
  'redacted', 'xxxxxx', 'changeme?', 'password', 'secret', 'token', 'value', 'example', 'placeholder', 'env',
]);

const CODE_WORD_MAX = Math.max(...[...CODE_WORDS].map((w) => w.length));
const QUOTED_ENDS = /^["'`]|["'`,;]$/;
/** $VAR, ${VAR}, %VAR%, {{ var }}, <placeholder>, [REDACTED…], (…), ****. */
const CODE_START = /^[$%{<[(*]/;
const ACCESSOR = /^(?:process\.env|os\.environ|env\.|self\.|this\.|req\.|config\.|settings\.|options\.|props\.)/i;

/**
 * Values that are code or placeholders, not secrets: `string`, `process.env.X`, `${VAR}`,
 * `getPassword()`. Each test runs only when it can match (length, first character, a dot): this
 * runs for every value a keyword rule matches.
 */
export function looksLikeCode(value: string): boolean {
  const v = QUOTED_ENDS.test(value) ? value.replace(/^["'`]|["'`,;]$/g, '') : value;
  if (v.length === 0) return true;
  if (v.length <= CODE_WORD_MAX && CODE_WORDS.has(v.toLowerCase())) return true;
  if (CODE_START.test(v) || /[()]/.test(v)) return true;
  if (v.includes('.') && ACCESSOR.test(v)) return true;
  const first = v.charCodeAt(0);
  return (first === 120 || first === 88) && /^x+$/i.test(v);
}

/** git SHAs, UUIDs, integrity hashes and image digests look random but are not secrets. */
export function isKnownLookAlike(value: string): boolean {
  const n = value.length;
  if ((n === 40 || n === 64) && /^[0-9a-f]+$/i.test(value)) return true;
  if (n === 36 && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return true;
  return value.startsWith('sha') && /^sha(?:1|256|384|512)[-:]/.test(value);
}
