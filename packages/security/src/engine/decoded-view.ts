/**
 * What a line reads as after the decodings a consumer may apply to it: JSON and C-style escapes
 * (`\u0079`, `\\u0079`, `\/`, `\x79`), `%XX` (percent-encoding, on any byte, as UTF-8) and
 * format characters (Unicode Cf: U+200B zero-width space, U+00AD soft hyphen, U+FEFF, ...)
 * removed. Rules run on the view; each unit of the view knows the source range it came from, so a
 * match is redacted over the whole encoded span.
 */
export interface DecodedView {
  readonly text: string;
  /** Source range [from[i], to[i]) of view unit i. */
  readonly from: Int32Array;
  readonly to: Int32Array;
}

const BACKSLASH = 92;
const PERCENT = 37;
/** Unicode Cf (format) characters: invisible, so inserted between a token's characters to break matching. */
const FORMAT = /\p{Cf}/u;

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** The value of `n` hex digits at text[at], or -1. */
function hexAt(text: string, at: number, n: number, end: number): number {
  if (at + n > end) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = hexValue(text.charCodeAt(at + i));
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * A cheap test that passes every Cf code unit (and a few others): U+00AD, U+0600–U+08E2, U+180E,
 * U+2000–U+206F, U+FEFF, U+FFF9–U+FFFB, and high surrogates (the supplementary Cf characters).
 */
export function maybeFormat(c: number): boolean {
  return (
    c === 0xad ||
    (c >= 0x2000 && c <= 0x206f) ||
    (c >= 0xd800 && c <= 0xdbff) ||
    c === 0xfeff ||
    (c >= 0xfff9 && c <= 0xfffb) ||
    (c >= 0x600 && c <= 0x8e2) ||
    c === 0x180e
  );
}

/** Whether text[i] starts a Cf character. */
export function formatAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (!maybeFormat(c)) return false;
  return c >= 0xd800 ? FORMAT.test(String.fromCodePoint(text.codePointAt(i)!)) : isFormat(c);
}

function isFormat(code: number): boolean {
  // Cf characters are U+00AD and from U+0600 on; the regex runs only for those.
  return code === 0xad || (code >= 0x600 && FORMAT.test(String.fromCharCode(code)));
}

/** Length of the UTF-8 sequence a lead byte starts, or 0 when it cannot start one. */
function utf8Length(b: number): number {
  return b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
}

class ViewBuilder {
  private readonly units: number[] = [];
  private readonly from: number[] = [];
  private readonly to: number[] = [];
  changed = false;

  push(code: number, from: number, to: number): void {
    if (code > 0xffff) {
      code -= 0x10000;
      this.push(0xd800 + (code >> 10), from, to);
      this.push(0xdc00 + (code & 0x3ff), from, to);
      return;
    }
    this.units.push(code);
    this.from.push(from);
    this.to.push(to);
  }

  /** The code point made of the surrogate pair whose high half was pushed last, if `low` completes it. */
  pairWithLast(low: number): number {
    const high = this.units[this.units.length - 1];
    return high >= 0xd800 && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff
      ? 0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
      : -1;
  }

  pop(): void {
    this.units.pop();
    this.from.pop();
    this.to.pop();
  }

  lastFrom(): number {
    return this.from[this.from.length - 1];
  }

  view(): DecodedView {
    let text = '';
    for (let i = 0; i < this.units.length; i += 8192) text += String.fromCharCode(...this.units.slice(i, i + 8192));
    return { text, from: Int32Array.from(this.from), to: Int32Array.from(this.to) };
  }
}

/**
 * The decoded view of text[start, end), or undefined when nothing in it decodes. Escaped escapes
 * (`\\u0079`, what JSON inside a JSON string holds) decode as one: the consumer may parse twice.
 */
export function decodeView(text: string, start: number, end: number): DecodedView | undefined {
  const b = new ViewBuilder();
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) {
      let k = i;
      while (k < end && text.charCodeAt(k) === BACKSLASH) k++;
      const kind = text.charCodeAt(k);
      const n = kind === 117 ? 4 : kind === 120 ? 2 : kind === 47 ? 0 : -1;
      const value = n > 0 ? hexAt(text, k + 1, n, end) : n === 0 ? 47 : -1;
      if (value >= 0) {
        const stop = k + 1 + n;
        b.changed = true;
        const pair = value >= 0xdc00 && value <= 0xdfff ? b.pairWithLast(value) : -1;
        if (pair >= 0) {
          // An escaped surrogate pair (`\ud83d\ude00`) is one character, which may be a format one.
          const first = b.lastFrom();
          b.pop();
          if (!isFormat(pair)) b.push(pair, first, stop);
        } else if (!isFormat(value)) b.push(value, i, stop);
        i = stop;
        continue;
      }
      for (; i < k; i++) b.push(BACKSLASH, i, i + 1);
      continue;
    }
    if (c === PERCENT) {
      const byte = hexAt(text, i + 1, 2, end);
      if (byte >= 0) {
        i = pushPercent(text, i, end, byte, b);
        continue;
      }
    } else if (c === 0xad || (c >= 0x600 && isFormat(c))) {
      b.changed = true;
      i++;
      continue;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff && FORMAT.test(String.fromCodePoint(cp))) {
        b.changed = true;
        i += 2;
        continue;
      }
    }
    b.push(c, i, i + 1);
    i++;
  }
  return b.changed ? b.view() : undefined;
}

/** Decodes the %XX sequence at `at` (first byte `byte`) as one UTF-8 character, or as that byte. */
function pushPercent(text: string, at: number, end: number, byte: number, b: ViewBuilder): number {
  b.changed = true;
  const len = utf8Length(byte);
  if (len > 1) {
    let cp = byte & (0xff >> (len + 1));
    let ok = true;
    for (let j = 1; j < len && ok; j++) {
      const next = text.charCodeAt(at + 3 * j) === PERCENT ? hexAt(text, at + 3 * j + 1, 2, end) : -1;
      if (next < 0x80 || next > 0xbf) ok = false;
      else cp = (cp << 6) | (next & 0x3f);
    }
    if (ok && cp >= 0x80 && !(cp >= 0xd800 && cp <= 0xdfff) && cp <= 0x10ffff) {
      if (!isFormat(cp)) b.push(cp, at, at + 3 * len);
      return at + 3 * len;
    }
  }
  b.push(byte, at, at + 3);
  return at + 3;
}

/** The view `inner` (decoded from `outer.text`) with its units mapped to `outer`'s source. */
export function composeViews(outer: DecodedView, inner: DecodedView): DecodedView {
  const from = new Int32Array(inner.text.length);
  const to = new Int32Array(inner.text.length);
  for (let i = 0; i < inner.text.length; i++) {
    from[i] = outer.from[inner.from[i]];
    to[i] = outer.to[inner.to[i] - 1];
  }
  return { text: inner.text, from, to };
}

/** Maps a span of the view back to the source range it was decoded from. */
export function sourceSpan(view: DecodedView, start: number, end: number): [number, number] {
  return [view.from[start], view.to[end - 1]];
}
