import { stripVTControlCharacters } from 'node:util';

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
}

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
  private readonly maxOutputBytes: number;
  private nextId = 1;
  private outputBytes = 0;
  private droppedThrough = 0;
  private ended = false;

  constructor(options: TaskEventLogOptions = {}) {
    this.maxOutputBytes = options.maxOutputBytes ?? 1024 * 1024;
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
  output(stream: 'stdout' | 'stderr', text: string): void {
    const clean = stripVTControlCharacters(text).replace(/\r(?!\n)/g, '\n');
    if (clean.trim().length === 0) return;
    this.push('output', { stream, text: clean });
  }

  /** The last event: the AgentResult. Followers are told the stream is over. */
  finish(result: unknown): void {
    this.push('result', result);
    this.ended = true;
    for (const l of this.listeners) l(null);
    this.listeners.clear();
  }

  /** Events after `lastEventId` (0: all kept), led by a `truncated` event when some were dropped. */
  since(lastEventId: number): TaskEvent[] {
    const kept = this.events.filter((e) => e.id > lastEventId);
    if (lastEventId >= this.droppedThrough) return kept;
    const marker: TaskEvent = { id: this.droppedThrough, event: 'truncated', data: { droppedThroughId: this.droppedThrough, reason: 'output beyond the kept budget was dropped' }, bytes: 0 };
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
