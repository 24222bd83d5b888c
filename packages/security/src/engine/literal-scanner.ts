import { type ImageRef, ScanModule } from './scan-module';

/**
 * One pass over a text's image (one byte per UTF-16 unit, so offsets are the string's; units
 * above U+00FF read as 0xFF, so the image is exact for every ASCII test) that finds every
 * occurrence of a set of literals (Wu–Manber with 2-character blocks) and, in a second pass of
 * sixteen bytes a step, every run of at least nine digits, or eight after a + (the only places a
 * phone number, SSN, card or IBAN can be). Literals are hashed ASCII-case-folded (`c | 32`) and
 * verified exactly, so case-sensitive and case-insensitive anchors share the pass. The loop skips
 * up to three characters per step and never visits a character twice; the shift table is folded
 * to 7 bits per byte (16 KiB, stays in L1). The tables are built here; the loops are compiled
 * WebAssembly (assembly/scan.ts): on the bench corpus the scan with its digit runs took ~1.4 ms/MB
 * there, against ~3.9 ms/MB for the same work in JavaScript.
 */
export interface LiteralPattern {
  text: string;
  caseSensitive: boolean;
  /**
   * A three-character literal scanned as "any character, then the literal": it gets the skipping
   * of a four-character pattern. Hits report the literal's own position.
   */
  afterAny?: boolean;
}

/** An anchor of one to three characters, with optional byte bitmaps (256 entries) for the bytes around it. */
export interface ShortAnchor {
  text: string;
  before?: Uint8Array;
  after?: Uint8Array;
}

/** Receives literal hits (pattern ≥ 0) and digit runs (pattern −1, at the run start and every 32 characters). */
export type ScanHit = (pos: number, pattern: number) => void;

/** A run's third word: its digit count in the low 24 bits, its RUN_SHAPE bits above. */
const SHAPE_SHIFT = 24;
const RUN_DIGITS = (1 << SHAPE_SHIFT) - 1;

/** A digit run's hits are this far apart, so windows of ±48/96 characters cover any match in it. */
export const DIGIT_RUN_STRIDE = 32;

const M = 4;
const TABLE = 65536;
/** The bucket number meaning "one of the rest" (see LiteralScanner.lists). */
const OVERFLOW = 255;

/** Block key: the raw byte pair. Case-insensitive patterns enter every case variant in the tables. */
const pairKey = (a: number, b: number): number => (a << 8) | b;
const FOLDED = 1 << 14;
const foldKey = (a: number, b: number): number => ((a & 127) << 7) | (b & 127);

function caseVariants(c: number, caseSensitive: boolean): number[] {
  if (caseSensitive) return [c];
  const lower = c >= 65 && c <= 90 ? c + 32 : c;
  return lower >= 97 && lower <= 122 ? [lower, lower - 32] : [c];
}
const prefix4 = (a: number, b: number, c: number, d: number): number =>
  ((((a | 32) & 127) * 2731 + ((b | 32) & 127) * 337 + ((c | 32) & 127) * 41 + ((d | 32) & 127)) * 2654435761) >>> 16;

export class LiteralScanner {
  /** The digit run behind the latest digit-run hit: [runStart, runEnd) holding runDigits digits. */
  runStart = 0;
  runEnd = 0;
  runDigits = 0;
  /** Its RUN_SHAPE bits. */
  runShape = 0;
  /**
   * The patterns whose window ends with a byte pair, by the pair's bucket number: the module's
   * bucket table holds 1–254 for the first 254 pairs (a candidate's number is read from that table,
   * which the scan has just touched, instead of from a 64 K-entry array), 255 for the rest, which
   * are in `overflow`.
   */
  private readonly lists: number[][] = [[]];
  private readonly overflow = new Map<number, number[]>();
  private readonly anyFirst: number[] = [];
  private readonly offsets: Int32Array;
  private readonly afterAny: Uint8Array;
  /** The compiled loop and its memory; one per scanner, since `scan` is not re-entrant. */
  private readonly wasm: ScanModule;
  private readonly folded: string[];
  private readonly patterns: LiteralPattern[];

