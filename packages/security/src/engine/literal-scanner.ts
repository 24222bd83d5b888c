/**
 * Multi-literal search in one pass (Wu–Manber with 2-character blocks). All patterns are matched
 * ASCII-case-insensitively in the scan and verified exactly afterwards when they are case-sensitive,
 * so one pass serves both kinds. It skips ahead by up to (shortest pattern − 1) characters per step
 * and touches only a few table entries, which beats a V8 alternation regex by several times.
 */
export interface LiteralPattern {
  text: string;
  caseSensitive: boolean;
}

/** Called for every occurrence: position and the pattern's index. */
export type LiteralHit = (pos: number, pattern: number) => void;

const FOLD = buildFold();

function buildFold(): Uint8Array {
  const f = new Uint8Array(65536);
  for (let c = 0; c < 65536; c++) {
    if (c >= 65 && c <= 90) f[c] = c + 32;
    else if (c < 127) f[c] = c;
    else f[c] = 127;
  }
  return f;
}

export class LiteralScanner {
  private readonly m: number;
  private readonly shift: Uint8Array;
  private readonly buckets: (number[] | undefined)[];
  private readonly folded: string[];
  private readonly patterns: LiteralPattern[];

  constructor(patterns: LiteralPattern[]) {
    this.patterns = patterns;
    this.folded = patterns.map((p) => p.text.toLowerCase());
    this.m = Math.max(2, Math.min(...patterns.map((p) => p.text.length)));
    const m = this.m;
    this.shift = new Uint8Array(16384).fill(m - 1);
    this.buckets = new Array(16384);
    this.folded.forEach((pat, index) => {
      for (let j = 1; j < m; j++) {
        const h = (FOLD[pat.charCodeAt(j - 1)] << 7) | FOLD[pat.charCodeAt(j)];
        const s = m - 1 - j;
        if (s < this.shift[h]) this.shift[h] = s;
        if (s === 0) (this.buckets[h] ??= []).push(index);
      }
    });
  }

  get size(): number {
    return this.patterns.length;
  }

  /** Reports every occurrence starting in [from, to) and ending by `to`. */
  scan(text: string, from: number, to: number, onHit: LiteralHit): void {
    if (this.patterns.length === 0) return;
    const m = this.m;
    const shift = this.shift;
    const buckets = this.buckets;
    let i = from + m - 1;
    while (i < to) {
      const h = (FOLD[text.charCodeAt(i - 1)] << 7) | FOLD[text.charCodeAt(i)];
      const s = shift[h];
      if (s !== 0) {
        i += s;
        continue;
      }
      const start = i - m + 1;
      const list = buckets[h]!;
      for (let k = 0; k < list.length; k++) {
        const idx = list[k];
        if (this.verify(text, start, to, idx)) onHit(start, idx);
      }
      i++;
    }
  }

  private verify(text: string, start: number, to: number, idx: number): boolean {
    const pat = this.patterns[idx];
    const len = pat.text.length;
    if (start + len > to) return false;
    if (pat.caseSensitive) return text.startsWith(pat.text, start);
    const f = this.folded[idx];
    for (let j = 0; j < len; j++) if (FOLD[text.charCodeAt(start + j)] !== f.charCodeAt(j)) return false;
    return true;
  }
}
