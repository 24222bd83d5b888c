import type Dockerode from 'dockerode';
import { LABELS } from '../labels';

/**
 * One Docker event stream per executor, for this session's containers: 'oom' (the kernel's OOM
 * killer acted, which on cgroup v1 Docker does not always reflect in State.OOMKilled) and 'kill'
 * (who stopped a container: we, or someone outside — `docker kill`, a daemon shutting down).
 */
export interface ContainerEvents {
  /** Starts the subscription (idempotent); events before it resolves are not seen. */
  ready(): Promise<void>;
  /** Marks a kill as ours, so its 'kill' event is not taken for an outside one. */
  killedByUs(id: string): void;
  /** Waits up to `graceMs` for what the engine reported about this container. */
  verdict(id: string, graceMs: number): Promise<{ oom: boolean; externalSignal: string | null }>;
  forget(id: string): void;
  close(): void;
}

/** Entries kept per table; far more than the containers one executor has in flight. */
const MAX_TRACKED = 4096;

function trim(table: Set<string> | Map<string, string>): void {
  while (table.size > MAX_TRACKED) table.delete(table.keys().next().value as string);
}

export function createContainerEvents(docker: Dockerode, sessionId: string): ContainerEvents {
  const oom = new Set<string>();
  const kills = new Map<string, string>();
  const ours = new Set<string>();
  let stream: NodeJS.ReadableStream | undefined;
  let starting: Promise<void> | undefined;
  let closed = false;

  function onLine(line: string): void {
    if (!line.trim()) return;
    let event: {
      status?: string;
      Action?: string;
      id?: string;
      Actor?: { ID?: string; Attributes?: Record<string, string> };
    };
    try {
      event = JSON.parse(line);
    } catch {
      return; // A partial line cannot happen with the split below; anything else is not an event.
    }
    const id = event.Actor?.ID ?? event.id;
    const action = event.Action ?? event.status;
    if (!id) return;
    if (action === 'oom') oom.add(id);
    else if (action === 'kill') kills.set(id, event.Actor?.Attributes?.signal ?? '?');
    // An event can arrive after its container was forgotten (a kill while removing it): keep only
    // the newest entries, so a long-running service does not collect them.
    trim(oom);
    trim(kills);
  }

  return {
    ready() {
      starting ??= (async () => {
        const s = (await docker.getEvents({
          filters: { type: ['container'], event: ['oom', 'kill'], label: [`${LABELS.session}=${sessionId}`] },
        })) as NodeJS.ReadableStream;
        if (closed) {
          (s as unknown as { destroy(): void }).destroy();
          return;
        }
        stream = s;
        // A watcher must not keep the process alive on its own (the calls it serves do).
        (s as unknown as { socket?: { unref?: () => void } }).socket?.unref?.();
        let buf = '';
        s.on('data', (chunk: Buffer) => {
          buf += chunk.toString('utf8');
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            onLine(buf.slice(0, nl));
            buf = buf.slice(nl + 1);
          }
        });
        // A lost stream (daemon restart) is re-opened by the next call.
        s.on('error', () => {
          starting = undefined;
        });
        s.on('end', () => {
          starting = undefined;
        });
      })().catch((err: unknown) => {
        starting = undefined;
        throw err;
      });
      return starting;
    },
    killedByUs(id) {
      ours.add(id);
      trim(ours);
    },
    async verdict(id, graceMs) {
      const deadline = Date.now() + graceMs;
      while (!oom.has(id) && !kills.has(id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const signal = kills.get(id);
      return { oom: oom.has(id), externalSignal: signal !== undefined && !ours.has(id) ? signal : null };
    },
    forget(id) {
      oom.delete(id);
      kills.delete(id);
      ours.delete(id);
    },
    close() {
      closed = true;
      (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
    },
  };
}