  /** All patterns must be at least 4 characters long. */
  constructor(patterns: LiteralPattern[]) {
    this.patterns = patterns;
    this.folded = patterns.map((p) => p.text.toLowerCase());
    const shift = new Uint8Array(TABLE).fill(M - 1);
    /** Bitmap of hashes of every pattern's first four folded bytes: a cheap second filter. */
    const prefix = new Uint8Array(65536);
    const buckets = new Map<number, number[]>();
    /** The pairs whose shift dropped below M − 1: the only ones the fold below must visit. */
    const lowered: number[] = [];
    /** Second bytes (7-bit) of the afterAny patterns: every folded pair ending with one has a shift <= M - 2. */
    const anySecond = new Set<number>();
    this.offsets = new Int32Array(patterns.length);
    this.afterAny = Uint8Array.from(patterns, (p) => (p.afterAny ? 1 : 0));
    patterns.forEach(({ text, afterAny, caseSensitive }, index) => {
      const whole = afterAny ? ' ' + text : text;
      if (whole.length < M) throw new Error(`literal anchors need ${M}+ characters`);
      // Scan for the pattern's four characters whose closing pair is rarest in ordinary text,
      // so common pairs (th, st, ed…) do not stop the scan.
      const offset = afterAny ? 0 : bestWindow(whole);
      this.offsets[index] = offset;
      const full = whole.slice(offset, offset + M);
      if (afterAny) {
        this.anyFirst.push(index);
        for (let a = 0; a < 128; a++)
          prefix[prefix4(a, full.charCodeAt(1), full.charCodeAt(2), full.charCodeAt(3))] = 1;
      } else prefix[prefix4(full.charCodeAt(0), full.charCodeAt(1), full.charCodeAt(2), full.charCodeAt(3))] = 1;
      for (let j = 1; j < M; j++) {
        const s = M - 1 - j;
        if (afterAny && j === 1) {
          // "Any character, then the literal": every pair that ends with its first character has a
          // shift of at most M - 2. Noted per second byte and applied in the fold below, instead
          // of 256 table entries per case variant here.
          for (const b of caseVariants(full.charCodeAt(1) & 255, caseSensitive)) anySecond.add(b & 127);
          continue;
        }
        const firsts = caseVariants(full.charCodeAt(j - 1) & 255, caseSensitive);
        for (const a of firsts) {
          for (const b of caseVariants(full.charCodeAt(j) & 255, caseSensitive)) {
            const h = pairKey(a, b);
            if (s < shift[h]) {
              if (shift[h] === M - 1) lowered.push(h);
              shift[h] = s;
            }
            if (s === 0) {
              const list = buckets.get(h) ?? [];
              if (!list.includes(index)) list.push(index);
              buckets.set(h, list);
            }
          }
        }
      }
    });
    // Shift per byte pair, folded to 7 bits per byte (16 KiB, stays in L1): the minimum over the
    // pairs folded together. Non-ASCII bytes fold onto ASCII ones: they can only get a smaller
    // shift (more candidates), never hide one.
    // Pairs still at M − 1 cannot lower a folded entry, so only the lowered ones are visited
    // (a few thousand instead of 65,536: the loop was most of a cold CLI call's sanitizer build).
    const folded = new Uint8Array(FOLDED).fill(M - 1);
    for (const h of lowered) {
      const f = foldKey(h >> 8, h & 255);
      if (shift[h] < folded[f]) folded[f] = shift[h];
    }
    for (const b of anySecond) {
      for (let a = 0; a < 128; a++) {
        const f = (a << 7) | b;
        if (folded[f] > M - 2) folded[f] = M - 2;
      }
    }
    const bucket = new Uint8Array(TABLE);
    for (const [h, list] of buckets) {
      if (this.lists.length < OVERFLOW) {
        bucket[h] = this.lists.length;
        this.lists.push(list);
      } else {
        bucket[h] = OVERFLOW;
        this.overflow.set(h, list);
      }
    }
    this.wasm = new ScanModule(folded, bucket, prefix);
  }

  /**
   * Hands the short anchors to the compiled scan; false when they do not fit it (more than eight,
   * or one that is not one to three Latin-1 characters).
   */
  setShorts(shorts: ShortAnchor[]): boolean {
    return this.wasm.setShorts(shorts);
  }

  /**
   * [position, anchor index] pairs of every short anchor in the loaded image's first `to` bytes
   * whose surrounding bytes are in its classes, in position order; undefined when there are too
   * many to list. A view, valid until the next call.
   */
  shorts(to: number): Int32Array | undefined {
    return this.wasm.shorts(to);
  }

  /**
   * Writes the image of text[0, n) (one byte per UTF-16 unit, 0xFF above U+00FF) into the
   * scan module's memory, where the next `scan` reads it; a ready `image` is copied instead.
   */
  load(text: string, n: number, image?: ImageRef): void {
    this.wasm.load(text, n, image);
  }

