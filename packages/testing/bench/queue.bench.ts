import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { createPolicyEngine } from '@bastion/policy';
import { createOutputSanitizer, createSecretStore } from '@bastion/security';
import { createMemoryExecutor } from '../src';
import {
  createMemoryAuditLog,
  createFlagService,
  createPipeline,
  readOnlyBinding,
  createRuntimeRouter,
} from '@bastion/agent-runtime';
import {
  createMetrics,
  createService,
  type ServiceOptions,
  createPgClient,
  createPgliteClient,
  createSqlTaskLedger,
  routerTaskRunner,
  startTaskWorker,
  type StartedWorker,
} from '@bastion/server';
import type { Router } from '@bastion/agent-runtime';
import type { TaskLedger } from '@bastion/server';
import type { CaseResult } from '@bastion/core/test-support';
import { benchProvider } from './bench-provider';

/**
 * A queue case: `n` tasks in the latency phase (one at a time, the queue idle), p50/p95 from
 * accept (the task committed, or taken in memory) to the router starting it; plus throughput.
 */
export interface QueueCase extends CaseResult {
  /** n tasks submitted at concurrency 16: first submit to last result. */
  tasksPerSecond: number;
  throughputTasks: number;
}

export interface QueueBenchResult {
  baseline: 'in-process';
  cases: Record<'in-process' | 'pg-1-worker' | 'pg-3-workers' | 'pglite-embedded', QueueCase>;
}

/**
 * The durable queue against the in-process path, in one run: the same router, pipeline, policy
 * and sanitizer over the in-memory executor (the sandbox is the executor suite's subject), tasks
 * submitted over HTTP at concurrency 16. Accept→start is measured from the service's
 * `service.accepted` audit event (after the commit, for the ledger) to the router's start of the
 * task; tasks/s from the first submit to the last result. PostgreSQL: $BASTION_BENCH_DATABASE_URL,
 * else the project's own cluster (ops/postgres/ensure-postgres.sh), in a database of its own.
 */
