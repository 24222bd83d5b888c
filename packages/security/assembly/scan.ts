/**
 * The sanitizer's byte-level work, compiled to WebAssembly (AssemblyScript, SIMD): the literal scan
 * and digit runs, short anchors, control finding, UTF-8 decoding and the image narrowing. The scan
 * runs over an image of a text that the host writes into this module's memory (one byte per
 * UTF-16 unit, units above 0xFF saturated to 0xFF: see `narrow`), with tables the host builds
 * (src/engine/literal-scanner.ts), and writes two lists the host reads back:
 *
 * - literal candidates: positions `at` (the last byte of a four-byte window) whose folded byte
 *   pair has shift 0, whose raw pair has a pattern bucket and whose four-byte prefix hash is in
 *   the prefix bitmap; the host verifies them against the text;
 * - digit runs: [start, end, digits | shape << 24] for every run of at least nine digits, or
 *   eight after a + (with up to two separators between digits) that holds a group of four
 *   adjacent digits; `shape` holds the bits of runShape.
 *
 * Both lists come out in increasing position order. Memory is laid out by the host; nothing here
 * allocates.
 */

/**
 * Table layout from `tables`: the shift per folded byte pair (7 bits per byte, 16 KiB), then a
 * nonzero byte (the host's bucket number) where a raw byte pair ends some pattern's four-byte
 * window (64 KiB), then one byte per hash of
 * every pattern's first four folded bytes (64 KiB).
 */
const BUCKET: usize = 16384;
const PREFIX: usize = 16384 + 65536;
export const TABLE_BYTES: usize = 16384 + 65536 + 65536;
const M: i32 = 4;
/** Digits in the shortest run the digit-run rules need: an SSN has nine, an E.164 number eight after its + (E164_DIGITS). */
const MIN_RUN_DIGITS: i32 = 9;
const E164_DIGITS: i32 = 8;

let runCount: i32 = 0;

/** First free byte of memory: the host lays out tables, text and outputs from here. */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/** How many digit runs the last scan wrote. */
export function runs(): i32 {
  return runCount;
}

@inline function byteAt(text: usize, i: i32): u32 {
  return <u32>load<u8>(text + <usize>i);
}

@inline function isDigit(c: u32): bool {
  return c - 48 < 10;
}

/** Separators allowed inside a digit run: space ( ) . / - */
@inline function isSep(c: u32): bool {
  return c == 32 || c == 40 || c == 41 || c == 46 || c == 47 || c == 45;
}

@inline function prefix4(a: u32, b: u32, c: u32, d: u32): u32 {
  const h = ((a | 32) & 127) * 2731 + ((b | 32) & 127) * 337 + ((c | 32) & 127) * 41 + ((d | 32) & 127);
  return (h * 2654435761) >>> 16;
}

/** Positions per block: four chains of a quarter each; bounds the scratch lists after the tables (256 KiB). */
const BLOCK: i32 = 65536;
const QUARTER: i32 = BLOCK / 4 + 4;
/** Blocks shorter than this are scanned as one chain. */
const SPLIT_MIN: i32 = 256;
export const SCRATCH_BYTES: usize = 4 * 4 * <usize>QUARTER;

/** The folded shift for the byte pair ending at `i`, read as one little-endian u16. */
@inline function shiftAt(tables: usize, text: usize, i: i32): i32 {
  const w = <u32>load<u16>(text + <usize>i - 1);
  return <i32>load<u8>(tables + <usize>(((w & 127) << 7) | ((w >> 8) & 127)));
}

/**
 * Scans text[0, to) (bytes at `text`). Literal candidates go to `cands` (i32 each), digit runs to
 * `runsOut` (three i32 each, only when `digitRuns`). Returns the number of candidates. `scratch`
 * holds SCRATCH_BYTES. The image must be readable 64 bytes past `to`.
 *
 * The literal loop has no data-dependent branch: every visited position is stored, and the store
 * index moves only for zero shifts. Its cost is the chain position → bytes → shift → next
 * position, so each block is scanned as four independent chains in the same loop, which the CPU
 * overlaps: on the bench corpus the literal scan alone takes 0.85 ms/MiB, against 1.25 with two
 * chains.
 */
