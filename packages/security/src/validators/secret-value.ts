const CODE_WORDS = new Set([
  'string',
  'number',
  'boolean',
  'null',
  'undefined',
  'true',
  'false',
  'none',
  'nil',
  'required',
  'optional',
  'str',
  'int',
  'bytes',
  'any',
  'unknown',
  'object',
  'function',
  'async',
  'await',
  'return',
  'this',
  'self',
  'new',
  'void',
  'redacted',
  'xxxxxx',
  'changeme?',
  'password',
  'secret',
  'token',
  'value',
  'example',
  'placeholder',
  'env',
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

/** `/run/secrets/db`, `~/src/app`, `../conf/x`: an absolute or relative path of two segments or more. */
const PATH_VALUE = /^(?:~|\.{1,2})?\/[\w.-]+(?:\/[\w.-]*)+$/;

/**
 * Whether a keyword rule's value is a file-system path (`PWD=/home/alice/src`,
 * `DB_PASSWORD=/run/secrets/db`): it names where a secret is, not the secret. A path-shaped
 * password (`/x9!k` has one segment and a `!`) still counts as a value.
 */
export function looksLikePath(value: string): boolean {
  const first = value.charCodeAt(0);
  // A path whose user segment was redacted already (`/home/[REDACTED:host-path-user]/src`) is
  // still a path: sanitizing sanitized text must change nothing.
  return (first === 47 || first === 46 || first === 126) && PATH_VALUE.test(value.replace(REDACTED_SEGMENT, 'x'));
}

const REDACTED_SEGMENT = /\[REDACTED:[a-z0-9-]+\]/g;

const isHexCode = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);
const HYPHEN = 45;

/**
 * Whether value is a UUID's shape (8-4-4-4-12 hex digits, either case), by character codes: this
 * runs for most values the keyword rules match (UUIDs are their commonest look-alike), where a
 * regex test cost ~85 ns.
 */
function isUuid(value: string): boolean {
  for (let i = 0; i < 36; i++) {
    const c = value.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23 ? c !== HYPHEN : !isHexCode(c)) return false;
  }
  return true;
}

function isAllHex(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (!isHexCode(value.charCodeAt(i))) return false;
  return true;
}

/** git SHAs, UUIDs, integrity hashes and image digests look random but are not secrets. */
export function isKnownLookAlike(value: string): boolean {
  const n = value.length;
  if ((n === 40 || n === 64) && isAllHex(value)) return true;
  if (n === 36 && isUuid(value)) return true;
  return value.startsWith('sha') && /^sha(?:1|256|384|512)[-:]/.test(value);
}

/** Whether value has an ASCII digit and an ASCII letter (what /\d/ and /[A-Za-z]/ test). */
export function hasDigitAndLetter(value: string): boolean {
  let digit = false;
  let letter = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) digit = true;
    else if ((c | 32) >= 97 && (c | 32) <= 122) letter = true;
    else continue;
    if (digit && letter) return true;
  }
  return false;
}
