import { stripVTControlCharacters } from 'node:util';
import { AGENT_OUTPUT_NOISE } from './output-noise';

export type TaskEventName = 'accepted' | 'routed' | 'output' | 'truncated' | 'result';

/** One server-sent event of a task; `id` rises by one per event, so `Last-Event-ID` can resume. */
export interface TaskEvent {
  readonly id: number;
  readonly event: TaskEventName;
  readonly data: unknown;
  readonly bytes: number;
}

export interface TaskEventLogOptions {
  /** Output kept for followers that join late or resume; beyond it the oldest output events go. Default 1 MiB. */
  maxOutputBytes?: number;
  /**
   * Output kept once the task finished (the tail): the service keeps up to a thousand finished
   * tasks, and late followers mostly want the result. Default 64 KiB.
   */
  finishedOutputBytes?: number;
  /** Whole lines matching one of these are not sent. Default AGENT_OUTPUT_NOISE. */
  noise?: readonly RegExp[];
  /** A partial line (no newline yet) is sent after this long, so text without newlines still streams. Default 100 ms. */
  partialLineMs?: number;
}

type Stream = 'stdout' | 'stderr';

type Listener = (event: TaskEvent | null) => void;

/**
 * The events of one task, in order, for every follower: the POST stream that submitted it and any
 * number of `GET /v1/tasks/:id/events`. Output is kept up to a byte budget so a task that talks a
 * lot cannot grow the service without bound; a follower resuming past what was dropped is told so
 * with a `truncated` event instead of silently missing text.
 */
export class TaskEventLog {
  private readonly events: TaskEvent[] = [];
  private readonly listeners = new Set<Listener>();
  private maxOutputBytes: number;
  private readonly finishedOutputBytes: number;
  private nextId = 1;
  private outputBytes = 0;
  private droppedThrough = 0;
  private ended = false;
  private readonly noise: readonly RegExp[];
  private readonly partialLineMs: number;
  private readonly partial: Record<Stream, string> = { stdout: '', stderr: '' };
  private readonly partialTimers: Partial<Record<Stream, NodeJS.Timeout>> = {};

  constructor(options: TaskEventLogOptions = {}) {
    this.maxOutputBytes = options.maxOutputBytes ?? 1024 * 1024;
    this.finishedOutputBytes = Math.min(this.maxOutputBytes, options.finishedOutputBytes ?? 64 * 1024);
    this.noise = options.noise ?? AGENT_OUTPUT_NOISE;
    this.partialLineMs = options.partialLineMs ?? 100;
  }

  get finished(): boolean {
    return this.ended;
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  push(event: Exclude<TaskEventName, 'truncated'>, data: unknown): void {
    if (this.ended) return;
    const bytes = Buffer.byteLength(JSON.stringify(data));
    const entry: TaskEvent = { id: this.nextId++, event, data, bytes };
    this.events.push(entry);
    if (event === 'output') {
      this.outputBytes += bytes;
      this.trim();
    }
    for (const l of this.listeners) l(entry);
  }

  /**
   * Agent output as followers see it. The text already left the call's streaming sanitizer; terminal
   * control sequences are dropped because no follower of an event stream is a terminal (the agents
   * run with TERM=dumb, but spinners and colour codes of tools they start still come through).
   */
  output(stream: Stream, text: string): void {
    if (this.ended) return;
    const lines = (this.partial[stream] + stripVTControlCharacters(text).replace(/\r(?!\n)/g, '\n')).split('\n');
    // Whole lines go out now, without the agents' known noise; the unfinished last line waits
    // briefly for its end (a noise line may arrive in two chunks) and then goes out as it is.
    this.partial[stream] = lines.pop() ?? '';
    this.emit(
      stream,
      lines.map((l) => `${l}\n`),
    );
    clearTimeout(this.partialTimers[stream]);
    if (this.partial[stream].length > 0) {
      this.partialTimers[stream] = setTimeout(() => this.flush(stream), this.partialLineMs);
      this.partialTimers[stream].unref();
    }
  }

  /** The last event: the AgentResult. Followers are told the stream is over. */
  finish(result: unknown): void {
    this.flush('stdout');
    this.flush('stderr');
    this.push('result', result);
    this.ended = true;
    this.maxOutputBytes = this.finishedOutputBytes;
    this.trim();
    for (const l of this.listeners) l(null);
    this.listeners.clear();
  }

  /** Events after `lastEventId` (0: all kept), led by a `truncated` event when some were dropped. */
  since(lastEventId: number): TaskEvent[] {
    const kept = this.events.filter((e) => e.id > lastEventId);
    if (lastEventId >= this.droppedThrough) return kept;
    const marker: TaskEvent = {
      id: this.droppedThrough,
      event: 'truncated',
      data: { droppedThroughId: this.droppedThrough, reason: 'output beyond the kept budget was dropped' },
      bytes: 0,
    };
    return [...kept.filter((e) => e.id < marker.id), marker, ...kept.filter((e) => e.id > marker.id)];
  }

  /** Called with each new event, then with null once the task finished. Returns the unsubscribe. */
  subscribe(listener: Listener): () => void {
    if (this.ended) {
      listener(null);
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private flush(stream: Stream): void {
    clearTimeout(this.partialTimers[stream]);
    const rest = this.partial[stream];
    this.partial[stream] = '';
    this.emit(stream, [rest]);
  }

  private emit(stream: Stream, lines: string[]): void {
    const text = lines.filter((l) => !this.noise.some((n) => n.test(l))).join('');
    if (text.length > 0) this.push('output', { stream, text });
  }

  private trim(): void {
    while (this.outputBytes > this.maxOutputBytes) {
      const index = this.events.findIndex((e) => e.event === 'output');
      if (index < 0) return;
      const [dropped] = this.events.splice(index, 1);
      this.outputBytes -= dropped.bytes;
      this.droppedThrough = Math.max(this.droppedThrough, dropped.id);
    }
  }
}
