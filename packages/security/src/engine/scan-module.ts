import { BastionError } from '@bastion/core';
import { SCAN_WASM } from './scan-wasm';

const ALIGN = 16;
const PAGE = 65536;
/** The tables built here: the folded shift table and the two per-byte-pair tables. */
const SHIFT_BYTES = 16384;
const PAIR_BYTES = 65536;
/** A digit run holds at least eight digits and a non-digit ends it, so a text of n bytes has fewer than n / 9 + 1 runs. */
const RUN_BYTES_PER_BYTE = 12 / 9;

/** The parts of the WebAssembly JS API used here; @types/node does not declare them (lib.dom would). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/**
 * The module's layout constants (assembly/scan.ts), read from it so the host cannot drift from
 * them: the tables' total size, the scan's scratch lists, and the short-anchor records (the
 * length, bytes and classes of each, then four nibble tables).
 */
interface Layout {
  TABLE_BYTES: { value: number };
  SCRATCH_BYTES: { value: number };
  SHORT_RECORD: { value: number };
  MAX_SHORTS: { value: number };
  SHORT_BYTES: { value: number };
}

interface ScanExports extends Layout {
  memory: WasmMemory;
  heapBase(): number;
  runs(): number;
  scan(
    tables: number,
    text: number,
    to: number,
    digitRuns: number,
    cands: number,
    runs: number,
    scratch: number,
  ): number;
  controls(data: number, n: number, out: number, cap: number): number;
  decode(src: number, n: number, dst: number, ctrl: number, cap: number, state: number): number;
  decodedState(): number;
  decodedControls(): number;
  narrow(src: number, n: number, dst: number): void;
  shorts(text: number, to: number, specs: number, count: number, out: number, cap: number): number;
}

let compiled: object | undefined;

/** A new instance of the module (compiled once per process, synchronously: under 5 KiB). */
function instantiate(): ScanExports {
  if (wasmApi === undefined) {
    // `node --jitless` turns WebAssembly off; without it there is no sanitizer, so nothing runs.
    throw new BastionError(
      'INVALID_INPUT',
      'the OutputSanitizer needs WebAssembly, which this Node process has turned off (--jitless)',
    );
  }
  compiled ??= new wasmApi.Module(Buffer.from(SCAN_WASM, 'base64'));
  return new wasmApi.Instance(compiled, {}).exports as ScanExports;
}

/** Grows `memory` to at least `bytes` and returns a Buffer over all of it. */
function ensureMemory(memory: WasmMemory, bytes: number): Buffer {
  if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
  return Buffer.from(memory.buffer, 0, memory.buffer.byteLength);
}

const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/**
 * One instance of the compiled scan loop (assembly/scan.ts) with its memory: the scanner's tables,
 * the loop's scratch lists, the text image, then the two output lists. Each scanner gets its own instance.
 */
export class ScanModule {
  /** The whole memory, as a Buffer so the image can be written natively. Replaced when memory grows. */
  bytes: Buffer;
  /** Where the text image starts in `bytes`. */
  readonly text: number;
  cands = new Int32Array(0);
  runs = new Int32Array(0);
  private readonly exports: ScanExports;
  private readonly tables: number;
  /** Where the bucket table (a byte per raw byte pair, nonzero when the pair ends a window) is in `bytes`. */
  readonly bucketTable: number;
  private readonly scratch: number;
  private readonly specs: number;
  private shortCount = 0;
  private capacity = -1;
  private candsAt = 0;
  private runsAt = 0;

  constructor(shift: Uint8Array, bucket: Uint8Array, prefix: Uint8Array) {
    this.exports = instantiate();
    const { TABLE_BYTES, SCRATCH_BYTES, SHORT_BYTES } = this.exports;
    if (
      shift.length !== SHIFT_BYTES ||
      bucket.length !== PAIR_BYTES ||
      prefix.length !== PAIR_BYTES ||
      TABLE_BYTES.value !== SHIFT_BYTES + 2 * PAIR_BYTES
    ) {
      throw new Error('scan tables have the wrong size');
    }
    this.tables = align(this.exports.heapBase());
    this.bucketTable = this.tables + SHIFT_BYTES;
    this.scratch = this.tables + TABLE_BYTES.value;
    this.specs = this.scratch + SCRATCH_BYTES.value;
    this.text = align(this.specs + SHORT_BYTES.value);
    this.bytes = ensureMemory(this.exports.memory, 0);
    this.reserve(PAGE);
    this.bytes.set(shift, this.tables);
    this.bytes.set(bucket, this.bucketTable);
    this.bytes.set(prefix, this.tables + SHIFT_BYTES + PAIR_BYTES);
  }