export function scan(tables: usize, text: usize, to: i32, digitRuns: bool, cands: usize, runsOut: usize, scratch: usize): i32 {
  let k: i32 = 0;
  let i: i32 = M - 1;
  while (i < to) {
    const blockEnd = min(to, i + BLOCK);
    if (blockEnd - i < SPLIT_MIN) {
      const n = chain(tables, text, i, blockEnd, scratch);
      k = keep(tables, text, scratch, n, cands, k);
      break;
    }
    // Four chains over four quarters of the block, stepped together.
    const q = (blockEnd - i) >>> 2;
    let c0 = i;
    let c1 = i + q;
    let c2 = i + 2 * q;
    let c3 = i + 3 * q;
    const e0 = c1;
    const e1 = c2;
    const e2 = c3;
    const l0 = scratch;
    const l1 = scratch + (<usize>QUARTER << 2);
    const l2 = scratch + (<usize>QUARTER << 3);
    const l3 = scratch + (<usize>QUARTER * 12);
    let n0: i32 = 0;
    let n1: i32 = 0;
    let n2: i32 = 0;
    let n3: i32 = 0;
    while (c0 < e0 && c1 < e1 && c2 < e2 && c3 < blockEnd) {
      const s0 = shiftAt(tables, text, c0);
      const s1 = shiftAt(tables, text, c1);
      const s2 = shiftAt(tables, text, c2);
      const s3 = shiftAt(tables, text, c3);
      const z0 = <i32>(s0 == 0);
      const z1 = <i32>(s1 == 0);
      const z2 = <i32>(s2 == 0);
      const z3 = <i32>(s3 == 0);
      store<i32>(l0 + (<usize>n0 << 2), c0);
      store<i32>(l1 + (<usize>n1 << 2), c1);
      store<i32>(l2 + (<usize>n2 << 2), c2);
      store<i32>(l3 + (<usize>n3 << 2), c3);
      n0 += z0;
      n1 += z1;
      n2 += z2;
      n3 += z3;
      c0 += s0 + z0;
      c1 += s1 + z1;
      c2 += s2 + z2;
      c3 += s3 + z3;
    }
    n0 += chain(tables, text, c0, e0, l0 + (<usize>n0 << 2));
    n1 += chain(tables, text, c1, e1, l1 + (<usize>n1 << 2));
    n2 += chain(tables, text, c2, e2, l2 + (<usize>n2 << 2));
    n3 += chain(tables, text, c3, blockEnd, l3 + (<usize>n3 << 2));
    k = keep(tables, text, l0, n0, cands, k);
    k = keep(tables, text, l1, n1, cands, k);
    k = keep(tables, text, l2, n2, cands, k);
    k = keep(tables, text, l3, n3, cands, k);
    // Each chain may step up to three past its end; the next block starts where the last one stopped.
    i = max(blockEnd, c3);
  }
  runCount = digitRuns ? findRuns(text, to, runsOut) : 0;
  return k;
}

/** One chain from `i` while below `end`: stores every zero-shift position to `out`, returns how many. */
function chain(tables: usize, text: usize, i: i32, end: i32, out: usize): i32 {
  let n: i32 = 0;
  while (i < end) {
    const s = shiftAt(tables, text, i);
    const z = <i32>(s == 0);
    store<i32>(out + (<usize>n << 2), i);
    n += z;
    i += s + z;
  }
  return n;
}

/**
 * When the stretch of digits and separators through `at` ends within 16 bytes on each side and
 * holds fewer digits than a run needs (MIN_RUN_DIGITS, or E164_DIGITS after a +), the index where it
 * ends; otherwise -1 (the run must be measured).
 */
