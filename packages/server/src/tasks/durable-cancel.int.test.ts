import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { describeWithPostgres } from '../test-support/postgres-suite';
import {
  bundleDurableTaskNode,
  kill,
  removeDurableTaskBundles,
  startDurableNode,
  type NodeProcess,
} from '../test-support/durable-task-process';

const TOKEN = 'cancel-test-token';

describeWithPostgres('cancelling a durable task', (database) => {
  const procs: NodeProcess[] = [];
  // Removed here, after the processes that write into them are gone, so a failing test leaves none behind.
  const dirs: string[] = [];
  afterAll(async () => {
    for (const p of procs) await kill(p);
    await removeDurableTaskBundles();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('reaches the worker on another process that holds the task when the streaming submitter disconnects', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bastion-cancel-'));
    dirs.push(dir);
    const bundle = await bundleDurableTaskNode();
    // The simulated agent would take 60 s: only an abort ends it sooner.
    const common = {
      DATABASE: database(),
      STATE_DIR: dir,
      TOKEN,
      LEASE_MS: '2000',
      TASK_MS: '60000',
      CONCURRENCY: '2',
      POLL_MS: '20',
    };
    const api = await startDurableNode(bundle, { ...common, ROLE: 'api' });
    const worker = await startDurableNode(bundle, { ...common, ROLE: 'worker', WORKER_ID: 'cancel-worker' });
    procs.push(api, worker);
    const submitter = new AbortController();
    const res = await fetch(`${api.ready}/v1/tasks/stream`, {
      method: 'POST',
      signal: submitter.signal,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'long task' }),
    });
    const id = res.headers.get('x-task-id')!;
    const reader = res.body!.getReader();
    let seen = '';
    while (!seen.includes('event: routed')) seen += new TextDecoder().decode((await reader.read()).value);
    const cancelledAt = Date.now();
    submitter.abort();
    let task: { state: string; result?: { error: { code: string; message: string } } } | undefined;
    for (let t = 0; t < 100; t++) {
      task = (await (
        await fetch(`${api.ready}/v1/tasks/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as typeof task;
      if (task?.result) break;
      await sleep(100);
    }
    expect(task).toMatchObject({
      state: 'failed',
      result: { error: { code: 'TIMEOUT', message: expect.stringMatching(/cancelled/) } },
    });
    // Within a few heartbeats (lease / 5 = 400 ms), not after the agent's 60 s.
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    expect(worker.child.exitCode).toBeNull();
    await kill(worker);
    await kill(api);
  }, 60_000);

  it('answers 429 RATE_LIMITED with Retry-After once the queue holds --max-queued tasks, and commits nothing for it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bastion-queue-full-'));
    dirs.push(dir);
    const bundle = await bundleDurableTaskNode();
    // No worker: the queue only grows.
    const api = await startDurableNode(bundle, {
      DATABASE: database(),
      STATE_DIR: dir,
      TOKEN,
      ROLE: 'api',
      MAX_QUEUED: '2',
    });
    procs.push(api);
    const post = (i: number) =>
      fetch(`${api.ready}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: `queued ${i}` }),
      });
    expect((await post(1)).status).toBe(202);
    expect((await post(2)).status).toBe(202);
    const full = await post(3);
    expect(full.status).toBe(429);
    expect(full.headers.get('retry-after')).toBe('1');
    expect(((await full.json()) as { error: unknown }).error).toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
      message: expect.stringContaining('bastion worker --database'),
    });
    const db = new Client({ connectionString: database() });
    await db.connect();
    const { rows } = await db.query(
      `select request->>'prompt' as prompt from bastion_tasks where request->>'prompt' like 'queued %' order by 1`,
    );
    await db.end();
    expect(rows.map((r) => r.prompt)).toEqual(['queued 1', 'queued 2']);
    await kill(api);
  }, 60_000);
});
