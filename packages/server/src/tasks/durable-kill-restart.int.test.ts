import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

const TOKEN = 'durable-test-token';
const EDIT_EVERY = 10;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Submits task i until accepted (202), following the API to wherever it restarted; the key makes a retry safe. */
async function submit(apiUrl: () => string, i: number, workspaces: string): Promise<string> {
  const body =
    i % EDIT_EVERY === 0
      ? { prompt: `task ${i}`, intent: 'edit', workspace: join(workspaces, `ws${i}`) }
      : { prompt: `task ${i}` };
  for (let attempt = 0; attempt < 400; attempt++) {
    try {
      const res = await fetch(`${apiUrl()}/v1/tasks`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          'idempotency-key': `key-${i}`,
        },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as { id?: string; error?: unknown };
      if (res.status === 202 && json.id) return json.id;
      if (res.status !== 503) throw new Error(`task ${i}: ${res.status} ${JSON.stringify(json)}`);
    } catch (err) {
      if ((err as Error).message.startsWith(`task ${i}:`)) throw err;
      // The API is down (killed, restarting): try again shortly.
    }
    await sleep(50);
  }
  throw new Error(`task ${i} was never accepted`);
}

async function inPool<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

async function makeWorkspaces(n: number): Promise<{ state: string; workspaces: string }> {
  const state = await mkdtemp(join(tmpdir(), 'bastion-durable-'));
  const workspaces = join(state, 'ws');
  for (let i = 0; i < n; i += EDIT_EVERY) {
    await mkdir(join(workspaces, `ws${i}`), { recursive: true });
    await writeFile(join(workspaces, `ws${i}`, 'README.md'), `workspace ${i}\n`);
  }
  return { state, workspaces };
}

async function appliedLines(workspaces: string, i: number): Promise<number> {
  const text = await readFile(join(workspaces, `ws${i}`, 'applied.log'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).length;
}

async function sseEvents(url: string, id: string, lastEventId: number): Promise<{ id: number; event: string }[]> {
  const res = await fetch(`${url}/v1/tasks/${id}/events`, {
    headers: { authorization: `Bearer ${TOKEN}`, 'last-event-id': String(lastEventId) },
  });
  const text = await res.text();
  return [...text.matchAll(/^id: (\d+)\nevent: (\w+)$/gm)].map((m) => ({ id: Number(m[1]), event: m[2] }));
}

describeWithPostgres(
  'durable tasks on PostgreSQL: one API, three workers, two workers SIGKILLed and the API restarted mid-run',
  (database) => {
    const procs: NodeProcess[] = [];
    let bundle = '';
    beforeAll(async () => {
      bundle = await bundleDurableTaskNode();
    }, 60_000);
    // Removed here, after the processes that write into them are gone, so a failing test leaves none behind.
    const stateDirs: string[] = [];
    afterAll(async () => {
      for (const p of procs) await kill(p);
      await removeDurableTaskBundles();
      for (const d of stateDirs) await rm(d, { recursive: true, force: true });
    });

    it('ends every accepted task exactly once with one recorded result, applies nothing twice and leaves no lease or process behind', async () => {
      const N = 300;
      const { state, workspaces } = await makeWorkspaces(N);
      stateDirs.push(state);
      const common = {
        DATABASE: database(),
        STATE_DIR: state,
        TOKEN,
        WORKSPACE_ROOT: workspaces,
        LEASE_MS: '3000',
        TASK_MS: '40',
        CONCURRENCY: '4',
        POLL_MS: '20',
        MAX_ATTEMPTS: '5',
      };
      let api = await startDurableNode(bundle, { ...common, ROLE: 'api' });
      procs.push(api);
      const workers = await Promise.all(
        [1, 2, 3].map((w) => startDurableNode(bundle, { ...common, ROLE: 'worker', WORKER_ID: `w${w}` })),
      );
      procs.push(...workers);
      let url = api.ready;
      let accepted = 0;
      const started = Date.now();
      const chaos = (async () => {
        while (accepted < 100) await sleep(5);
        await kill(api);
        api = await startDurableNode(bundle, { ...common, ROLE: 'api' });
        procs.push(api);
        url = api.ready;
        while (accepted < 180) await sleep(5);
        await Promise.all([kill(workers[0]), kill(workers[1])]);
      })();
      const ids = await inPool(N, 16, async (i) => {
        const id = await submit(() => url, i, workspaces);
        accepted++;
        return id;
      });
      await chaos;
      expect(new Set(ids).size).toBe(N);

      const db = new Client({ connectionString: database() });
      await db.connect();
      try {
        for (let t = 0; t < 600; t++) {
          const { rows } = await db.query(
            `select count(*)::int as n from bastion_tasks where state in ('queued', 'running')`,
          );
          if (rows[0].n === 0) break;
          await sleep(100);
        }
        const tasks = (
          await db.query(
            `select id, state, attempts, lease_owner, result, request, extract(epoch from started_at - created_at) * 1000 as wait_ms, created_at, finished_at from bastion_tasks`,
          )
        ).rows;
        expect(tasks).toHaveLength(N);
        expect(tasks.filter((t) => t.lease_owner !== null || t.state === 'queued' || t.state === 'running')).toEqual(
          [],
        );
        const results = (
          await db.query(
            `select task_id, count(*)::int as n from bastion_task_events where event = 'result' group by task_id`,
          )
        ).rows;
        expect(results).toHaveLength(N);
        expect(results.filter((r) => r.n !== 1)).toEqual([]);
        const applies = new Set(
          (await db.query('select task_id from bastion_task_applies')).rows.map((r) => r.task_id as string),
        );
        const byId = new Map(tasks.map((t) => [t.id as string, t]));
        const retried = tasks.filter((t) => t.attempts > 1).length;
        for (let i = 0; i < N; i++) {
          const t = byId.get(ids[i])!;
          if (i % EDIT_EVERY !== 0) {
            expect([i, t.state]).toEqual([i, 'succeeded']);
            continue;
          }
          const lines = await appliedLines(workspaces, i);
          // Applied at most once; a success applied exactly once and recorded it; a CONFLICT is the
          // re-run of a task whose worker died between its apply and its commit.
          expect([i, lines <= 1]).toEqual([i, true]);
          if (t.state === 'succeeded') expect([i, lines, applies.has(t.id)]).toEqual([i, 1, true]);
          else expect([i, t.result.error.code, applies.has(t.id)]).toEqual([i, 'CONFLICT', false]);
        }
        // The restarted API replays any task's events from the ledger, resuming after Last-Event-ID.
        const replay = await sseEvents(url, ids[0], 1);
        expect(replay[0].id).toBe(2);
        expect(replay.at(-1)?.event).toBe('result');

        const waits = tasks.map((t) => Number(t.wait_ms)).sort((a, b) => a - b);
        const span = (Math.max(...tasks.map((t) => new Date(t.finished_at).getTime())) - started) / 1000;
        process.stderr.write(
          `durable tasks on PostgreSQL: ${N} tasks, ${retried} re-run after the kills, ${applies.size} applies; accept->start p50 ${percentile(waits, 50).toFixed(1)} ms, p95 ${percentile(waits, 95).toFixed(1)} ms; ${(N / span).toFixed(1)} tasks/s over ${span.toFixed(1)} s\n`,
        );
      } finally {
        await db.end();
      }
      for (const p of procs) await kill(p);
      expect(procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null)).toEqual([]);
    }, 90_000);
  },
);