export async function runQueueBench(options: { n?: number } = {}): Promise<QueueBenchResult> {
  const n = options.n ?? 300;
  const server =
    process.env.BASTION_BENCH_DATABASE_URL ??
    execFileSync('bash', [ensureScript()], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const dbName = `bastion_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const url = new URL(server);
  url.pathname = `/${dbName}`;
  const dir = await mkdtemp(join(tmpdir(), 'bastion-queue-bench-'));
  try {
    const cases = {
      'in-process': await measure(n, dir, undefined),
      'pg-1-worker': await measure(n, dir, {
        open: async () => createSqlTaskLedger(await createPgClient(url.toString())),
        workers: 1,
      }),
      'pg-3-workers': await measure(n, dir, {
        open: async () => createSqlTaskLedger(await createPgClient(url.toString())),
        workers: 3,
      }),
      'pglite-embedded': await measure(n, dir, {
        open: async () => createSqlTaskLedger(await createPgliteClient(join(dir, 'pglite'))),
        workers: 1,
        shared: true,
      }),
    };
    return { baseline: 'in-process', cases: cases as QueueBenchResult['cases'] };
  } finally {
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The bundled suite runs from a cache directory: the script is found by walking up from it. */
function ensureScript(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const script = join(dir, 'ops/postgres/ensure-postgres.sh');
    if (existsSync(script)) return script;
  }
  throw new Error('ops/postgres/ensure-postgres.sh not found above the bench bundle; set BASTION_BENCH_DATABASE_URL');
}

async function measure(
  n: number,
  dir: string,
  durable: { open: () => Promise<TaskLedger>; workers: number; shared?: boolean } | undefined,
): Promise<QueueCase> {
  const accepted = new Map<string, number>();
  const started = new Map<string, number>();
  const audit = createMemoryAuditLog({ level: 'warn' });
  const executor = createMemoryExecutor({ script: () => ({ stdout: 'done\n' }) });
  const engine = createPolicyEngine();
  const pipeline = createPipeline({
    policy: () => engine,
    executor,
    sanitizer: (knownSecrets) => createOutputSanitizer({ knownSecrets }),
    secrets: createSecretStore({ env: {} }),
    audit,
  });
  const flags = createFlagService({ env: {} });
  const metrics = createMetrics();
  // The production path: Router → runtime router → AgentRunner → runAgent.
  const inner = createRuntimeRouter({
    runtime: { pipeline, audit },
    flags,
    metrics,
    bindings: [readOnlyBinding(benchProvider)],
    config: { defaults: { maxConcurrent: 256, maxQueue: 4096 } },
  });
  const done = new Map<string, number>();
  const router: Router = Object.assign(Object.create(inner) as Router, {
    route: async (task: Parameters<Router['route']>[0], o: Parameters<Router['route']>[1]) => {
      if (o?.correlationId && !started.has(o.correlationId)) started.set(o.correlationId, performance.now());
      const result = await inner.route(task, o);
      if (o?.correlationId) done.set(o.correlationId, performance.now());
      return result;
    },
  });
  const ledgers: TaskLedger[] = [];
  const workers: StartedWorker[] = [];
  if (durable) {
    const apiLedger = await durable.open();
    ledgers.push(apiLedger);
    for (let w = 0; w < durable.workers; w++) {
      // Each worker its own connection pool, as a worker on another host would have (the embedded store has one).
      const ledger = durable.shared ? apiLedger : await durable.open();
      if (!durable.shared) ledgers.push(ledger);
      workers.push(startTaskWorker({ ledger, run: routerTaskRunner(router), concurrency: 8, pollMs: 20, flushMs: 50 }));
    }
  }
  const token = 'queue-bench-token-0123456789';
  await writeFile(join(dir, 'token'), token, { mode: 0o600 });
  const serviceOptions: ServiceOptions = {
    router,
    metrics,
    tokenFile: join(dir, 'token'),
    port: 0,
    maxInFlight: 4096,
    audit: {
      record: (e) => {
        if (e.event === 'service.accepted') accepted.set(e.correlationId, performance.now());
      },
    },
    ...(durable ? { durable: { ledger: ledgers[0], onAccepted: () => workers.forEach((w) => w.wake()) } } : {}),
  };
  const service = await createService(serviceOptions);
  const submit = async (i: number, prefix: string) => {
    const res = await fetch(`${service.url}/v1/tasks`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-correlation-id': `${prefix}-${i}`,
      },
      body: JSON.stringify({ prompt: `task ${i}` }),
    });
    if (res.status !== 202) throw new Error(`queue bench: HTTP ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  const pool = async (count: number, prefix: string) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < count) await submit(next++, prefix);
      }),
    );
  };
  const finished = async (prefix: string, count: number) => {
    for (;;) {
      let c = 0;
      for (const k of done.keys()) if (k.startsWith(`${prefix}-`)) c++;
      if (c >= count) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  try {
    await pool(Math.min(50, n), 'warm');
    await finished('warm', Math.min(50, n));
    // Latency: one task at a time (the queue idle), so accept->start is the queue's own cost
    // (commit, wake or poll, claim), not the wait behind a backlog.
    const latency = `lat${randomUUID().slice(0, 8)}`;
    const latencyN = Math.min(100, n);
    for (let i = 0; i < latencyN; i++) {
      await submit(i, latency);
      while (!done.has(`${latency}-${i}`)) await new Promise((r) => setTimeout(r, 1));
    }
    const waits = [...accepted.entries()]
      .filter(([k]) => k.startsWith(`${latency}-`))
      .map(([k, v]) => started.get(k)! - v)
      .sort((a, b) => a - b);
    const at = (p: number) => Number(waits[Math.min(waits.length - 1, Math.floor(p * waits.length))].toFixed(3));
    // Throughput: n tasks submitted at concurrency 16, first submit to last result.
    const prefix = `run${randomUUID().slice(0, 8)}`;
    const t0 = performance.now();
    await pool(n, prefix);
    await finished(prefix, n);
    const last = Math.max(...[...done.entries()].filter(([k]) => k.startsWith(`${prefix}-`)).map(([, v]) => v));
    return {
      n: latencyN,
      p50Ms: at(0.5),
      p95Ms: at(0.95),
      ratio: 1,
      tasksPerSecond: Number((n / ((last - t0) / 1000)).toFixed(1)),
      throughputTasks: n,
    };
  } finally {
    for (const w of workers) await w.close(5_000);
    await service.close();
    for (const l of ledgers) await l.close();
    await flags.close();
    await executor.close();
  }
}
