/** Delivers one MCP progress notification; `progress` rises with each call. */
export type ProgressSink = (progress: number, message: string) => Promise<void> | void;
import type { Clock } from '@bastion/core';

export interface ProgressReporter {
  routed(provider: string): void;
  output(chars: number): void;
  stop(): void;
}

export interface ProgressReporterOptions {
  /** A notification at least this often while the call runs, so clients can tell slow from stuck. */
  intervalMs: number;
  /** Output notifications are sent at most this often. Default 1 s. */
  outputEveryMs?: number;
  now?: Clock;
}

const NONE: ProgressReporter = { routed: () => undefined, output: () => undefined, stop: () => undefined };

/**
 * Progress of one run_task call as MCP progress notifications: which provider took it, then the
 * elapsed time and how much (sanitized) output the agent has produced, never the output itself, so
 * nothing reaches the client before the result passed the exit gate.
 */
export function createProgressReporter(
  sink: ProgressSink | undefined,
  options: ProgressReporterOptions,
): ProgressReporter {
  if (!sink) return NONE;
  const now = options.now ?? Date.now;
  const started = now();
  let count = 0;
  let provider: string | undefined;
  let chars = 0;
  let lastSent = 0;
  let stopped = false;

  const send = (message: string) => {
    if (stopped) return;
    count += 1;
    lastSent = now();
    Promise.resolve(sink(count, message)).catch(() => {
      // The client can no longer take notifications (it went away); the call goes on to its result.
      stopped = true;
    });
  };
  const running = () => {
    const seconds = Math.round((now() - started) / 1000);
    return `agent running${provider ? ` on ${provider}` : ''}: ${seconds} s, ${chars} characters of output`;
  };

  send('checking policy and starting the sandbox');
  const timer = setInterval(() => send(running()), options.intervalMs);
  timer.unref();

  return {
    routed(id) {
      provider = id;
      send(`routed to ${id}`);
    },
    output(n) {
      chars += n;
      if (now() - lastSent >= (options.outputEveryMs ?? 1_000)) send(running());
    },
    stop() {
      clearInterval(timer);
      stopped = true;
    },
  };
}