// Plain `bastion serve` (no --database, the default data directory) is killed and restarted the same
// way in cli/commands/serve-default-store.int.test.ts; this one drives 150 tasks with edits through the store.
describe('durable tasks on the embedded store (pglite:DIR): API and worker in one process, SIGKILLed and restarted mid-run', () => {
  const procs: NodeProcess[] = [];
  let bundle = '';
  beforeAll(async () => {
    bundle = await bundleDurableTaskNode();
  }, 60_000);
  // Removed here, after the processes that write into them are gone, so a failing test leaves none behind.
  const stateDirs: string[] = [];
  afterAll(async () => {
    for (const p of procs) await kill(p);
    await removeDurableTaskBundles();
    for (const d of stateDirs) await rm(d, { recursive: true, force: true });
  });

  it('loses no accepted task and records one result for each', async () => {
    const N = 150;
    const { state, workspaces } = await makeWorkspaces(N);
    stateDirs.push(state);
    // As `serve --database pglite:` runs it: a long lease (nobody else can take a task from this
    // process) and the restart taking back what the killed process held.
    const env = {
      ROLE: 'both',
      DATABASE: `pglite:${join(state, 'ledger')}`,
      STATE_DIR: state,
      TOKEN,
      WORKSPACE_ROOT: workspaces,
      LEASE_MS: '120000',
      TASK_MS: '20',
      CONCURRENCY: '8',
      POLL_MS: '20',
    };
    let node = await startDurableNode(bundle, env);
    procs.push(node);
    let url = node.ready;
    let accepted = 0;
    const chaos = (async () => {
      while (accepted < 60) await sleep(5);
      await kill(node);
      node = await startDurableNode(bundle, env);
      procs.push(node);
      url = node.ready;
    })();
    const ids = await inPool(N, 8, async (i) => {
      const id = await submit(() => url, i, workspaces);
      accepted++;
      return id;
    });
    await chaos;
    expect(new Set(ids).size).toBe(N);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const states = new Map<string, { state: string; result?: { error: { code: string } | null } }>();
    for (let t = 0; t < 300 && states.size < N; t++) {
      for (const id of ids) {
        if (states.has(id)) continue;
        const task = (await (await fetch(`${url}/v1/tasks/${id}`, { headers: auth })).json()) as {
          state: string;
          result?: { error: { code: string } | null };
        };
        if (task.result) states.set(id, task);
      }
      if (states.size < N) await sleep(100);
    }
    expect(states.size).toBe(N);
    let conflicts = 0;
    for (let i = 0; i < N; i++) {
      const task = states.get(ids[i])!;
      const events = await sseEvents(url, ids[i], 0);
      expect([i, events.filter((e) => e.event === 'result').length]).toEqual([i, 1]);
      if (i % EDIT_EVERY === 0) {
        const lines = await appliedLines(workspaces, i);
        expect([i, lines <= 1]).toEqual([i, true]);
        if (task.state !== 'succeeded') {
          expect(task.result?.error?.code).toBe('CONFLICT');
          conflicts++;
        } else expect([i, lines]).toEqual([i, 1]);
      } else expect([i, task.state]).toEqual([i, 'succeeded']);
    }
    process.stderr.write(
      `durable tasks on the embedded store: ${N} tasks, all finished once after a SIGKILL and restart (${conflicts} edit task(s) ended CONFLICT: their apply happened before the kill)\n`,
    );
    await kill(node, 'SIGTERM');
    expect(procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null)).toEqual([]);
  }, 90_000);
});