@inline function stretchWithoutRun(text: usize, at: i32, zero: v128, ten: v128): i32 {
  const left = v128.load(text + <usize>(at - 16));
  const right = v128.load(text + <usize>(at + 1));
  const leftDigits = <u32>i8x16.bitmask(i8x16.lt_u(i8x16.sub(left, zero), ten));
  const rightDigits = <u32>i8x16.bitmask(i8x16.lt_u(i8x16.sub(right, zero), ten));
  const leftStretch = leftDigits | separators(left);
  const rightStretch = rightDigits | separators(right);
  // Members right before `at` (from bit 15 down) and right after it (from bit 0 up).
  const nl = clz(~(leftStretch << 16));
  const nr = ctz(~rightStretch);
  if (nl >= 16 || nr >= 16) return -1;
  const digits = popcnt(leftDigits & ~(<u32>0xffff >> nl) & 0xffff) + 1 + popcnt(rightDigits & ((<u32>1 << nr) - 1));
  const least = byteAt(text, at - <i32>nl - 1) == 0x2b ? E164_DIGITS : MIN_RUN_DIGITS;
  return <i32>digits >= least ? -1 : at + 1 + <i32>nr;
}

/** Bitmask of the separator bytes (space ( ) . / -) of a vector. */
@inline function separators(v: v128): u32 {
  // Space, ( and ) are 0x20, 0x28, 0x29; - . / are 0x2D–0x2F.
  const a = v128.or(i8x16.eq(v, i8x16.splat(0x20)), v128.or(i8x16.eq(v, i8x16.splat(0x28)), i8x16.eq(v, i8x16.splat(0x29))));
  const b = i8x16.lt_u(i8x16.sub(v, i8x16.splat(0x2d)), i8x16.splat(3));
  return <u32>i8x16.bitmask(v128.or(a, b));
}

/** Bitmask of the digit bytes of the sixteen at `p`. */
@inline function digitBits(p: usize, zero: v128, ten: v128): u64 {
  return <u64>i8x16.bitmask(i8x16.lt_u(i8x16.sub(v128.load(p), zero), ten));
}

/**
 * Every phone, SSN, card and IBAN format has a group of four adjacent digits, so runs are
 * measured only from the ends of such groups, found sixteen positions at a time, sixty-four per
 * step (one 64-bit mask: the group test and the loop cost once per 64 bytes). Returns how many
 * runs it wrote. Reads up to 63 bytes past `to` (masked off).
 */
function findRuns(text: usize, to: i32, out: usize): i32 {
  const zero = i8x16.splat(48);
  const ten = i8x16.splat(10);
  let nr: i32 = 0;
  let runEnd: i32 = 0;
  // The digit mask of the previous 64 positions: its top three bits continue this block's groups.
  let prev: u64 = 0;
  for (let i: i32 = 0; i < to; i += 64) {
    const p = text + <usize>i;
    let m = digitBits(p, zero, ten) | (digitBits(p + 16, zero, ten) << 16) | (digitBits(p + 32, zero, ten) << 32) | (digitBits(p + 48, zero, ten) << 48);
    if (to - i < 64) m &= (<u64>1 << <u64>(to - i)) - 1;
    // Bit j of `ends` is set when positions i + j − 3 … i + j are digits.
    let ends = m & ((m << 1) | (prev >> 63)) & ((m << 2) | (prev >> 62)) & ((m << 3) | (prev >> 61));
    prev = m;
    while (ends != 0) {
      const at = i + <i32>ctz(ends);
      ends &= ends - 1;
      if (at < runEnd) continue;
      // A run lies inside one stretch of digits and separators: when that stretch ends within 16
      // bytes on both sides of `at` and holds fewer digits than a run needs (a number, a hex hash), no
      // run goes through here.
      if (at >= 16) {
        const skipTo = stretchWithoutRun(text, at, zero, ten);
        if (skipTo >= 0) {
          // No group end in this stretch can be part of a run either.
          runEnd = skipTo;
          continue;
        }
      }
      runEnd = digitRun(text, at, to, out, nr);
      nr = runCount;
    }
  }
  return nr;
}

