import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPolicyEngine } from '@bastion/policy';
import type { AgentResult } from '@bastion/providers';
import type { OutputSanitizer, SecretStore } from '@bastion/security';
import { createMemoryExecutor } from '../src';
import {
  createMemoryAuditLog,
  createFlagService,
  createPipeline,
  readOnlyBinding,
  createRuntimeRouter,
} from '@bastion/agent-runtime';
import { createMetrics, createService } from '@bastion/server';
import type { Router } from '@bastion/agent-runtime';
import type { CaseResult } from '@bastion/core/test-support';
import { benchProvider } from './bench-provider';

export type { CaseResult };

export interface RouterBenchResult {
  baseline: 'overhead';
  /** Which sanitizer ran: the real one, or a pass-through when @bastion/security failed to load. */
  sanitizer: 'bastion' | 'pass-through';
  cases: {
    /** One routed call: router + flags + provider plan/parse + policy + executor (in memory) + sanitizer. */
    overhead: CaseResult;
    /** POST /v1/tasks?wait=true over loopback at concurrency 32; p50/p95 are per request. */
    throughput?: CaseResult & { concurrency: number; requestsPerSecond: number };
  };
}

export interface RouterBenchOptions {
  overheadCalls?: number;
  throughputRequests?: number;
  concurrency?: number;
  warmup?: number;
  /** Skip the HTTP case (e.g. where sockets are not allowed). */
  skipThroughput?: boolean;
}

/**
 * Router + pipeline overhead per call with the in-memory executor (the sandbox itself is measured
 * by the executor suite), and the HTTP service's throughput on top of it.
 */
export async function runRouterBench(options: RouterBenchOptions = {}): Promise<RouterBenchResult> {
  const warmup = options.warmup ?? 300;
  const audit = createMemoryAuditLog({ level: 'warn' });
  const executor = createMemoryExecutor({ script: () => ({ stdout: 'The answer is 42. Nothing secret here.\n' }) });
  const engine = createPolicyEngine();
  const security = await loadSecurity();
  const pipeline = createPipeline({
    policy: () => engine,
    executor,
    sanitizer: security.sanitizer,
    secrets: security.secrets,
    audit,
  });
  const flags = createFlagService({ env: {} });
  const metrics = createMetrics();
  // The production path: Router → runtime router → AgentRunner → runAgent, as serve, mcp and run use it.
  const router = createRuntimeRouter({
    runtime: { pipeline, audit },
    flags,
    metrics,
    bindings: [readOnlyBinding(benchProvider)],
    config: { defaults: { maxConcurrent: 256, maxQueue: 1024 } },
  });

  try {
    const check = await router.route({ prompt: 'warm up' });
    if (check.status !== 'succeeded')
      throw new Error(`bench call did not succeed: ${check.error?.code}: ${check.error?.message}`);

    const overheadSamples = await sequential(router, warmup, options.overheadCalls ?? 3000);
    const overhead = summarize(overheadSamples, undefined);
    const result: RouterBenchResult = { baseline: 'overhead', sanitizer: security.kind, cases: { overhead } };
    if (!options.skipThroughput) result.cases.throughput = await throughput(router, metrics, overhead.p50Ms, options);
    return result;
  } finally {
    await flags.close();
    await executor.close();
  }
}

async function sequential(router: Router, warmup: number, n: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await router.route({ prompt: `warm ${i}` });
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await router.route({ prompt: `call ${i}` });
    samples.push(performance.now() - t0);
    if (r.status !== 'succeeded') throw new Error(`bench call failed: ${r.error?.code}`);
  }
  return samples;
}

async function throughput(
  router: Router,
  metrics: ReturnType<typeof createMetrics>,
  baselineP50: number,
  options: RouterBenchOptions,
) {
  const concurrency = options.concurrency ?? 32;
  const total = options.throughputRequests ?? 4000;
  const dir = await mkdtemp(join(tmpdir(), 'bastion-bench-'));
  const token = 'bench-token-0123456789abcdef';
  await writeFile(join(dir, 'token'), token, { mode: 0o600 });
  const service = await createService({ router, metrics, tokenFile: join(dir, 'token'), port: 0 });
  // A keep-alive node:http client: lighter than fetch, so the client steals less CPU from the server it measures.
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const post = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ prompt: `request ${i}` });
      const req = request(
        `${service.url}/v1/tasks?wait=true`,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            authorization: `Bearer ${token}`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const result = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AgentResult;
            if (res.statusCode !== 200 || result.status !== 'succeeded')
              reject(new Error(`bench request failed: HTTP ${res.statusCode}`));
            else resolve();
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  try {
    const run = async (n: number, samples?: number[]) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < n) {
            const i = next++;
            const t0 = performance.now();
            await post(i);
            samples?.push(performance.now() - t0);
          }
        }),
      );
    };
    await run(Math.min(500, total));
    const samples: number[] = [];
    const t0 = performance.now();
    await run(total, samples);
    const seconds = (performance.now() - t0) / 1000;
    return { ...summarize(samples, baselineP50), concurrency, requestsPerSecond: Math.round(total / seconds) };
  } finally {
    agent.destroy();
    await service.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function summarize(samples: number[], baselineP50: number | undefined): CaseResult {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const p50Ms = round(at(0.5));
  return { n: samples.length, p50Ms, p95Ms: round(at(0.95)), ratio: baselineP50 ? round(p50Ms / baselineP50) : 1 };
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** The real sanitizer and secret store; a pass-through when the security package cannot load. */
async function loadSecurity(): Promise<{
  kind: 'bastion' | 'pass-through';
  sanitizer: (known: string[]) => OutputSanitizer;
  secrets: SecretStore;
}> {
  try {
    const security = await import('@bastion/security');
    return {
      kind: 'bastion',
      sanitizer: (knownSecrets) => security.createOutputSanitizer({ knownSecrets }),
      secrets: security.createSecretStore({ env: {} }),
    };
  } catch (err) {
    process.stderr.write(
      `[router bench] @bastion/security did not load (${(err as Error).message}); using a pass-through sanitizer\n`,
    );
    const decoder = new TextDecoder();
    const stream = () => ({
      write: (c: Uint8Array | string) => (typeof c === 'string' ? c : decoder.decode(c, { stream: true })),
      end: () => '',
      redactions: () => [],
    });
    const sanitizer = {
      ruleIds: [],
      sanitize: (i: string | Uint8Array) => ({ text: typeof i === 'string' ? i : decoder.decode(i), redactions: [] }),
      createStream: stream,
    };
    const secrets = { require: () => '', knownValues: () => [] } as unknown as SecretStore;
    return { kind: 'pass-through', sanitizer: () => sanitizer as unknown as OutputSanitizer, secrets };
  }
}
