import type { ServerResponse } from 'node:http';
import type { TaskEvent, TaskEventLog } from './task-event-log';

export interface FollowOptions {
  /** Resume after this id (the `Last-Event-ID` header); 0 replays every kept event. */
  lastEventId: number;
  /** Comment lines at this interval keep proxies from closing an idle stream. */
  heartbeatMs: number;
  headers?: Record<string, string>;
}

/** `Last-Event-ID` as a number; anything else (absent, junk, negative) replays from the start. */
export function parseLastEventId(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d{1,15}$/.test(value.trim())) return 0;
  return Number(value.trim());
}

/**
 * Writes a task's events to an SSE response until the task finishes or the client goes: every event
 * carries `id:` so an EventSource (or curl with Last-Event-ID) resumes where it stopped, and a
 * heartbeat comment is sent while the agent is quiet. Resolves when the stream ended either way,
 * with whether the client left first.
 */
export function followTaskEvents(
  res: ServerResponse,
  log: TaskEventLog,
  options: FollowOptions,
): Promise<{ clientLeft: boolean }> {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    // A stream is one long response; closing its connection when it ends means a draining service
    // is not held open by a follower's idle keep-alive socket (hijacked replies are never "idle").
    connection: 'close',
    'x-accel-buffering': 'no',
    ...options.headers,
  });
  res.flushHeaders();
  let lastSent = options.lastEventId;
  const send = (e: TaskEvent) => {
    if (e.id <= lastSent || res.writableEnded || res.destroyed) return;
    lastSent = e.id;
    res.write(`id: ${e.id}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
  };
  for (const e of log.since(options.lastEventId)) send(e);

  return new Promise((resolve) => {
    let done = false;
    let unsubscribe: () => void = () => undefined;
    const heartbeat = setInterval(() => {
      if (!res.writableEnded && !res.destroyed) res.write(`: heartbeat ${new Date().toISOString()}\n\n`);
    }, options.heartbeatMs);
    heartbeat.unref();
    const end = (clientLeft: boolean) => {
      if (done) return;
      done = true;
      clearInterval(heartbeat);
      unsubscribe();
      res.off('close', onClose);
      if (!res.writableEnded) res.end();
      resolve({ clientLeft });
    };
    const onClose = () => end(!log.finished);
    res.on('close', onClose);
    unsubscribe = log.subscribe((e) => (e ? send(e) : end(false)));
  });
}