/** Appends the stops whose raw pair has a bucket and whose prefix hash is known to `cands`. */
function keep(tables: usize, text: usize, stops: usize, n: i32, cands: usize, k: i32): i32 {
  for (let q = 0; q < n; q++) {
    const at = load<i32>(stops + (<usize>q << 2));
    const a = byteAt(text, at - 1);
    const b = byteAt(text, at);
    if (load<u8>(tables + BUCKET + <usize>((a << 8) | b)) == 0) continue;
    const start = at - M + 1;
    if (load<u8>(tables + PREFIX + <usize>prefix4(byteAt(text, start), byteAt(text, start + 1), a, b)) == 0) continue;
    store<i32>(cands + (<usize>k << 2), at);
    k++;
  }
  return k;
}

/**
 * Measures the digit run through position `i` (a digit after a digit). Every phone, SSN, card and
 * IBAN format has a group of four digits, and the scan visits every such group (it never steps
 * more than three), so a run is only measured from inside one. Returns where scanning may resume.
 */
function digitRun(text: usize, i: i32, to: i32, out: usize, nr: i32): i32 {
  runCount = nr;
  let group: i32 = 1;
  for (let k = i - 1; k >= 0 && group < 4 && isDigit(byteAt(text, k)); k--) group++;
  for (let k = i + 1; k < to && group < 4 && isDigit(byteAt(text, k)); k++) group++;
  if (group < 4) return i + 1;
  let a = i;
  for (;;) {
    let k = a - 1;
    let seps = 0;
    while (k >= 0 && seps < 2 && isSep(byteAt(text, k))) {
      k--;
      seps++;
    }
    if (k >= 0 && isDigit(byteAt(text, k))) a = k;
    else break;
  }
  let digits: i32 = 0;
  for (let k = a; k <= i; k++) if (isDigit(byteAt(text, k))) digits++;
  let b = i + 1;
  for (;;) {
    let k = b;
    let seps = 0;
    while (k < to && seps < 2 && isSep(byteAt(text, k))) {
      k++;
      seps++;
    }
    if (k < to && isDigit(byteAt(text, k))) {
      b = k + 1;
      digits++;
    } else break;
  }
  if (digits >= MIN_RUN_DIGITS || (digits >= E164_DIGITS && a > 0 && byteAt(text, a - 1) == 0x2b)) {
    const p = out + <usize>nr * 12;
    store<i32>(p, a);
    store<i32>(p, b, 4);
    store<i32>(p, digits | (runShape(text, a, b) << SHAPE_SHIFT), 8);
    runCount = nr + 1;
  }
  return b;
}

/** Where a run's shape bits sit in its third word, above its digit count. */
const SHAPE_SHIFT: i32 = 24;
/** Shape bits (mirrored by RUN_SHAPE in src/rules/rule.ts): groups of 3|4, 3, 4 digits in a row (a North-American number). */
const PHONE_GROUPS: i32 = 1;
/** Groups of 3, 2, 4 digits joined by single hyphens (an SSN). */
const SSN_GROUPS: i32 = 2;
/** Two capital letters and two digits in a row starting in the 16 bytes before the run, ending by its second byte (an IBAN's start). */
const IBAN_PREFIX: i32 = 4;

/**
 * The shape bits of the run [a, b): the tests the phone, SSN and IBAN rules make on each run,
 * done here on the bytes the run was just measured on instead of in JavaScript per rule (on the
 * bench corpus ~1,400 runs per MB, none of them one of those).
 */