  /**
   * Makes room for a text image of n bytes. The SIMD loops read up to 64 bytes past the end of the
   * text they scan (and mask what they read there); those reads land in the candidate area.
   */
  reserve(n: number): void {
    if (n <= this.capacity) return;
    // Doubling amortises growth for small texts; past 1 MiB (a stream's batch) memory grows only to
    // what is asked for, in 64 KiB steps: it is never given back, and each byte of capacity costs
    // about six (image, candidates, runs).
    const capacity = n < 1 << 20 ? Math.max(n, 2 * this.capacity) : Math.ceil(n / PAGE) * PAGE;
    const candsAt = align(this.text + capacity + 1);
    const runsAt = align(candsAt + 4 * capacity);
    const end = runsAt + Math.ceil(RUN_BYTES_PER_BYTE * capacity) + 12;
    const memory = this.exports.memory;
    this.bytes = ensureMemory(memory, end);
    this.capacity = capacity;
    this.candsAt = candsAt;
    this.runsAt = runsAt;
    this.cands = new Int32Array(memory.buffer, candsAt, capacity);
    this.runs = new Int32Array(memory.buffer, runsAt, Math.floor((end - runsAt) / 4));
  }

  /**
   * Writes the image of text[0, n): one byte per UTF-16 unit, units above 0xFF saturated to 0xFF
   * (written as UTF-16 where the candidates go, then narrowed in place by the module). `image`,
   * when given, is that image already made (at least n bytes): it is copied.
   */
  load(text: string, n: number, image?: ImageRef): void {
    this.reserve(n);
    if (image !== undefined && image.end - image.start >= n) {
      image.bytes.copy(this.bytes, this.text, image.start, image.start + n);
      return;
    }
    // Writing 2n bytes of UTF-16 stops after the first n units.
    this.bytes.write(text, this.candsAt, 2 * n, 'utf16le');
    this.exports.narrow(this.candsAt, n, this.text);
  }

  /** Scans the image's first `to` bytes; returns how many candidates `cands` now holds. */
  scan(to: number, digitRuns: boolean): number {
    if (to > this.capacity) throw new Error('scan past the reserved image');
    return this.exports.scan(this.tables, this.text, to, digitRuns ? 1 : 0, this.candsAt, this.runsAt, this.scratch);
  }

  /** Writes the short-anchor records; false when they do not fit (see LiteralScanner.setShorts). */
  setShorts(shorts: { text: string; before?: Uint8Array; after?: Uint8Array }[]): boolean {
    const record = this.exports.SHORT_RECORD.value;
    const most = this.exports.MAX_SHORTS.value;
    if (shorts.length > most) return false;
    if (shorts.some((a) => a.text.length < 1 || a.text.length > 3 || /[^\x00-\xff]/.test(a.text))) return false;
    const nibbles = this.specs + most * record;
    this.bytes.fill(0, nibbles, nibbles + 64);
    shorts.forEach((a, r) => {
      const at = this.specs + r * record;
      this.bytes[at] = a.text.length;
      for (let j = 0; j < 3; j++) this.bytes[at + 1 + j] = j < a.text.length ? a.text.charCodeAt(j) : 0;
      this.bytes.fill(1, at + 4, at + record);
      if (a.before) this.bytes.set(a.before, at + 4);
      if (a.after) this.bytes.set(a.after, at + 260);
      // Nibble tables: bit r where the anchor's first (and second) byte has that nibble.
      const bit = 1 << r;
      const first = a.text.charCodeAt(0);
      this.bytes[nibbles + (first & 15)] |= bit;
      this.bytes[nibbles + 16 + (first >> 4)] |= bit;
      for (let h = 0; h < 16; h++) {
        const second = a.text.length > 1 ? a.text.charCodeAt(1) : -1;
        if (second === -1 || (second & 15) === h) this.bytes[nibbles + 32 + h] |= bit;
        if (second === -1 || second >> 4 === h) this.bytes[nibbles + 48 + h] |= bit;
      }
    });
    this.shortCount = shorts.length;
    return true;
  }

  /** See LiteralScanner.shorts; the pairs are written where the candidates were (read those first). */
  shorts(to: number): Int32Array | undefined {
    if (to > this.capacity) throw new Error('scan past the reserved image');
    if (this.shortCount === 0) return this.cands.subarray(0, 0);
    const cap = this.capacity >>> 1;
    const n = this.exports.shorts(this.text, to, this.specs, this.shortCount, this.candsAt, cap);
    return n === -1 ? undefined : this.cands.subarray(0, 2 * n);
  }

