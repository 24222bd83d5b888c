import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentResult } from '@bastion/providers';
import { failedResult } from '../tasks/sql-task-ledger';
import type { TaskLedger } from '../tasks/task-ledger';

/** A finished result as a worker would record it. */
export function okResult(correlationId: string, extra: Partial<AgentResult> = {}): AgentResult {
  return {
    ...failedResult({ correlation_id: correlationId, request: {} }, 'INTERNAL', 'x'),
    status: 'succeeded',
    provider: 'fake',
    response: 'done',
    error: null,
    ...extra,
  };
}

/**
 * The behaviour every TaskLedger keeps, run against each store (embedded PGlite in the unit
 * tests, a PostgreSQL server in the integration tests): a new store passes this suite first.
 */
export function taskLedgerContract(open: () => Promise<TaskLedger>): void {
  let ledger: TaskLedger;
  beforeAll(async () => {
    ledger = await open();
  }, 60_000);
  afterAll(async () => {
    await ledger?.close();
  });
  const request = { intent: 'ask', prompt: 'hello' };
  // Tasks other tests left queued would be claimed first: each test drains what it made.
  const drain = async () => {
    for (let c = await ledger.claim('drain', 60_000); c; c = await ledger.claim('drain', 60_000)) {
      if (!c.finishedWithoutRun) await ledger.complete(c.task.id, 'drain', okResult(c.task.correlationId));
    }
  };
  beforeEach(drain);

  it('commits an accepted task with its accepted event, and the same idempotency key returns the same task', async () => {
    const key = `k-${Date.now()}-${Math.random()}`;
    const first = await ledger.submit({ request, correlationId: 'c1', idempotencyKey: key });
    const again = await ledger.submit({ request: { intent: 'other' }, correlationId: 'c2', idempotencyKey: key });
    expect(first.created).toBe(true);
    expect(again).toEqual({ task: first.task, created: false });
    expect((await ledger.get(first.task.id))?.state).toBe('queued');
    expect((await ledger.eventsSince(first.task.id, 0)).map((e) => [e.seq, e.event])).toEqual([[1, 'accepted']]);
    expect(await ledger.get('not-a-uuid')).toBeUndefined();
  });

  it('hands each queued task to exactly one of many concurrent claimers, oldest first', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await ledger.submit({ request, correlationId: `c${i}` })).task.id);
    const claims = await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.claim(`w${i}`, 60_000)));
    const got = claims.filter((c) => c !== undefined).map((c) => c!.task.id);
    expect(got.sort()).toEqual([...ids].sort());
    expect((await ledger.stats()).running).toBeGreaterThanOrEqual(12);
    for (const c of claims) if (c) await ledger.complete(c.task.id, c.task.leaseOwner!, okResult(c.task.correlationId));
  });

  it("gives a task whose worker stopped renewing its lease to another worker, and drops the dead run's late result", async () => {
    const { task } = await ledger.submit({ request, correlationId: 'lease' });
    const first = await ledger.claim('dead', 50);
    expect(first?.task.id).toBe(task.id);
    expect(await ledger.heartbeat(task.id, 'dead', 50)).toEqual({ held: true, cancelRequested: false });
    await sleep(120);
    const second = await ledger.claim('alive', 60_000);
    expect(second).toMatchObject({
      expiredLease: true,
      finishedWithoutRun: false,
      task: { id: task.id, attempts: 2, leaseOwner: 'alive' },
    });
    expect((await ledger.heartbeat(task.id, 'dead', 50)).held).toBe(false);
    expect(await ledger.complete(task.id, 'dead', okResult('lease', { response: 'late' }))).toBe(false);
    expect(await ledger.complete(task.id, 'alive', okResult('lease'))).toBe(true);
    const done = await ledger.get(task.id);
    expect(done).toMatchObject({ state: 'succeeded', result: { response: 'done' }, leaseOwner: null });
    const events = await ledger.eventsSince(task.id, 0);
    expect(events.map((e) => e.event)).toEqual(['accepted', 'retrying', 'result']);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('fails a task for good once its attempts are used up, instead of running it again', async () => {
    const { task } = await ledger.submit({ request, correlationId: 'max', maxAttempts: 1 });
    await ledger.claim('dies', 30);
    await sleep(80);
    const claim = await ledger.claim('next', 60_000);
    expect(claim).toMatchObject({ finishedWithoutRun: true, task: { id: task.id, state: 'failed' } });
    const done = await ledger.get(task.id);
    expect(done?.result?.error).toMatchObject({ code: 'PROVIDER_FAILED', retryable: true });
    expect(done?.result?.error?.message).toMatch(/max attempts 1/);
  });

  it('cancels a queued task at once and flags a running one for the worker holding it', async () => {
    const queued = (await ledger.submit({ request, correlationId: 'q' })).task;
    const cancelledQueued = await ledger.cancel(
      queued.id,
      failedResult({ correlation_id: 'q', request }, 'TIMEOUT', 'the caller cancelled the task'),
    );
    expect(cancelledQueued).toMatchObject({ state: 'failed', cancelRequested: true });
    const running = (await ledger.submit({ request, correlationId: 'r' })).task;
    await ledger.claim('holder', 60_000);
    expect(
      await ledger.cancel(running.id, failedResult({ correlation_id: 'r', request }, 'TIMEOUT', 'cancelled')),
    ).toMatchObject({ state: 'running', cancelRequested: true });
    expect(await ledger.heartbeat(running.id, 'holder', 60_000)).toEqual({ held: true, cancelRequested: true });
    expect(await ledger.cancel('00000000-0000-4000-8000-000000000000', okResult('x'))).toBeUndefined();
    expect(
      await ledger.complete(
        running.id,
        'holder',
        failedResult({ correlation_id: 'r', request }, 'TIMEOUT', 'the caller cancelled the call'),
      ),
    ).toBe(true);
  });

  it('records an apply in the same transaction as the completion, once per task', async () => {
    const { task } = await ledger.submit({ request: { ...request, mode: 'apply' }, correlationId: 'apply' });
    await ledger.claim('w', 60_000);
    expect(await ledger.setBaseTreeHash(task.id, 'w', 'sha256:a')).toBe('sha256:a');
    // A re-run finds the first attempt's tree, whatever it sees now.
    expect(await ledger.setBaseTreeHash(task.id, 'w', 'sha256:b')).toBe('sha256:a');
    expect(
      await ledger.complete(task.id, 'w', okResult('apply'), {
        baseTreeHash: 'sha256:a',
        appliedChanges: [{ path: 'a.txt' }],
      }),
    ).toBe(true);
    expect(
      await ledger.complete(task.id, 'w', okResult('apply'), {
        baseTreeHash: 'sha256:a',
        appliedChanges: [{ path: 'a.txt' }],
      }),
    ).toBe(false);
    expect(await ledger.applyOf(task.id)).toEqual({ baseTreeHash: 'sha256:a', appliedChanges: [{ path: 'a.txt' }] });
  });

  it('lets the owner of an embedded store take back at once what a dead process leased', async () => {
    const { task } = await ledger.submit({ request, correlationId: 'abandoned' });
    await ledger.claim('previous-process', 600_000);
    expect(await ledger.claim('this-process', 60_000)).toBeUndefined();
    expect(await ledger.recoverAbandoned('this-process')).toBe(1);
    expect(await ledger.claim('this-process', 60_000)).toMatchObject({
      expiredLease: true,
      task: { id: task.id, attempts: 2 },
    });
    await ledger.complete(task.id, 'this-process', okResult('abandoned'));
  });

  it('numbers events per task without gaps, and replays from any sequence id', async () => {
    const { task } = await ledger.submit({ request, correlationId: 'ev' });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        ledger.appendEvents(task.id, [
          { event: 'output', data: { stream: 'stdout', text: `${i}a` } },
          { event: 'output', data: { stream: 'stdout', text: `${i}b` } },
        ]),
      ),
    );
    const all = await ledger.eventsSince(task.id, 0);
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect((await ledger.eventsSince(task.id, 15)).map((e) => e.seq)).toEqual([16, 17, 18, 19, 20, 21]);
    await ledger.cancel(task.id, okResult('ev'));
  });
}