function runShape(text: usize, a: i32, b: i32): i32 {
  let shape: i32 = 0;
  // The last three digit groups (oldest first) and whether the two joins between them were single hyphens.
  let g1: i32 = 0;
  let g2: i32 = 0;
  let group: i32 = 0;
  let joins: u32 = 0;
  for (let i = a; i <= b; i++) {
    const c = i < b ? byteAt(text, i) : 0xffff;
    if (isDigit(c)) {
      group++;
      continue;
    }
    if (group == 0) continue;
    if (group == 4 && g2 == 3 && (g1 == 3 || g1 == 4)) shape |= PHONE_GROUPS;
    if (group == 4 && g2 == 2 && g1 == 3 && joins == 3) shape |= SSN_GROUPS;
    g1 = g2;
    g2 = group;
    group = 0;
    // A separator here is followed by a digit inside the run, so i + 1 < b.
    joins = ((joins << 1) | <u32>(c == 45 && isDigit(byteAt(text, i + 1)))) & 3;
  }
  for (let i = max(0, a - 16); i <= a - 2; i++) {
    if (byteAt(text, i) - 65 < 26 && byteAt(text, i + 1) - 65 < 26 && isDigit(byteAt(text, i + 2)) && isDigit(byteAt(text, i + 3))) {
      shape |= IBAN_PREFIX;
      break;
    }
  }
  return shape;
}

/** A control other than \t, \n and \r: 0x00–0x1F, 0x7F–0x9F (as a byte or a UTF-16 unit). */
@inline function isControlUnit(c: u32): bool {
  return c < 0x20 ? c != 9 && c != 10 && c != 13 : c - 0x7f < 0x21;
}

/** Bitmask of the bytes of `v` for which isControlUnit holds. */
@inline function controlBits(v: v128): i32 {
  const c0 = v128.andnot(
    i8x16.lt_u(v, i8x16.splat(0x20)),
    v128.or(v128.or(i8x16.eq(v, i8x16.splat(9)), i8x16.eq(v, i8x16.splat(10))), i8x16.eq(v, i8x16.splat(13))),
  );
  // 0x7F–0x9F: v − 0x7F below 0x21, unsigned.
  const high = i8x16.lt_u(i8x16.sub(v, i8x16.splat(0x7f)), i8x16.splat(0x21));
  return i8x16.bitmask(v128.or(c0, high));
}

/**
 * Writes the index of every byte of `data[0, n)` that is a control other than \t, \n and \r
 * (0x00–0x1F, 0x7F–0x9F) to `out` (i32 each), at most `cap` of them. Returns how many, or -1 when
 * there are more than `cap`. Sixteen bytes per step.
 */
export function controls(data: usize, n: i32, out: usize, cap: i32): i32 {
  let k: i32 = 0;
  let i: i32 = 0;
  while (i + 16 <= n) {
    let mask = controlBits(v128.load(data + <usize>i));
    while (mask != 0) {
      if (k == cap) return -1;
      store<i32>(out + (<usize>k << 2), i + <i32>ctz(mask));
      k++;
      mask &= mask - 1;
    }
    i += 16;
  }
  for (; i < n; i++) {
    if (isControlUnit(byteAt(data, i))) {
      if (k == cap) return -1;
      store<i32>(out + (<usize>k << 2), i);
      k++;
    }
  }
  return k;
}

/** Bytes per short-anchor record: length and three bytes, then the before and after classes (256 bytes each). */
export const SHORT_RECORD: usize = 4 + 256 + 256;
export const MAX_SHORTS: i32 = 8;
/**
 * After the eight records: four 16-byte nibble tables (first byte low and high nibble, second
 * byte low and high nibble), bit r set for record r; a one-byte anchor sets its bit in every entry
 * of the second byte's tables.
 */
export const SHORT_BYTES: usize = <usize>MAX_SHORTS * SHORT_RECORD + 64;

/**
 * Finds the short anchors (one to three bytes, at most eight) in text[0, to): a position is a hit
 * for record r (at `specs + r * SHORT_RECORD`) when the anchor's bytes are there and the bytes
 * before and after it are in its classes (a class of all ones checks nothing). Sixteen positions
 * per step: the first two bytes of every anchor at once, by nibble-table lookups (swizzle); only
 * positions where both match are checked further. The image must be readable 17 bytes past `to`.
 * Writes [position, record] pairs to `out`, in position order; returns how many, or -1 when there
 * are more than `cap`.
 */
