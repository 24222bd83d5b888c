import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import type { Router } from '@bastion/agent-runtime';
import { openTaskLedger, parseDatabaseLocation, retentionDaysFrom } from '../../tasks/open-task-ledger';
import { routerTaskRunner } from '../../tasks/router-task-runner';
import type { TaskLedger } from '../../tasks/task-ledger';
import { createTaskMetrics } from '../../tasks/task-metrics';
import { routerCapacity, startTaskWorker, type StartedWorker } from '../../tasks/task-worker';
import type { CliContext } from '../cli-context';

export interface DurableServe {
  /** What createService takes as `durable`. */
  readonly service: { ledger: TaskLedger; onAccepted?: () => void; maxQueued: number };
  /** Stops the in-process worker (its tasks finish or, past drainMs, are given back by lease expiry). */
  close(drainMs: number): Promise<void>;
  closeLedger(): Promise<void>;
}

/**
 * The durable side of `bastion serve --database`: the ledger, the queue gauges, and for the
 * embedded store (or --worker-concurrency) a worker in this process that runs tasks through the
 * service's own router.
 */
export async function startDurableServe(
  ctx: CliContext,
  o: {
    database: string;
    router: Pick<Router, 'route' | 'health'>;
    registry: Registry;
    workerConcurrency?: number;
    maxInFlight: number;
    maxQueued: number;
  },
): Promise<DurableServe> {
  const location = parseDatabaseLocation(o.database);
  const ledger = await openTaskLedger(location, {
    dailyUsageRetentionDays: retentionDaysFrom(ctx.env),
    onIdleError: (err) =>
      ctx.io.stderr(
        `bastion serve: database connection lost (${(err as NodeJS.ErrnoException).code ?? err.message}); reconnecting\n`,
      ),
  });
  ctx.useDailyUsageStore(ledger.dailyUsage);
  const metrics = createTaskMetrics(o.registry);
  const gauge = setInterval(() => {
    ledger.stats().then(
      (s) => metrics.setQueue(s.queued, s.running),
      // The gauge keeps its last value; /readyz is where an unreachable database shows.
      () => undefined,
    );
  }, 1_000).unref();
  const concurrency = o.workerConcurrency ?? (location.kind === 'embedded' ? o.maxInFlight : 0);
  let worker: StartedWorker | undefined;
  if (concurrency > 0) {
    const workerId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    // The embedded store is this process's alone: a lease held by anyone else belongs to a process
    // that died (crash, SIGKILL), so its tasks run again now rather than after the lease; and no
    // other process can take a task from us, so the lease is long (self-fencing only on a long stall).
    if (location.kind === 'embedded') {
      const recovered = await ledger.recoverAbandoned(workerId);
      if (recovered > 0)
        ctx.io.stderr(`bastion serve: ${recovered} task(s) of a previous run that stopped will run again\n`);
    }
    worker = startTaskWorker({
      ledger,
      workerId,
      leaseMs: location.kind === 'embedded' ? 120_000 : 15_000,
      run: routerTaskRunner(o.router),
      concurrency,
      capacity: () => routerCapacity(o.router.health()),
      metrics,
      onProblem: (event, details) => ctx.io.stderr(`bastion serve: ${event} ${JSON.stringify(details)}\n`),
    });
  }
  ctx.io.stderr(
    `bastion serve: tasks are kept in ${location.display}${worker ? `; this process runs up to ${concurrency} of them` : '; run them with bastion worker --database'}\n`,
  );
  const w = worker;
  return {
    service: { ledger, maxQueued: o.maxQueued, ...(w ? { onAccepted: () => w.wake() } : {}) },
    async close(drainMs) {
      clearInterval(gauge);
      await worker?.close(drainMs);
    },
    closeLedger: () => ledger.close(),
  };
}
