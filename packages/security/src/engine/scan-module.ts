import { SCAN_WASM } from './scan-wasm';

const ALIGN = 16;
const PAGE = 65536;
const SHIFT_BYTES = 16384;
const PAIR_BYTES = 65536;
/** The scan's four lists of visited positions (assembly/scan.ts SCRATCH_BYTES). */
const SCRATCH_BYTES = 4 * 4 * (65536 / 4 + 4);
/** Short-anchor records (assembly/scan.ts SHORT_BYTES): length, three bytes, before and after classes. */
const SHORT_RECORD = 4 + 256 + 256;
const MAX_SHORTS = 8;
const SHORT_BYTES = MAX_SHORTS * SHORT_RECORD;
/** A digit run holds at least nine digits, so a text of n bytes has fewer than n / 9 + 1 runs. */
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
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface ScanExports {
  memory: WasmMemory;
  heapBase(): number;
  runs(): number;
  scan(tables: number, text: number, to: number, digitRuns: number, cands: number, runs: number, scratch: number): number;
  controls(data: number, n: number, out: number, cap: number): number;
  shorts(text: number, to: number, specs: number, count: number, firsts: number, out: number, cap: number): number;
}

let compiled: object | undefined;

/** A new instance of the module (compiled once per process: under 2 KiB, synchronously). */
function instantiate(): ScanExports {
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
  private readonly specs: number;
  private shortCount = 0;
  private firsts = 0;
  private capacity = -1;
  private candsAt = 0;
  private runsAt = 0;

  constructor(shift: Uint8Array, bucket: Uint8Array, prefix: Uint8Array) {
    if (shift.length !== SHIFT_BYTES || bucket.length !== PAIR_BYTES || prefix.length !== PAIR_BYTES) throw new Error('scan tables have the wrong size');
    this.exports = instantiate();
    this.tables = align(this.exports.heapBase());
    this.specs = this.tables + SHIFT_BYTES + 2 * PAIR_BYTES + SCRATCH_BYTES;
    this.text = align(this.specs + SHORT_BYTES);
    this.bytes = ensureMemory(this.exports.memory, 0);
    this.reserve(PAGE);
    this.bytes.set(shift, this.tables);
    this.bytes.set(bucket, this.tables + SHIFT_BYTES);
    this.bytes.set(prefix, this.tables + SHIFT_BYTES + PAIR_BYTES);
  }

  /** Makes room for a text image of n bytes (plus one byte the scan may read past its end). */
  reserve(n: number): void {
    if (n <= this.capacity) return;
    const capacity = Math.max(n, 2 * this.capacity);
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

  /** Scans the image's first `to` bytes; returns how many candidates `cands` now holds. */
  scan(to: number, digitRuns: boolean): number {
    if (to > this.capacity) throw new Error('scan past the reserved image');
    const scratch = this.tables + SHIFT_BYTES + 2 * PAIR_BYTES;
    return this.exports.scan(this.tables, this.text, to, digitRuns ? 1 : 0, this.candsAt, this.runsAt, scratch);
  }

  /** Writes the short-anchor records; false when they do not fit (see LiteralScanner.setShorts). */
  setShorts(shorts: { text: string; before?: Uint8Array; after?: Uint8Array }[]): boolean {
    const firsts = [...new Set(shorts.map((a) => a.text.charCodeAt(0)))];
    if (shorts.length > MAX_SHORTS || firsts.length > 4) return false;
    if (shorts.some((a) => a.text.length < 1 || a.text.length > 3 || /[^\x00-\xff]/.test(a.text))) return false;
    shorts.forEach((a, r) => {
      const at = this.specs + r * SHORT_RECORD;
      this.bytes[at] = a.text.length;
      for (let j = 0; j < a.text.length; j++) this.bytes[at + 1 + j] = a.text.charCodeAt(j);
      this.bytes.fill(1, at + 4, at + SHORT_RECORD);
      if (a.before) this.bytes.set(a.before, at + 4);
      if (a.after) this.bytes.set(a.after, at + 4 + 256);
    });
    this.shortCount = shorts.length;
    this.firsts = [0, 1, 2, 3].reduce((acc, k) => acc | ((firsts[k] ?? firsts[0] ?? 0) << (8 * k)), 0);
    return true;
  }

  /** See LiteralScanner.shorts; the pairs are written where the candidates were (read those first). */
  shorts(to: number): Int32Array | undefined {
    if (to > this.capacity) throw new Error('scan past the reserved image');
    if (this.shortCount === 0) return this.cands.subarray(0, 0);
    const cap = this.capacity >>> 1;
    const n = this.exports.shorts(this.text, to, this.specs, this.shortCount, this.firsts, this.candsAt, cap);
    return n === -1 ? undefined : this.cands.subarray(0, 2 * n);
  }

  /** How many [start, end, digits] triples the last scan wrote to `runs`. */
  runCount(): number {
    return this.exports.runs();
  }
}

/** Longest text `controlPositions` takes; a longer one is left to the regex. */
const CONTROL_SLICE = 1 << 20;
/** Most control positions `controlPositions` lists; a text with more is left to the regex. */
const CONTROL_CAP = 1 << 16;
let controlFinder: { exports: ScanExports; at: number; out: number; bytes: Buffer; positions: Int32Array } | undefined;

/**
 * Candidate indexes of the control characters (C0 other than \t \n \r, DEL, C1) in `text`, in
 * order, as a view valid until the next call: the indexes of the matching bytes of its latin1
 * image, so a character above U+00FF can be listed too (U+011B truncates to 0x1B) and the caller
 * must check the character itself. Undefined when the text is over 1 MiB or has more than 65,536
 * of them. Sixteen bytes per step (SIMD), where a regex scan of the text costs about 1.5 ns per
 * character.
 */
export function controlPositions(text: string): Int32Array | undefined {
  if (text.length > CONTROL_SLICE) return undefined;
  if (controlFinder === undefined) {
    const exports = instantiate();
    const at = align(exports.heapBase());
    const out = align(at + CONTROL_SLICE);
    const bytes = ensureMemory(exports.memory, out + 4 * CONTROL_CAP);
    controlFinder = { exports, at, out, bytes, positions: new Int32Array(exports.memory.buffer, out, CONTROL_CAP) };
  }
  const { exports, at, out, bytes, positions } = controlFinder;
  bytes.write(text, at, text.length, 'latin1');
  const n = exports.controls(at, text.length, out, CONTROL_CAP);
  return n === -1 ? undefined : positions.subarray(0, n);
}
