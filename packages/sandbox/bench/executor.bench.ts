// `npm run bench -- executor`: p50/p95 of running `true` in a sandbox, each path against
// `docker run --rm --network none bastion/sandbox true` measured in the same run.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Dockerode from 'dockerode';
import type { Executor, ExecutorRequest } from '../src/executor';
import { createDockerExecutor } from '../src/docker/docker-executor';
import { bwrapAvailability, createBwrapExecutor } from '../src/bwrap/bwrap-executor';
import { resolveRootfs } from '../src/bwrap/rootfs';
import { LABELS } from '../src/labels';
import { BWRAP_RAW_NOTE, bwrapRawArgs } from '../src/test-support/bwrap-raw';
import { EXEC_TRUE_REQUEST } from '../src/test-support/engine-floor';
import type { CaseResult } from '@bastion/core/test-support';
import { SANDBOX_IMAGE } from '../src/images';

const run = promisify(execFile);
const IMAGE = SANDBOX_IMAGE;

export type { CaseResult };
export type CaseOutcome = CaseResult | { missing: string };
type CaseName = 'docker-run' | 'bastion-cold' | 'bastion-warm' | 'bastion-bwrap' | 'bastion-bwrap-idle' | 'bwrap-raw';

export interface ExecutorBenchOptions {
  /** Measured calls per case (default 30). */
  n?: number;
  /** Unmeasured calls per case first (default 3). */
  warmup?: number;
  log?: (message: string) => void;
}

const REQUEST: ExecutorRequest = EXEC_TRUE_REQUEST;
/** The pause before each bastion-bwrap-idle call: long enough for cgroup v1's first join to be slow again. */
const IDLE_MS = 500;
const BWRAP_IDLE_NOTE = `a long-lived bwrap executor (prestart, keepParked), ${IDLE_MS} ms idle before each call (not timed)`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const HOOKS = { onStdout: () => undefined, onStderr: () => undefined };

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

async function measure(
  n: number,
  warmup: number,
  once: () => Promise<void>,
  between?: () => Promise<void>,
): Promise<CaseResult> {
  for (let i = 0; i < warmup; i++) {
    await between?.();
    await once();
  }
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    await between?.();
    const t0 = process.hrtime.bigint();
    await once();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { n, p50Ms: round(percentile(ms, 0.5)), p95Ms: round(percentile(ms, 0.95)), ratio: 1 };
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

async function runOk(executor: Executor): Promise<void> {
  const outcome = await executor.run(REQUEST, HOOKS);
  if (outcome.exitCode !== 0) throw new Error(`${executor.backend}: \`true\` exited with ${outcome.exitCode}`);
}

export async function runExecutorBench(
  options: ExecutorBenchOptions = {},
): Promise<{ baseline: 'docker-run'; cases: Record<CaseName, CaseOutcome> }> {
  const n = options.n ?? 30;
  const warmup = options.warmup ?? 3;
  const log = options.log ?? (() => undefined);
  const cases = {} as Record<CaseName, CaseOutcome>;
  const docker = new Dockerode();

  log(`docker-run ×${n}`);
  cases['docker-run'] = await measure(n, warmup, async () => {
    await run('docker', ['run', '--rm', '--network', 'none', IMAGE, 'true']);
  });

  log(`bastion-cold ×${n}`);
  const cold = createDockerExecutor({ docker });
  try {
    cases['bastion-cold'] = await measure(n, warmup, () => runOk(cold));
  } finally {
    await cold.close();
  }

  cases['bastion-warm'] = await benchWarm(docker, n, warmup, log);

  const bwrap = bwrapAvailability();
  if (!bwrap.ok) {
    cases['bastion-bwrap'] = { missing: bwrap.reason };
    cases['bastion-bwrap-idle'] = { missing: bwrap.reason };
    cases['bwrap-raw'] = { missing: bwrap.reason };
  } else {
    log(`bastion-bwrap ×${n}`);
    const executor = createBwrapExecutor();
    try {
      cases['bastion-bwrap'] = await measure(n, warmup, () => runOk(executor));
    } finally {
      await executor.close();
    }
    log(`bastion-bwrap-idle ×${n}`);
    // A long-lived runtime's executor (startRuntime's: prestart, keepParked) called after an idle
    // moment, as a service is: each call finds its launcher parked and joined in its cgroup.
    const service = createBwrapExecutor({ keepParked: true });
    service.prestart();
    try {
      cases['bastion-bwrap-idle'] = {
        ...(await measure(
          n,
          warmup,
          () => runOk(service),
          () => sleep(IDLE_MS),
        )),
        note: BWRAP_IDLE_NOTE,
      };
    } finally {
      await service.close();
    }
    log(`bwrap-raw ×${n}`);
    const { root } = resolveRootfs(IMAGE);
    const raw = bwrapRawArgs(root);
    cases['bwrap-raw'] = {
      ...(await measure(n, warmup, async () => void (await run('bwrap', raw)))),
      note: BWRAP_RAW_NOTE,
    };
  }

  const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=true`] } });
  if (left.length > 0)
    log(`warning: ${left.length} managed container(s) still present after the bench (other sessions may own them)`);
  return { baseline: 'docker-run', cases };
}

async function benchWarm(docker: Dockerode, n: number, warmup: number, log: (m: string) => void): Promise<CaseOutcome> {
  let mod: typeof import('../src/docker/warm-pool');
  try {
    mod = await import('../src/docker/warm-pool');
  } catch (err) {
    return { missing: `warm pool not available: ${(err as Error).message}` };
  }
  log(`bastion-warm ×${n}`);
  const pool = mod.createWarmPoolExecutor({ docker, size: 2 });
  try {
    await pool.prewarm(IMAGE, REQUEST.limits);
    // Each measured call takes a ready container; the refill it triggers is not the call's cost,
    // so wait (untimed) until the pool is full again and starts nothing, as a service's pool is
    // between calls that do not arrive back to back (the other cases have no background work either).
    const ready = async () => {
      const t0 = Date.now();
      while (pool.stats().ready < 2 || pool.stats().filling > 0) {
        if (Date.now() - t0 > 60_000) throw new Error('the warm pool did not refill within 60 s');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const result = await measure(n, warmup, () => runOk(pool), ready);
    const s = pool.stats();
    return { ...result, note: `warm hits ${s.warmHits}, cold fallbacks ${s.coldFallbacks}` };
  } finally {
    await pool.close();
  }
}