  /** How many [start, end, digits] triples the last scan wrote to `runs`. */
  runCount(): number {
    return this.exports.runs();
  }
}

/** Longest text or chunk the stream helpers take at once. */
const SLICE = 1 << 20;
/** Most control positions listed per text; a text with more is left to the regex. */
const CONTROL_CAP = 1 << 16;

/**
 * The instance the stream helpers share (they run synchronously; each stream keeps its own decoder
 * state): an input area of SLICE bytes, a UTF-16 output area, and a list of control positions.
 */
let helper:
  | { exports: ScanExports; input: number; output: number; list: number; bytes: Buffer; positions: Int32Array }
  | undefined;

function streamHelper(): NonNullable<typeof helper> {
  if (helper === undefined) {
    const exports = instantiate();
    const input = align(exports.heapBase());
    const output = align(input + SLICE);
    const list = align(output + 2 * (SLICE + 2));
    const bytes = ensureMemory(exports.memory, list + 4 * CONTROL_CAP);
    helper = {
      exports,
      input,
      output,
      list,
      bytes,
      positions: new Int32Array(exports.memory.buffer, list, CONTROL_CAP),
    };
  }
  return helper;
}

/**
 * The indexes of the control characters (C0 other than \t \n \r, DEL, C1) in `text`, in order,
 * as a view valid until the next call. Undefined when the text is over 1 MiB or has more than
 * 65,536 of them. Sixteen characters per step (SIMD), where a regex scan of the text costs about
 * 1.5 ns per character.
 */
export function controlPositions(text: string): Int32Array | undefined {
  if (text.length > SLICE) return undefined;
  const { exports, input, output, list, bytes, positions } = streamHelper();
  bytes.write(text, output, 2 * text.length, 'utf16le');
  exports.narrow(output, text.length, input);
  const n = exports.controls(input, text.length, list, CONTROL_CAP);
  return n === -1 ? undefined : positions.subarray(0, n);
}

/** A text's scan image where it already is: bytes[start, end), one byte per UTF-16 unit. */
export interface ImageRef {
  bytes: Buffer;
  start: number;
  end: number;
}

/** What `joinAscii` and `StreamDecoder.decodeAfter` made of a chunk. */
export interface JoinedChunk {
  /** `prefix + chunk` (stripped) when `joined`, else the chunk's text alone. */
  text: string;
  joined: boolean;
  /** When not joined: the indexes of the chunk's control characters (undefined: not listed). */
  controls: Int32Array | undefined;
  /**
   * When joined: the text's scan image (one byte per unit, saturated), in the helper's memory,
   * valid until the next call of any helper.
   */
  image: ImageRef | undefined;
}

/** Reads text[from, to) of a text that may exist only as bytes so far. */
export type TextReader = (from: number, to: number) => string;

/**
 * What stripping a text does: the [start, end) pairs of the sequences to remove (flat, in order),
 * and where a tail that more text could still change starts (the text's length when none does).
 */
export interface StripPlan {
  /** A view of a buffer the next plan reuses. */
  cuts: Int32Array;
  keep: number;
}

/**
 * Strips a text that is still in memory: given its length, the indexes of its controls and a
 * reader of it, says what to remove and where to stop (see TerminalControlStripper.planInPlace).
 */
export type InPlaceStrip = (n: number, controls: Int32Array, read: TextReader) => StripPlan;

/**
 * Below this many units per control (coloured or progress-bar output: a CSI every few
 * characters), a chunk is not stripped in memory: a window string and a move per control cost
 * more there than stripping the chunk's string and flattening the pieces once.
 */
const UNITS_PER_CONTROL = 128;

/**
 * Finishes a join: the chunk's n units (of `width` bytes, in `encoding`) lie at `at`, right where
 * the prefix's end would be. Strips them there when they have controls (`count` of them listed;
 * -1, too many to list, or too many to strip here: not joined), writes the prefix before them,
 * and makes one string.
 */
