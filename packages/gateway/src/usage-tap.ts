import { Transform, type TransformCallback } from 'node:stream';
import type { BudgetBreach, ResponseUsage } from './usage-meter';

/** A JSON (not streamed) body is read for its usage up to this size; past it, the bytes still pass. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;
const LF_LF = Buffer.from('\n\n');
const LF_CRLF = Buffer.from('\n\r\n');

type Counts = { input?: number; output?: number; model?: string };

/**
 * Usage in one parsed API event: Gemini's `usageMetadata` (prompt and candidate tokens; thinking
 * tokens are billed as output) or Anthropic's `usage` in `message_start` / `message_delta`. Both
 * providers report counts cumulative within a response, so the meter takes the latest.
 */
export function usageOf(doc: unknown): Counts | undefined {
  if (Array.isArray(doc)) {
    let last: Counts | undefined;
    for (const d of doc) last = usageOf(d) ?? last;
    return last;
  }
  if (doc === null || typeof doc !== 'object') return undefined;
  const o = doc as Record<string, unknown>;
  const gm = o.usageMetadata as Record<string, unknown> | undefined;
  if (gm && typeof gm === 'object') {
    const out = num(gm.candidatesTokenCount) + num(gm.thoughtsTokenCount);
    const c: Counts = { input: num(gm.promptTokenCount), output: out };
    if (typeof o.modelVersion === 'string') c.model = o.modelVersion;
    return c;
  }
  const msg =
    o.type === 'message_start'
      ? (o.message as Record<string, unknown> | undefined)
      : o.type === 'message'
        ? o
        : undefined;
  const usage = (msg?.usage ?? (o.type === 'message_delta' ? o.usage : undefined)) as
    Record<string, unknown> | undefined;
  if (usage && typeof usage === 'object') {
    const input =
      usage.input_tokens === undefined
        ? undefined
        : num(usage.input_tokens) + num(usage.cache_creation_input_tokens) + num(usage.cache_read_input_tokens);
    const c: Counts = {
      ...(input !== undefined ? { input } : {}),
      ...(usage.output_tokens !== undefined ? { output: num(usage.output_tokens) } : {}),
    };
    if (typeof msg?.model === 'string') c.model = msg.model;
    return c;
  }
  return undefined;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : 0);

/**
 * Passes a model response through unchanged and reports its usage to the call's meter as it goes.
 * Server-sent events are read event by event without holding bytes back; when the event that
 * reaches a budget has passed, the stream ends right after it (a clean end at an event boundary,
 * not a reset) and `onCut` lets the proxy drop the upstream. A JSON body is read whole at its end.
 * Only events that mention usage are parsed, which keeps the cost per response in microseconds.
 */
export class UsageTap extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private json: Buffer[] | undefined;
  private jsonBytes = 0;
  private cut = false;

  constructor(
    private readonly kind: 'sse' | 'json' | 'other',
    private readonly usage: ResponseUsage,
    private readonly onCut: (breach: BudgetBreach) => void,
  ) {
    super();
    if (kind === 'json') this.json = [];
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.cut) return done();
    if (this.kind === 'json') {
      if (this.json && this.jsonBytes + chunk.length <= MAX_JSON_BYTES) this.json.push(chunk);
      else this.json = undefined;
      this.jsonBytes += chunk.length;
      return done(null, chunk);
    }
    if (this.kind !== 'sse') return done(null, chunk);
    const all = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const a = all.indexOf(LF_LF, start);
      const b = all.indexOf(LF_CRLF, start);
      const at = a === -1 ? b : b === -1 ? a : Math.min(a, b);
      if (at === -1) break;
      const end = at + (at === a ? LF_LF.length : LF_CRLF.length);
      const breach = this.event(all.subarray(start, end));
      start = end;
      if (breach) {
        // Everything up to the end of the event that reached the budget, then a clean end.
        const upTo = end - this.pending.length;
        if (upTo > 0) this.push(chunk.subarray(0, upTo));
        this.cut = true;
        this.pending = Buffer.alloc(0);
        this.push(null);
        this.onCut(breach);
        return done();
      }
    }
    this.pending = start === 0 ? all : all.subarray(start);
    // A pathological event without a boundary is not held in memory: usage comes in small events.
    if (this.pending.length > MAX_JSON_BYTES) this.pending = Buffer.alloc(0);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.cut) return done();
    if (this.kind === 'sse' && this.pending.length > 0) this.event(this.pending);
    if (this.kind === 'json' && this.json) {
      const text = Buffer.concat(this.json).toString('utf8');
      if (text.includes('sage')) this.parse(text);
    }
    done();
  }

  private event(bytes: Buffer): BudgetBreach | undefined {
    // Cheap filter: `usageMetadata` and `usage` both contain "sage"; most events carry neither.
    if (bytes.indexOf('sage') === -1) return undefined;
    let breach: BudgetBreach | undefined;
    for (const line of bytes.toString('utf8').split(/\r?\n/)) {
      if (!line.startsWith('data:')) continue;
      breach = this.parse(line.slice(5).trim()) ?? breach;
    }
    return breach;
  }

  private parse(text: string): BudgetBreach | undefined {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      // Not JSON (a comment, a truncated body): no usage in it; the bytes were relayed unchanged.
      if (err instanceof SyntaxError) return undefined;
      throw err;
    }
    const c = usageOf(doc);
    return c ? this.usage.report(c.input, c.output, c.model) : undefined;
  }
}

/** How a response is read for usage, from its content type. */
export function usageKind(contentType: string | string[] | undefined): 'sse' | 'json' | 'other' {
  const ct = String(contentType ?? '').toLowerCase();
  return ct.includes('text/event-stream') ? 'sse' : ct.includes('json') ? 'json' : 'other';
}
