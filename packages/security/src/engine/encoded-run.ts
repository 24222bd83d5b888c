/**
 * Runs of base64 (or hex) characters around a hit, followed over line wraps: `base64` prints 76
 * columns a line, PEM bodies 64, `xxd -p` 60. A wrap is a line end right after a run of at least
 * MIN_WRAPPED characters that does not end in `=` padding, followed by a line whose leading run ends the line, ends in `=` padding
 * or is closed by a quote or bracket, so a secret's encoding split over lines is one run while the
 * word that starts an ordinary next line is not pulled in.
 */
/** Shortest run a wrapped line ends in; a stream holds a line that ends in one (see endsInEncodedLine). */
export const MIN_WRAPPED = 40;
const NEWLINE = 10;
const CR = 13;
const PAD = 61;
const MIN_TAIL = 4;

const B64 = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-') B64[c.charCodeAt(0)] = 1;
/** Characters of both base64 alphabets and padding. */
export const isBase64Char = (c: number): boolean => c < 128 && B64[c] === 1;

const CLOSERS = new Set([34, 39, 44, 59, 41, 93, 125, 96]);

/** The line break at p (`\n` or `\r\n`): its length, or 0. */
function breakAt(text: string, p: number): number {
  const c = text.charCodeAt(p);
  if (c === NEWLINE) return 1;
  return c === CR && text.charCodeAt(p + 1) === NEWLINE ? 2 : 0;
}

/**
 * [start, end) of the run of `isChar` characters around p, following wraps, at most `reach`
 * characters on either side of p.
 */
export function encodedRunAround(
  text: string,
  p: number,
  reach: number,
  isChar: (c: number) => boolean = isBase64Char,
): [number, number] {
  const low = Math.max(0, p - reach);
  const high = Math.min(text.length, p + reach);
  let s = p;
  for (;;) {
    while (s > low && isChar(text.charCodeAt(s - 1))) s--;
    // At a line start: join the line before when it ends in a long enough run.
    if (s <= low || text.charCodeAt(s - 1) !== NEWLINE) break;
    const eol = s >= 2 && text.charCodeAt(s - 2) === CR ? s - 2 : s - 1;
    let r = eol;
    while (r > low && isChar(text.charCodeAt(r - 1))) r--;
    if (eol - r < MIN_WRAPPED || !wrappableEnd(text, eol)) break;
    s = r;
  }
  let e = p;
  let segment = p;
  while (segment > s && isChar(text.charCodeAt(segment - 1))) segment--;
  for (;;) {
    while (e < high && isChar(text.charCodeAt(e))) e++;
    const br = breakAt(text, e);
    // Padding ends a blob: a line after `=` is not its continuation.
    if (br === 0 || e - segment < MIN_WRAPPED || !wrappableEnd(text, e)) break;
    const next = e + br;
    let r = next;
    while (r < high && isChar(text.charCodeAt(r))) r++;
    const after = text.charCodeAt(r);
    const closed = r === high || breakAt(text, r) > 0 || text.charCodeAt(r - 1) === 61 || CLOSERS.has(after);
    // A last line is at least four characters (base64 comes in fours) and, when short, looks like
    // base64 (padding, or two of lower case, upper case, digits, `+/`): `ok` or `done` after a blob
    // is a word of the next line.
    if (r - next < MIN_TAIL || !closed || (r - next < MIN_WRAPPED / 2 && !looksEncoded(text, next, r))) break;
    segment = next;
    e = r;
  }
  return [s, e];
}

/** Whether text[start, end) ends in padding or mixes two character classes of base64. */
function looksEncoded(text: string, start: number, end: number): boolean {
  if (text.charCodeAt(end - 1) === PAD) return true;
  let classes = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    classes |= c >= 97 && c <= 122 ? 1 : c >= 65 && c <= 90 ? 2 : c >= 48 && c <= 57 ? 4 : 8;
  }
  return (classes & (classes - 1)) !== 0;
}

/** Whether text[start, end) crosses a line end. */
export function crossesLine(text: string, start: number, end: number): boolean {
  const nl = text.indexOf('\n', start);
  return nl !== -1 && nl < end;
}

/** text[start, end) without its line breaks. */
export function joinedRun(text: string, start: number, end: number): string {
  return text.slice(start, end).replace(/\r?\n/g, '');
}

/**
 * Whether a line that ends at `eol` in a run of MIN_WRAPPED or more characters can be continued by
 * the next: not after `=` padding, and not after a rule of one repeated character (`-----…`).
 */
function wrappableEnd(text: string, eol: number): boolean {
  const last = text.charCodeAt(eol - 1);
  if (last === PAD) return false;
  for (let i = eol - 2; i >= eol - MIN_WRAPPED; i--) if (text.charCodeAt(i) !== last) return true;
  return false;
}

/**
 * Whether the text before `limit` (a line start) ends in a line that a wrapped blob's next line may
 * continue (see encodedRunAround): such a line waits for the next one.
 */
export function endsInEncodedLine(text: string, limit: number): boolean {
  if (limit === 0 || text.charCodeAt(limit - 1) !== NEWLINE) return false;
  let e = limit - 1;
  if (e > 0 && text.charCodeAt(e - 1) === CR) e--;
  let s = e;
  while (s > 0 && e - s < MIN_WRAPPED && isBase64Char(text.charCodeAt(s - 1))) s--;
  return e - s >= MIN_WRAPPED && wrappableEnd(text, e);
}