function finishJoin(
  prefix: string,
  at: number,
  n: number,
  width: 1 | 2,
  count: number,
  strip: InPlaceStrip | undefined,
): JoinedChunk {
  const { exports, input, bytes, positions } = streamHelper();
  const encoding = width === 1 ? 'latin1' : 'utf16le';
  const read: TextReader = (from, to) => bytes.toString(encoding, at + width * from, at + width * to);
  if (count === -1 || (count > 0 && strip !== undefined && count * UNITS_PER_CONTROL > n)) {
    return {
      text: read(0, n),
      joined: false,
      controls: count === -1 ? undefined : positions.subarray(0, count),
      image: undefined,
    };
  }
  let kept = n;
  if (count > 0 && strip !== undefined) {
    const { cuts, keep } = strip(n, positions.subarray(0, count), read);
    // Moves the pieces between the cuts left, in place.
    let to = cuts.length > 0 ? cuts[0] : keep;
    for (let i = 0; i < cuts.length; i += 2) {
      const from = cuts[i + 1];
      const until = i + 2 < cuts.length ? cuts[i + 2] : keep;
      bytes.copyWithin(at + width * to, at + width * from, at + width * until);
      to += until - from;
    }
    kept = to;
  }
  const start = at - width * prefix.length;
  if (prefix.length > 0) bytes.write(prefix, start, width * prefix.length, encoding);
  const end = at + width * kept;
  const text = bytes.toString(encoding, start, end);
  if (width === 1) return { text, joined: true, controls: undefined, image: { bytes, start, end } };
  // UTF-16: its image is narrowed into the input area, whose bytes the decoder no longer needs,
  // so the scan copies one byte per unit instead of writing the string's two again.
  exports.narrow(start, text.length, input);
  return { text, joined: true, controls: undefined, image: { bytes, start: input, end: input + text.length } };
}

/**
 * Appends an ASCII chunk to `prefix` (a text with no unit above U+00FF) as one flat string, made
 * from bytes in the helper's memory and stripped there by `strip`: a stream's carried line and
 * its next chunk would otherwise be a rope (of the carry and the stripped pieces) that the first
 * search flattens, copying the chunk a second time. Undefined when the two do not fit.
 */
export function joinAscii(prefix: string, chunk: Uint8Array, strip: InPlaceStrip | undefined): JoinedChunk | undefined {
  if (prefix.length + chunk.length > SLICE) return undefined;
  const { exports, input, list, bytes } = streamHelper();
  const at = input + prefix.length;
  bytes.set(chunk, at);
  const count = strip !== undefined ? exports.controls(at, chunk.length, list, CONTROL_CAP) : 0;
  return finishJoin(prefix, at, chunk.length, 1, count, strip);
}

/** A decoded chunk and the exact indexes of its control characters (undefined: not listed). */
export interface DecodedChunk {
  text: string;
  controls: Int32Array | undefined;
}

/**
 * Streaming UTF-8 decoding with TextDecoder's results (WHATWG: one U+FFFD per maximal ill-formed
 * subpart, never a split character), compiled: runs of ASCII are widened sixteen bytes at a time,
 * and the control characters of the output are listed on the way. On the bench corpus's chunks it
 * takes 0.63 ms/MB, string included, against 0.85–0.95 for TextDecoder.
 */
export class StreamDecoder {
  private state = 0;

  /** True when no partial character is held. */
  get clean(): boolean {
    return this.state === 0;
  }

  /** Decodes the next chunk; `controls` is a view valid until the next call of any helper. */
  decode(chunk: Uint8Array): DecodedChunk {
    const { exports, input, output, list, bytes, positions } = streamHelper();
    let text = '';
    let controls: Int32Array | undefined;
    for (let p = 0; p < chunk.length; p += SLICE) {
      const piece = chunk.subarray(p, Math.min(chunk.length, p + SLICE));
      bytes.set(piece, input);
      const units = exports.decode(input, piece.length, output, list, CONTROL_CAP, this.state);
      this.state = exports.decodedState();
      text += bytes.toString('utf16le', output, output + 2 * units);
      const n = exports.decodedControls();
      // Positions are listed for single-slice chunks only.
      controls = p === 0 && piece.length === chunk.length && n !== -1 ? positions.subarray(0, n) : undefined;
    }
    return { text, controls };
  }

  /**
   * Decodes the next chunk right after `prefix` (already decoded text) into one flat string,
   * stripped by `strip`, as joinAscii does for ASCII chunks. Undefined (nothing decoded) when
   * the two do not fit.
   */
  decodeAfter(prefix: string, chunk: Uint8Array, strip: InPlaceStrip | undefined): JoinedChunk | undefined {
    // A held partial character can add one unit to what the chunk's bytes decode to.
    if (prefix.length + chunk.length + 1 > SLICE) return undefined;
    const { exports, input, output, list, bytes } = streamHelper();
    bytes.set(chunk, input);
    const at = output + 2 * prefix.length;
    const units = exports.decode(input, chunk.length, at, list, CONTROL_CAP, this.state);
    this.state = exports.decodedState();
    return finishJoin(prefix, at, units, 2, strip !== undefined ? exports.decodedControls() : 0, strip);
  }

  /** Ends the stream: a character left incomplete becomes U+FFFD. */
  end(): string {
    const incomplete = this.state !== 0;
    this.state = 0;
    return incomplete ? '\ufffd' : '';
  }
}
