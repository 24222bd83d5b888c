import { formatAt } from './decoded-view';

const BACKSLASH = 92;
const PERCENT = 37;
/** Image bytes a marker can be at: `\`, `%`, a unit above U+00FF (saturated), U+00AD. */
const MARKERS = [BACKSLASH, PERCENT, 0xff, 0xad];

const isHex = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 102);

/**
 * The lines of text[0, end) that hold something a decoded view would change: a `\u`, `\x` or `\/`
 * escape, a `%XX`, or a format (Cf) character. Returned as [start, end) pairs in order. This is
 * the prefilter that keeps decoding off the common path: four native byte searches over the
 * text's scan image (`\`, `%`, 0xFF for units above U+00FF and 0xAD, where Cf characters must be;
 * ~0.03 ms/MB each on the bench corpus, against 0.84 ms/MB for one regex pass over the text).
 * `image` covers a prefix of text[0, end); the rest (only where a line is cut) is read as text.
 */
export function encodedLines(text: string, end: number, image: Buffer): number[] {
  const starts: number[] = [];
  let skipTo = 0;
  const mark = (p: number): void => {
    starts.push(p === 0 ? 0 : text.lastIndexOf('\n', p - 1) + 1);
    const nl = text.indexOf('\n', p);
    skipTo = nl === -1 ? text.length : nl;
  };
  const imaged = Math.min(end, image.length);
  /** Checks the marker byte at p; returns where the search goes on. */
  const check = (p: number): number => {
    const c = text.charCodeAt(p);
    if (c === BACKSLASH) {
      let k = p + 1;
      while (k < end && text.charCodeAt(k) === BACKSLASH) k++;
      const e = text.charCodeAt(k);
      if (e === 117 || e === 120 || e === 47) mark(p);
      return k;
    }
    if (c === PERCENT ? isHex(text.charCodeAt(p + 1)) && isHex(text.charCodeAt(p + 2)) : formatAt(text, p)) mark(p);
    return p + 1;
  };
  for (const byte of MARKERS) {
    skipTo = 0;
    for (let p = image.indexOf(byte); p !== -1 && p < imaged; p = image.indexOf(byte, p + 1)) {
      // A run of the byte (wide characters: CJK, emoji; a backslash run) is walked here rather
      // than with one native call each; a marked line is not searched again.
      while (p < imaged && image[p] === byte) p = p >= skipTo ? check(p) : p + 1;
    }
  }
  skipTo = 0;
  for (let p = imaged; p < end;) {
    const c = text.charCodeAt(p);
    p = p >= skipTo && (c === BACKSLASH || c === PERCENT || c >= 0xad) ? check(p) : p + 1;
  }
  if (starts.length === 0) return starts;
  starts.sort((a, b) => a - b);
  const out: number[] = [];
  let last = -1;
  for (const s of starts) {
    if (s === last) continue;
    last = s;
    const nl = text.indexOf('\n', s);
    out.push(s, nl === -1 ? text.length : nl);
  }
  return out;
}
