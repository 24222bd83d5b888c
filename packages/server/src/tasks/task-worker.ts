import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentResult } from '@bastion/providers';
import { failedResult } from './sql-task-ledger';
import type { DurableTask, LedgerEventName, TaskLedger } from './task-ledger';
import type { TaskMetrics } from './task-metrics';
import { workspaceTreeHash } from './tree-hash';

/** How a worker runs one task on its host: the runtime's router (or any runner with the same shape). */
export type TaskRunner = (
  request: Record<string, unknown>,
  options: {
    correlationId: string;
    signal: AbortSignal;
    onOutput: (stream: 'stdout' | 'stderr', text: string) => void;
    onRouted: (info: { provider: string; attempt: number }) => void;
  },
) => Promise<AgentResult>;

export interface TaskWorkerOptions {
  ledger: TaskLedger;
  run: TaskRunner;
  /** Tasks this worker runs at once. Default 1. */
  concurrency?: number;
  /**
   * The most tasks the runner can take at once right now (its router's bulkheads), read before each
   * claim; undefined: no limit known. A claimed task beyond it would fail `bulkhead_full` although
   * it could simply wait: it stays queued in the ledger instead.
   */
  capacity?: () => number | undefined;
  /** A lease not renewed for this long is taken to mean the worker died. Default 15 s. */
  leaseMs?: number;
  /** Renewal interval. Default leaseMs / 5: three renewals may fail before the worker fences itself at 75 %. */
  heartbeatMs?: number;
  /** Wait between claims when the queue is empty. Default 100 ms. */
  pollMs?: number;
  /** Output is written to the ledger in batches at this interval. Default 200 ms. */
  flushMs?: number;
  workerId?: string;
  metrics?: TaskMetrics;
  /** Database trouble and lost leases, for the operator's log. */
  onProblem?: (event: string, details: Record<string, unknown>) => void;
}

export interface StartedWorker extends AsyncDisposable {
  readonly id: string;
  readonly active: number;
  /** Ask for a claim now (the in-process API just committed a task). */
  wake(): void;
  /** Stops claiming, waits for running tasks (aborting them after drainMs), then resolves. */
  close(drainMs?: number): Promise<void>;
}

/**
 * A worker: leases tasks from the ledger, runs them on this host's sandbox backend, renews the
 * lease while they run, and commits each result only while it still holds the lease. A worker that
 * dies stops renewing; another claims the task when the lease expires (at-least-once, bounded by
 * the task's max attempts). Cancellation is a flag on the task row that the holder reads on its
 * next heartbeat and turns into an abort of the run.
 */
