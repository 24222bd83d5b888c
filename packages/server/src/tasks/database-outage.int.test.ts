import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { describeWhenAvailable } from '@bastion/sandbox/test-support';
import {
  bundleDurableTaskNode,
  kill,
  removeDurableTaskBundles,
  startDurableNode,
  type NodeProcess,
} from '../test-support/durable-task-process';
import { ENSURE_POSTGRES } from '../test-support/postgres-suite';

const TOKEN = 'outage-test-token';
const havePostgres = (() => {
  try {
    execFileSync('bash', ['-c', 'ls /usr/lib/postgresql/*/bin/pg_ctl'], { stdio: 'ignore' });
    return null;
  } catch {
    return 'PostgreSQL is not installed (ops/postgres/ensure-postgres.sh installs it)';
  }
})();

// A private cluster: stopping it must not pull the server from under the other suites.
describeWhenAvailable('durable tasks when PostgreSQL goes away for 10 s mid-run', havePostgres, () => {
  const procs: NodeProcess[] = [];
  let dir = '';
  const clusterEnv = () => ({ ...process.env, BASTION_PG_DIR: join(dir, 'pg'), BASTION_PG_PORT: '54339' });
  const ensure = (...args: string[]) =>
    execFileSync('bash', [ENSURE_POSTGRES, ...args], {
      env: clusterEnv(),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 90_000,
    }).trim();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-outage-'));
  });
  afterAll(async () => {
    for (const p of procs) await kill(p);
    await removeDurableTaskBundles();
    ensure('stop');
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('answers /readyz 503 and refuses new tasks with a typed error while it is gone, then finishes every task once', async () => {
    const database = ensure();
    const bundle = await bundleDurableTaskNode();
    const common = {
      DATABASE: database,
      STATE_DIR: dir,
      TOKEN,
      LEASE_MS: '20000',
      TASK_MS: '100',
      CONCURRENCY: '4',
      POLL_MS: '20',
    };
    const api = await startDurableNode(bundle, { ...common, ROLE: 'api' });
    const worker = await startDurableNode(bundle, { ...common, ROLE: 'worker', WORKER_ID: 'outage-worker' });
    procs.push(api, worker);
    const post = (key: string) =>
      fetch(`${api.ready}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ prompt: key }),
      });
    const ids = new Set<string>();
    for (let i = 0; i < 40; i++) ids.add(((await (await post(`before-${i}`)).json()) as { id: string }).id);
    expect((await fetch(`${api.ready}/readyz`)).status).toBe(200);

    ensure('stop');
    const down = Date.now();
    const ready = await fetch(`${api.ready}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toMatch(/task database is unreachable/);
    const refused = await post('during');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(((await refused.json()) as { error: { code: string; retryable: boolean } }).error).toMatchObject({
      code: 'SANDBOX_UNAVAILABLE',
      retryable: true,
    });
    await sleep(Math.max(0, 10_000 - (Date.now() - down)));
    ensure();

    // The refused task is sent again with its key once the database is back: accepted once.
    for (let t = 0; t < 100; t++) {
      const res = await post('during');
      if (res.status === 202) {
        ids.add(((await res.json()) as { id: string }).id);
        break;
      }
      await sleep(200);
    }
    expect(ids.size).toBe(41);
    expect((await fetch(`${api.ready}/readyz`)).status).toBe(200);

    const db = new Client({ connectionString: database });
    await db.connect();
    try {
      for (let t = 0; t < 300; t++) {
        const { rows } = await db.query(
          `select count(*)::int as n from bastion_tasks where state in ('queued', 'running')`,
        );
        if (rows[0].n === 0) break;
        await sleep(100);
      }
      const tasks = (await db.query('select id, state from bastion_tasks')).rows;
      if (tasks.some((t) => t.state !== 'succeeded'))
        process.stderr.write(`WORKER STDERR: ${worker.stderr().slice(-3000)}\nAPI: ${api.stderr().slice(-1500)}\n`);
      expect(tasks).toHaveLength(41);
      expect(tasks.filter((t) => t.state !== 'succeeded')).toEqual([]);
      const results = (
        await db.query(
          `select task_id, count(*)::int as n from bastion_task_events where event = 'result' group by task_id`,
        )
      ).rows;
      expect(results.filter((r) => r.n !== 1)).toEqual([]);
      expect(results).toHaveLength(41);
    } finally {
      await db.end();
    }
    expect(worker.child.exitCode).toBeNull();
  }, 120_000);
});