  /** The loaded image's first n bytes (a view into module memory, valid until the next load). */
  loadedImage(n: number): Buffer {
    return this.wasm.bytes.subarray(this.wasm.text, this.wasm.text + n);
  }

  /**
   * Reports every literal occurrence starting in [0, to) and, when `digitRuns`, every digit run,
   * in position order (literals first, then runs). The text's image must have been `load`ed;
   * candidates are verified against `text` itself.
   */
  scan(text: string, to: number, digitRuns: boolean, onHit: ScanHit): void {
    for (const idx of this.anyFirst) if (this.verify(text, 0, to, idx)) onHit(0, idx);
    const wasm = this.wasm;
    const k = wasm.scan(to, digitRuns);
    const bytes = wasm.bytes;
    const base = wasm.text;
    const cands = wasm.cands;
    const bucketTable = wasm.bucketTable;
    const lists = this.lists;
    for (let n = 0; n < k; n++) {
      const at = cands[n];
      // The module keeps only candidates whose pair has a bucket.
      const pair = pairKey(bytes[base + at - 1], bytes[base + at]);
      const no = bytes[bucketTable + pair];
      this.dispatch(text, at - M + 1, to, no === OVERFLOW ? this.overflow.get(pair)! : lists[no], onHit);
    }
    if (!digitRuns) return;
    const runs = wasm.runs;
    const nr = wasm.runCount();
    for (let n = 0; n < nr * 3; n += 3) {
      const a = runs[n];
      const b = runs[n + 1];
      this.runStart = a;
      this.runEnd = b;
      const word = runs[n + 2];
      this.runDigits = word & RUN_DIGITS;
      this.runShape = word >>> SHAPE_SHIFT;
      for (let p = a; p < b; p += DIGIT_RUN_STRIDE) onHit(p, -1);
    }
  }

  private dispatch(text: string, start: number, to: number, list: number[], onHit: ScanHit): void {
    for (let k = 0; k < list.length; k++) {
      const idx = list[k];
      if (this.afterAny[idx] === 1) {
        if (this.verify(text, start + 1, to, idx)) onHit(start + 1, idx);
      } else {
        const at = start - this.offsets[idx];
        if (at >= 0 && this.verify(text, at, to, idx)) onHit(at, idx);
      }
    }
  }

  private verify(text: string, start: number, to: number, idx: number): boolean {
    const pat = this.patterns[idx];
    const len = pat.text.length;
    if (start + len > to) return false;
    if (pat.caseSensitive) return text.startsWith(pat.text, start);
    const f = this.folded[idx];
    for (let j = 0; j < len; j++) {
      let c = text.charCodeAt(start + j);
      if (c >= 65 && c <= 90) c += 32;
      if (c !== f.charCodeAt(j)) return false;
    }
    return true;
  }
}

/** Letter pairs that are frequent in English, code and logs: COMMON_PAIR[(x - 97) * 26 + (y - 97)] for lower-case x, y. */
const COMMON_PAIR = (() => {
  const table = new Uint8Array(26 * 26);
  const pairs =
    'th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha as ou io le ve co me de hi ri ro ic ne ea ra ' +
    'ce li ch ll be ma si om ur ss ta ut et no el la ke ok ta ts ls id ex xp pa ac ct am em il im un pe ur ge';
  for (const pair of pairs.split(' ')) table[(pair.charCodeAt(0) - 97) * 26 + (pair.charCodeAt(1) - 97)] = 1;
  return table;
})();

/** 3 for a common letter pair, 1 for any other pair of letters, 0 when either is not a letter (ASCII-case-folded). */
function pairCost(a: number, b: number): number {
  const x = a >= 65 && a <= 90 ? a + 32 : a;
  const y = b >= 65 && b <= 90 ? b + 32 : b;
  if (x < 97 || x > 122 || y < 97 || y > 122) return 0;
  return COMMON_PAIR[(x - 97) * 26 + (y - 97)] === 1 ? 3 : 1;
}

function bestWindow(pattern: string): number {
  let best = 0;
  let bestCost = Infinity;
  for (let o = 0; o + M <= pattern.length; o++) {
    const c1 = pattern.charCodeAt(o + M - 3);
    const c2 = pattern.charCodeAt(o + M - 2);
    const c3 = pattern.charCodeAt(o + M - 1);
    const cost = pairCost(c2, c3) * 4 + pairCost(c1, c2);
    if (cost < bestCost) {
      bestCost = cost;
      best = o;
    }
  }
  return best;
}
