import { randomUUID } from 'node:crypto';
import type { Executor, ExecutorHooks, ExecutorOutcome, ExecutorRequest } from '@bastion/sandbox';

/** What the scripted "process" does for one request. */
export interface MemoryRunScript {
  stdout?: string | Uint8Array;
  stderr?: string | Uint8Array;
  exitCode?: number | null;
  /** Simulated run time; the run ends early (aborted) when the hooks' signal fires. */
  delayMs?: number;
  oomKilled?: boolean;
  timedOut?: boolean;
}

export interface MemoryExecutorOptions {
  /** Decides each run's output; default: exit 0 with no output. May be async. */
  script?: (request: ExecutorRequest) => MemoryRunScript | Promise<MemoryRunScript>;
}

/** An Executor that runs nothing: the scripted outcome is replayed through the same hooks. */
export interface MemoryExecutor extends Executor {
  readonly backend: 'memory';
  /** Every request seen, in order (policy already applied: limits are the clamped ones). */
  readonly requests: readonly ExecutorRequest[];
  /** Runs started and not yet finished. */
  readonly running: number;
  readonly closed: boolean;
}

const encoder = new TextEncoder();

/**
 * The in-memory executor for tests and benchmarks: the pipeline, sanitizer, router and service run
 * for real while no container starts. Output goes through `onStdout`/`onStderr` like a real backend.
 */
export function createMemoryExecutor(options: MemoryExecutorOptions = {}): MemoryExecutor {
  const requests: ExecutorRequest[] = [];
  const inFlight = new Set<AbortController>();
  let closed = false;

  async function run(request: ExecutorRequest, hooks: ExecutorHooks): Promise<ExecutorOutcome> {
    if (closed) throw Object.assign(new Error('memory executor is closed'), { code: 'ECONNREFUSED' });
    requests.push(request);
    const started = performance.now();
    const sandboxId = `memory-${randomUUID()}`;
    const local = new AbortController();
    inFlight.add(local);
    const onAbort = () => local.abort();
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    if (hooks.signal?.aborted) local.abort();
    try {
      hooks.onStarted?.({ sandboxId, startupMs: 0 });
      const script = (await options.script?.(request)) ?? {};
      if (script.delayMs && script.delayMs > 0 && !local.signal.aborted) await sleep(script.delayMs, local.signal);
      const aborted = local.signal.aborted;
      if (!aborted) {
        if (script.stdout !== undefined) hooks.onStdout(bytes(script.stdout));
        if (script.stderr !== undefined) hooks.onStderr(bytes(script.stderr));
      }
      return {
        exitCode: aborted ? null : script.exitCode === undefined ? 0 : script.exitCode,
        signal: aborted ? 'SIGKILL' : null,
        oomKilled: script.oomKilled ?? false,
        timedOut: script.timedOut ?? false,
        outputLimited: null,
        aborted,
        durationMs: performance.now() - started,
        startupMs: 0,
        sandboxId,
      };
    } finally {
      hooks.signal?.removeEventListener('abort', onAbort);
      inFlight.delete(local);
    }
  }

  return {
    backend: 'memory',
    requests,
    get running() {
      return inFlight.size;
    },
    get closed() {
      return closed;
    },
    run,
    async close() {
      closed = true;
      for (const c of inFlight) c.abort();
    },
  };
}

function bytes(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? encoder.encode(value) : value;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