export function shorts(text: usize, to: i32, specs: usize, count: i32, out: usize, cap: i32): i32 {
  const tables = specs + <usize>MAX_SHORTS * SHORT_RECORD;
  const lo0 = v128.load(tables);
  const hi0 = v128.load(tables, 16);
  const lo1 = v128.load(tables, 32);
  const hi1 = v128.load(tables, 48);
  const nibble = i8x16.splat(15);
  let k: i32 = 0;
  for (let i: i32 = 0; i < to; i += 16) {
    const at = text + <usize>i;
    const v0 = v128.load(at);
    const v1 = v128.load(at, 1);
    const first = v128.and(i8x16.swizzle(lo0, v128.and(v0, nibble)), i8x16.swizzle(hi0, i8x16.shr_u(v0, 4)));
    const second = v128.and(i8x16.swizzle(lo1, v128.and(v1, nibble)), i8x16.swizzle(hi1, i8x16.shr_u(v1, 4)));
    const hit = v128.and(first, second);
    let mask = <u32>i8x16.bitmask(v128.not(i8x16.eq(hit, i8x16.splat(0))));
    if (to - i < 16) mask &= (<u32>1 << <u32>(to - i)) - 1;
    while (mask != 0) {
      const p = i + <i32>ctz(mask);
      mask &= mask - 1;
      for (let r: i32 = 0; r < count; r++) {
        const spec = specs + <usize>r * SHORT_RECORD;
        const len = <i32>load<u8>(spec);
        if (p + len > to) continue;
        if (byteAt(text, p) != <u32>load<u8>(spec, 1)) continue;
        if (len > 1 && byteAt(text, p + 1) != <u32>load<u8>(spec, 2)) continue;
        if (len > 2 && byteAt(text, p + 2) != <u32>load<u8>(spec, 3)) continue;
        if (p > 0 && load<u8>(spec + 4 + <usize>byteAt(text, p - 1)) == 0) continue;
        if (p + len < to && load<u8>(spec + 260 + <usize>byteAt(text, p + len)) == 0) continue;
        if (k == cap) return -1;
        store<i32>(out + (<usize>k << 3), p);
        store<i32>(out + (<usize>k << 3), r, 4);
        k++;
      }
    }
  }
  return k;
}

// UTF-8 decoding, as the WHATWG Encoding Standard's decoder (what TextDecoder does): each
// maximal ill-formed subpart becomes one U+FFFD. The state between chunks is packed in a u32
// that the host keeps per stream: the code point so far (bits 0–20), bytes needed (21–22), bytes
// seen (23–24), and the allowed range of the next byte (25–26: lower 0x80 / 0xA0 / 0x90, 27–28:
// upper 0xBF / 0x9F / 0x8F).

let decodeState: u32 = 0;
let decodeControls: i32 = 0;

/** The state after the last `decode`. */
export function decodedState(): u32 {
  return decodeState;
}

/** How many control positions the last `decode` listed, or -1 when there were more than its cap. */
export function decodedControls(): i32 {
  return decodeControls;
}

/**
 * Decodes src[0, n) into UTF-16 code units at `dst`, starting from `state`, and lists the index of
 * every control character (C0 but \t \n \r, DEL, C1) in the output at `ctrl` (at most `cap`).
 * Returns the number of code units written; see decodedState and decodedControls. Runs of sixteen
 * ASCII bytes are widened and checked for controls with SIMD.
 */
