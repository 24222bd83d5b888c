import type { AgentResult } from '@bastion/providers';
import { failedResult } from './sql-task-ledger';
import type { Claim, DurableTask, TaskLedger } from './task-ledger';
import { routerCapacity, startTaskWorker } from './task-worker';

const task: DurableTask = {
  id: '00000000-0000-4000-8000-000000000001',
  correlationId: 'c1',
  idempotencyKey: null,
  request: { prompt: 'p', intent: 'analyze' },
  state: 'running',
  attempts: 1,
  maxAttempts: 3,
  leaseOwner: 'w',
  leaseExpiresAt: null,
  cancelRequested: false,
  baseTreeHash: null,
  provider: null,
  result: null,
  createdAt: new Date().toISOString(),
  startedAt: null,
  finishedAt: null,
};

/** A ledger that hands out one task and whose heartbeats answer as the test says (or never). */
function ledgerWith(heartbeat: TaskLedger['heartbeat']) {
  let handedOut = false;
  const completed: AgentResult[] = [];
  const ledger = {
    claim: async (): Promise<Claim | undefined> => {
      if (handedOut) return undefined;
      handedOut = true;
      return { task, expiredLease: false, finishedWithoutRun: false };
    },
    heartbeat,
    appendEvents: async () => undefined,
    complete: async (_id: string, _w: string, result: AgentResult) => {
      completed.push(result);
      return true;
    },
  } as unknown as TaskLedger;
  return { ledger, completed };
}

/** A run that lasts until aborted, as a long agent call does. */
const runUntilAborted =
  (aborted: { at?: number }) =>
  (_request: Record<string, unknown>, o: { signal: AbortSignal; correlationId: string }) =>
    new Promise<AgentResult>((resolve) => {
      o.signal.addEventListener('abort', () => {
        aborted.at = Date.now();
        resolve(
          failedResult({ correlation_id: o.correlationId, request: {} }, 'TIMEOUT', 'the caller cancelled the call'),
        );
      });
    });

describe('task worker leases', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('stops a run and never commits it once 75 % of the lease passed without a renewal, before another worker may take the task', async () => {
    const problems: string[] = [];
    const { ledger, completed } = ledgerWith(() => new Promise(() => undefined)); // the database stopped answering
    const aborted: { at?: number } = {};
    const worker = startTaskWorker({
      ledger,
      run: runUntilAborted(aborted),
      leaseMs: 10_000,
      pollMs: 1_000,
      workerId: 'w',
      onProblem: (e) => problems.push(e),
    });
    await jest.advanceTimersByTimeAsync(7_000);
    expect(aborted.at).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(aborted.at).toBeDefined();
    expect(aborted.at! - 1_000_000).toBeGreaterThan(7_500);
    expect(aborted.at! - 1_000_000).toBeLessThanOrEqual(8_000);
    expect(problems).toContain('worker.lease_fenced');
    const closing = worker.close(0);
    await jest.advanceTimersByTimeAsync(2_000);
    await closing;
    expect(completed).toEqual([]);
  });

  it('keeps running while renewals succeed, and aborts the run when the task is cancelled', async () => {
    let cancelled = false;
    const { ledger, completed } = ledgerWith(async () => ({ held: true, cancelRequested: cancelled }));
    const aborted: { at?: number } = {};
    const worker = startTaskWorker({
      ledger,
      run: runUntilAborted(aborted),
      leaseMs: 10_000,
      pollMs: 1_000,
      workerId: 'w',
    });
    await jest.advanceTimersByTimeAsync(60_000);
    expect(aborted.at).toBeUndefined();
    cancelled = true;
    await jest.advanceTimersByTimeAsync(2_000);
    expect(aborted.at).toBeDefined();
    const closing = worker.close(0);
    await jest.advanceTimersByTimeAsync(2_000);
    await closing;
    expect(completed).toHaveLength(1);
    expect(completed[0].error).toMatchObject({ code: 'TIMEOUT', message: 'the caller cancelled the call' });
  });

  it('drops its result when a renewal says another worker holds the task now', async () => {
    const { ledger, completed } = ledgerWith(async () => ({ held: false, cancelRequested: false }));
    const aborted: { at?: number } = {};
    const worker = startTaskWorker({
      ledger,
      run: runUntilAborted(aborted),
      leaseMs: 10_000,
      pollMs: 1_000,
      workerId: 'w',
    });
    await jest.advanceTimersByTimeAsync(2_500);
    expect(aborted.at).toBeDefined();
    const closing = worker.close(0);
    await jest.advanceTimersByTimeAsync(2_000);
    await closing;
    expect(completed).toEqual([]);
  });
});

describe('task worker capacity', () => {
  it("claims no more tasks than its router's bulkheads hold, so the rest wait in the queue instead of failing bulkhead_full", async () => {
    const N = 6;
    let next = 0;
    let running = 0;
    let peak = 0;
    const completed: AgentResult[] = [];
    const ledger = {
      claim: async (): Promise<Claim | undefined> =>
        next < N
          ? {
              task: { ...task, id: `00000000-0000-4000-8000-00000000000${next++}` },
              expiredLease: false,
              finishedWithoutRun: false,
            }
          : undefined,
      heartbeat: async () => ({ held: true, cancelRequested: false }),
      appendEvents: async () => undefined,
      complete: async (_id: string, _w: string, result: AgentResult) => {
        completed.push(result);
        return true;
      },
    } as unknown as TaskLedger;
    const worker = startTaskWorker({
      ledger,
      concurrency: 10,
      capacity: () => 2,
      pollMs: 5,
      run: async (_request, o) => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return {
          ...failedResult({ correlation_id: o.correlationId, request: {} }, 'INTERNAL', ''),
          status: 'succeeded',
          error: null,
        } as AgentResult;
      },
    });
    for (let t = 0; t < 200 && completed.length < N; t++) await new Promise((r) => setTimeout(r, 10));
    await worker.close(1_000);
    expect(completed.map((r) => r.status)).toEqual(Array(N).fill('succeeded'));
    expect(peak).toBe(2);
  });

  it("reads a router's capacity as its smallest provider's running plus waiting slots, and none before it reports a provider", () => {
    expect(
      routerCapacity([
        { maxConcurrent: 8, maxQueue: 32 },
        { maxConcurrent: 2, maxQueue: 3 },
      ]),
    ).toBe(5);
    expect(routerCapacity([])).toBeUndefined();
  });
});
