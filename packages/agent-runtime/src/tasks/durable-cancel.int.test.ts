import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeWithPostgres } from '../test-support/postgres-suite';
import { bundleDurableTaskNode, kill, startDurableNode, type NodeProcess } from '../test-support/durable-task-process';

const TOKEN = 'cancel-test-token';

describeWithPostgres('cancelling a durable task', (database) => {
  const procs: NodeProcess[] = [];
  afterAll(async () => {
    for (const p of procs) await kill(p);
  });

  it('reaches the worker on another process that holds the task when the streaming submitter disconnects', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bastion-cancel-'));
    const bundle = await bundleDurableTaskNode();
    // The simulated agent would take 60 s: only an abort ends it sooner.
    const common = { DATABASE: database(), STATE_DIR: dir, TOKEN, LEASE_MS: '2000', TASK_MS: '60000', CONCURRENCY: '2', POLL_MS: '20' };
    const api = await startDurableNode(bundle, { ...common, ROLE: 'api' });
    const worker = await startDurableNode(bundle, { ...common, ROLE: 'worker', WORKER_ID: 'cancel-worker' });
    procs.push(api, worker);
    const submitter = new AbortController();
    const res = await fetch(`${api.ready}/v1/tasks/stream`, { method: 'POST', signal: submitter.signal, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'long task' }) });
    const id = res.headers.get('x-task-id')!;
    const reader = res.body!.getReader();
    let seen = '';
    while (!seen.includes('event: routed')) seen += new TextDecoder().decode((await reader.read()).value);
    const cancelledAt = Date.now();
    submitter.abort();
    let task: { state: string; result?: { error: { code: string; message: string } } } | undefined;
    for (let t = 0; t < 100; t++) {
      task = (await (await fetch(`${api.ready}/v1/tasks/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as typeof task;
      if (task?.result) break;
      await sleep(100);
    }
    expect(task).toMatchObject({ state: 'failed', result: { error: { code: 'TIMEOUT', message: expect.stringMatching(/cancelled/) } } });
    // Within a few heartbeats (lease / 5 = 400 ms), not after the agent's 60 s.
    expect(Date.now() - cancelledAt).toBeLessThan(5_000);
    expect(worker.child.exitCode).toBeNull();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);
});