export function startTaskWorker(options: TaskWorkerOptions): StartedWorker {
  const { ledger, run } = options;
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const leaseMs = options.leaseMs ?? 15_000;
  const heartbeatMs = options.heartbeatMs ?? Math.max(20, Math.floor(leaseMs / 5));
  const pollMs = options.pollMs ?? 100;
  const flushMs = options.flushMs ?? 200;
  const id = options.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const problem = options.onProblem ?? (() => undefined);
  const active = new Map<string, { abort: AbortController; done: Promise<void> }>();
  let stopping = false;
  let wakeUp: (() => void) | undefined;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  const loop = (async () => {
    let backoff = pollMs;
    while (!stopping) {
      if (active.size >= Math.min(concurrency, Math.max(1, options.capacity?.() ?? Infinity))) {
        await Promise.race([...active.values()].map((a) => a.done));
        continue;
      }
      let claim;
      try {
        claim = await ledger.claim(id, leaseMs);
        backoff = pollMs;
      } catch (err) {
        // The database is away: keep running what we hold, try again with a growing pause.
        problem('worker.claim_failed', { workerId: id, error: (err as Error).message });
        await wait(backoff);
        backoff = Math.min(backoff * 2, 2_000);
        continue;
      }
      if (!claim) {
        await wait(pollMs);
        continue;
      }
      if (claim.expiredLease) options.metrics?.leaseExpired();
      if (claim.finishedWithoutRun) continue;
      if (claim.expiredLease) options.metrics?.retried();
      options.metrics?.started(Date.now() - Date.parse(claim.task.createdAt));
      const abort = new AbortController();
      const entry = { abort, done: Promise.resolve() };
      entry.done = execute(claim.task, abort).finally(() => {
        active.delete(claim.task.id);
        wakeUp?.();
      });
      active.set(claim.task.id, entry);
    }
  })();

  async function execute(task: DurableTask, abort: AbortController): Promise<void> {
    let leaseLost = false;
    const pending: { event: LedgerEventName; data: unknown }[] = [];
    let flushing: Promise<void> = Promise.resolve();
    const flush = () => {
      if (pending.length === 0) return flushing;
      const batch = pending.splice(0);
      flushing = flushing
        .then(() => ledger.appendEvents(task.id, batch))
        .catch((err: unknown) => {
          // Events are what followers see; losing a batch while the database is away costs output
          // lines, never the result (which is committed with the completion).
          problem('worker.events_lost', {
            workerId: id,
            taskId: task.id,
            events: batch.length,
            error: (err as Error).message,
          });
        });
      return flushing;
    };
    const flusher = setInterval(() => void flush(), flushMs);
    let renewedAt = Date.now();
    // Self-fencing: past 75 % of the lease without a renewal (database away, event loop starved),
    // another worker may soon take the task; this run stops and will not commit, so two runs of
    // one task never race to apply (the re-run finds any apply of this one and ends CONFLICT).
    const fence = setInterval(
      () => {
        if (leaseLost || Date.now() - renewedAt <= leaseMs * 0.75) return;
        leaseLost = true;
        problem('worker.lease_fenced', { workerId: id, taskId: task.id, sinceRenewalMs: Date.now() - renewedAt });
        abort.abort();
      },
      Math.max(10, Math.floor(leaseMs / 20)),
    );
    const heartbeat = setInterval(() => {
      const sentAt = Date.now();
      ledger.heartbeat(task.id, id, leaseMs).then(
        (status) => {
          if (status.held) renewedAt = Math.max(renewedAt, sentAt);
          if (!status.held) {
            leaseLost = true;
            problem('worker.lease_lost', { workerId: id, taskId: task.id });
            abort.abort();
          } else if (status.cancelRequested) abort.abort();
        },
        (err: unknown) =>
          problem('worker.heartbeat_failed', { workerId: id, taskId: task.id, error: (err as Error).message }),
      );
    }, heartbeatMs);
    try {
      const guard = await applyGuard(task);
      const result =
        guard.conflict ??
        (await run(task.request, {
          correlationId: task.correlationId,
          signal: abort.signal,
          onOutput: (stream, text) => pending.push({ event: 'output', data: { stream, text } }),
          onRouted: (info) => pending.push({ event: 'routed', data: info }),
        }).catch((err: unknown) =>
          failedResult(
            { correlation_id: task.correlationId, request: task.request },
            'INTERNAL',
            `the worker's runner failed unexpectedly: ${(err as Error).message}`,
          ),
        ));
      clearInterval(flusher);
      await flush();
      if (leaseLost) return;
      const apply =
        guard.baseTreeHash && result.appliedChanges.length > 0
          ? { baseTreeHash: guard.baseTreeHash, appliedChanges: result.appliedChanges }
          : undefined;
      await commit(task, result, apply);
    } finally {
      clearInterval(flusher);
      clearInterval(heartbeat);
      clearInterval(fence);
    }
  }

  /**
   * An apply may only go over the tree the task first ran against. Whether an edit task applies is
   * decided during the run (FF_CURSOR_AUTOFIX, read per call), so every edit task with a workspace
   * is guarded: the first attempt records the tree's hash; a re-run that finds another tree
   * (changed by someone, or by this task's own apply whose completion never committed) ends
   * CONFLICT without running, so nothing is applied twice or over a changed tree.
   */
  async function applyGuard(task: DurableTask): Promise<{ baseTreeHash?: string; conflict?: AgentResult }> {
    const workspace = task.request.workspace;
    if (task.request.intent !== 'edit' || typeof workspace !== 'string') return {};
    const current = await workspaceTreeHash(workspace);
    const base = await ledger.setBaseTreeHash(task.id, id, current);
    if (base === current) return { baseTreeHash: base };
    return {
      conflict: failedResult(
        { correlation_id: task.correlationId, request: task.request },
        'CONFLICT',
        'the workspace changed since this task first ran (or its earlier run applied changes and stopped before recording them): nothing was applied; review the workspace and submit a new task',
      ),
    };
  }

  /** The result must land: while the database is away, retry until it is back or the lease is gone. */
  async function commit(
    task: DurableTask,
    result: AgentResult,
    apply?: { baseTreeHash: string; appliedChanges: readonly unknown[] },
  ) {
    for (let pause = 100; ; pause = Math.min(pause * 2, 2_000)) {
      try {
        const recorded = await ledger.complete(task.id, id, result, apply);
        if (!recorded)
          problem('worker.result_dropped', {
            workerId: id,
            taskId: task.id,
            reason: 'the lease expired and another worker owns the task',
          });
        return;
      } catch (err) {
        problem('worker.complete_failed', { workerId: id, taskId: task.id, error: (err as Error).message });
        if (stopping && pause >= 2_000) return;
        await sleep(pause);
      }
    }
  }

  let closing: Promise<void> | undefined;
  const close = (drainMs = 30_000) => {
    closing ??= (async () => {
      stopping = true;
      wakeUp?.();
      await loop;
      const all = Promise.allSettled([...active.values()].map((a) => a.done));
      const timer = setTimeout(() => {
        for (const a of active.values()) a.abort.abort();
      }, drainMs);
      await all;
      clearTimeout(timer);
    })();
    return closing;
  };

  return {
    id,
    get active() {
      return active.size;
    },
    wake: () => wakeUp?.(),
    close,
    [Symbol.asyncDispose]: () => close(),
  };
}

/**
 * How many tasks a router takes at once without refusing one `bulkhead_full`: every provider's
 * running plus waiting slots hold at least this many, whichever provider the tasks name. undefined
 * while the router reports no provider (not started yet).
 */
export function routerCapacity(health: readonly { maxConcurrent: number; maxQueue: number }[]): number | undefined {
  if (health.length === 0) return undefined;
  return Math.min(...health.map((h) => h.maxConcurrent + h.maxQueue));
}