export function decode(src: usize, n: i32, dst: usize, ctrl: usize, cap: i32, state: u32): i32 {
  let cp: u32 = state & 0x1fffff;
  let needed: u32 = (state >> 21) & 3;
  let seen: u32 = (state >> 23) & 3;
  let lowerSel: u32 = (state >> 25) & 3;
  let upperSel: u32 = (state >> 27) & 3;
  let out: i32 = 0;
  let nc: i32 = 0;
  let i: i32 = 0;
  while (i < n) {
    if (needed == 0 && i + 16 <= n) {
      const v = v128.load(src + <usize>i);
      if (i8x16.bitmask(v) == 0) {
        const at = dst + (<usize>out << 1);
        v128.store(at, i16x8.extend_low_i8x16_u(v));
        v128.store(at, i16x8.extend_high_i8x16_u(v), 16);
        // All ASCII here, so the C1 half of the mask is empty.
        let mask = controlBits(v);
        while (mask != 0) {
          if (nc < cap) store<i32>(ctrl + (<usize>nc << 2), out + <i32>ctz(mask));
          nc++;
          mask &= mask - 1;
        }
        out += 16;
        i += 16;
        continue;
      }
    }
    const b = byteAt(src, i);
    if (needed == 0) {
      if (b < 0x80) {
        store<u16>(dst + (<usize>out << 1), <u16>b);
        if (isControlUnit(b)) {
          if (nc < cap) store<i32>(ctrl + (<usize>nc << 2), out);
          nc++;
        }
        out++;
      } else if (b >= 0xc2 && b <= 0xdf) {
        needed = 1;
        cp = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        if (b == 0xe0) lowerSel = 1;
        if (b == 0xed) upperSel = 1;
        needed = 2;
        cp = b & 0xf;
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b == 0xf0) lowerSel = 2;
        if (b == 0xf4) upperSel = 2;
        needed = 3;
        cp = b & 7;
      } else {
        store<u16>(dst + (<usize>out << 1), 0xfffd);
        out++;
      }
      i++;
      continue;
    }
    const lower: u32 = lowerSel == 0 ? 0x80 : lowerSel == 1 ? 0xa0 : 0x90;
    const upper: u32 = upperSel == 0 ? 0xbf : upperSel == 1 ? 0x9f : 0x8f;
    if (b < lower || b > upper) {
      // The sequence so far is one replacement; this byte starts over (it is not consumed).
      cp = 0;
      needed = 0;
      seen = 0;
      lowerSel = 0;
      upperSel = 0;
      store<u16>(dst + (<usize>out << 1), 0xfffd);
      out++;
      continue;
    }
    lowerSel = 0;
    upperSel = 0;
    cp = (cp << 6) | (b & 0x3f);
    seen++;
    i++;
    if (seen < needed) continue;
    if (cp > 0xffff) {
      const c = cp - 0x10000;
      store<u16>(dst + (<usize>out << 1), <u16>(0xd800 + (c >> 10)));
      store<u16>(dst + (<usize>out << 1), <u16>(0xdc00 + (c & 0x3ff)), 2);
      out += 2;
    } else {
      store<u16>(dst + (<usize>out << 1), <u16>cp);
      if (isControlUnit(cp)) {
        if (nc < cap) store<i32>(ctrl + (<usize>nc << 2), out);
        nc++;
      }
      out++;
    }
    cp = 0;
    needed = 0;
    seen = 0;
  }
  decodeState = cp | (needed << 21) | (seen << 23) | (lowerSel << 25) | (upperSel << 27);
  decodeControls = nc > cap ? -1 : nc;
  return out;
}

/**
 * Narrows n UTF-16 code units at `src` to bytes at `dst`, saturating: a unit above 0xFF becomes
 * 0xFF, so no character outside Latin-1 can look like an ASCII letter, digit or control in the
 * image (truncating would turn U+0131 into "1" and U+011B into ESC). `dst` may equal `src`.
 */
export function narrow(src: usize, n: i32, dst: usize): void {
  const max = i16x8.splat(0xff);
  let i: i32 = 0;
  for (; i + 16 <= n; i += 16) {
    const a = i16x8.min_u(v128.load(src + (<usize>i << 1)), max);
    const b = i16x8.min_u(v128.load(src + (<usize>i << 1), 16), max);
    v128.store(dst + <usize>i, i8x16.narrow_i16x8_u(a, b));
  }
  for (; i < n; i++) {
    const c = <u32>load<u16>(src + (<usize>i << 1));
    store<u8>(dst + <usize>i, <u8>(c > 0xff ? 0xff : c));
  }
}
