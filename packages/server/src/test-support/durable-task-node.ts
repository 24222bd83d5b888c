/**
 * One process of the durable-task suites, bundled by the test and run as a child so it can be
 * SIGKILLed: ROLE=api (createService on the ledger), worker (startTaskWorker), or both (the
 * embedded default: API and worker in one process). Workers run a simulated agent: it streams a
 * line, takes TASK_MS, and for an edit task applies by appending one line to <workspace>/applied.log
 * (a real file effect, so a second apply is visible). Prints `READY <url>` when it serves.
 */
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentResult } from '@bastion/providers';
import { createMetrics } from '../metrics/metrics';
import { createService } from '../service/service';
import { openTaskLedger, parseDatabaseLocation } from '../tasks/open-task-ledger';
import { failedResult } from '../tasks/sql-task-ledger';
import { createTaskMetrics } from '../tasks/task-metrics';
import { startTaskWorker, type TaskRunner } from '../tasks/task-worker';
import { createWorkspaceAccess } from '@bastion/agent-runtime';

const env = process.env;
const role = env.ROLE ?? 'both';

const simulatedAgent: TaskRunner = async (request, o) => {
  o.onRouted({ provider: 'fake', attempt: 1 });
  o.onOutput('stdout', `working on ${String(request.prompt).slice(0, 40)}\n`);
  // An abort ends the wait early; the check below turns it into the cancelled result.
  await sleep(Number(env.TASK_MS ?? 20), undefined, { signal: o.signal }).catch(() => undefined);
  const base = { ...failedResult({ correlation_id: o.correlationId, request }, 'INTERNAL', ''), provider: 'fake' };
  if (o.signal.aborted)
    return {
      ...base,
      error: { code: 'TIMEOUT', message: 'the caller cancelled the call', retryable: true },
    } as AgentResult;
  const applied: AgentResult['appliedChanges'] = [];
  if (request.intent === 'edit' && typeof request.workspace === 'string') {
    await appendFile(join(request.workspace, 'applied.log'), `${o.correlationId}\n`);
    applied.push({ path: 'applied.log', kind: 'modify' } as AgentResult['appliedChanges'][number]);
  }
  return { ...base, status: 'succeeded', response: 'done', error: null, appliedChanges: applied } as AgentResult;
};

async function main() {
  const location = parseDatabaseLocation(env.DATABASE ?? '');
  const ledger = await openTaskLedger(location, {
    onIdleError: (err) => process.stderr.write(`idle connection error: ${err.message}\n`),
  });
  const metrics = createMetrics({});
  const workerId = env.WORKER_ID ?? `node-${process.pid}`;
  // The embedded store belongs to this process: whatever another process leased is abandoned.
  if (location.kind === 'embedded') await ledger.recoverAbandoned(workerId);
  const worker =
    role === 'api'
      ? undefined
      : startTaskWorker({
          ledger,
          run: simulatedAgent,
          concurrency: Number(env.CONCURRENCY ?? 4),
          leaseMs: Number(env.LEASE_MS ?? 2_000),
          pollMs: Number(env.POLL_MS ?? 50),
          flushMs: 50,
          metrics: createTaskMetrics(metrics.registry),
          workerId,
          onProblem: (event, details) => process.stderr.write(`${event} ${JSON.stringify(details)}\n`),
        });
  if (role === 'worker') {
    process.stdout.write('READY worker\n');
    return;
  }
  const tokenFile = join(env.STATE_DIR ?? '/tmp', 'token');
  await writeFile(tokenFile, env.TOKEN ?? 'test-token', { mode: 0o600 });
  const service = await createService({
    router: {
      route: () => Promise.reject(new Error('durable services route nothing in the API')),
      health: () => [],
      providerIds: ['fake'],
    },
    metrics,
    tokenFile,
    port: Number(env.PORT ?? 0),
    workspaceAccess: await createWorkspaceAccess({
      roots: env.WORKSPACE_ROOT ? [env.WORKSPACE_ROOT] : [],
      refuseRootOwned: false,
    }),
    durable: {
      ledger,
      ...(worker ? { onAccepted: () => worker.wake() } : {}),
      maxAttempts: Number(env.MAX_ATTEMPTS ?? 3),
      ...(env.MAX_QUEUED ? { maxQueued: Number(env.MAX_QUEUED) } : {}),
    },
  });
  process.stdout.write(`READY ${service.url}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`durable-task-node: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(125);
});
