import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createPolicyEngine } from '@bastion/policy';
import { createGeminiCliProvider } from '@bastion/providers';
import { createSecretStore } from '@bastion/security';
import { createAgentRunner, createAuditLog, createRuntime, readOnlyBinding } from '@bastion/agent-runtime';
import { createDockerExecutor, createWarmPoolExecutor } from '@bastion/sandbox';
import { createGatewayProvisioner } from '@bastion/gateway';
import { startFakeGeminiApi } from '../src/fake-gemini-api/fake-gemini-api';

import type { CaseResult } from '@bastion/core/test-support';

export type { CaseResult };

// Bundled by scripts/bench.mjs into a cache dir, so find the repository from where we run.
function repoRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir))
    if (existsSync(join(dir, 'ops/docker/gemini-cli/VERSION'))) return dir;
  throw new Error('run the gemini bench from inside the Bastion repository');
}
const REPO = repoRoot(process.cwd());
const VERSION = readFileSync(join(REPO, 'ops/docker/gemini-cli/VERSION'), 'utf8').trim();
const CLI = join(
  process.env.BASTION_CACHE_DIR ?? '/var/cache/bastion',
  `gemini-cli-${VERSION}`,
  'node_modules/@google/gemini-cli/bundle/gemini.js',
);
const KEY = 'bench-key-' + 'x'.repeat(20);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))];
}
function summarize(times: number[]): { n: number; p50Ms: number; p95Ms: number } {
  const s = [...times].sort((a, b) => a - b);
  return { n: s.length, p50Ms: pct(s, 0.5), p95Ms: pct(s, 0.95) };
}

/**
 * The same Gemini CLI (the pinned version staged by ops/docker/gemini-cli/build.sh), against the
 * same fake API, run bare on the host (baseline) and as a Bastion call: policy, hardened
 * container, per-call egress gateway with key injection, sanitizer, parse — from the warm pool
 * (`sandboxed`) and on the cold path (`sandboxed-cold`). Calls alternate so machine load hits
 * every case alike.
 */
export async function runGeminiBench(
  options: { n?: number } = {},
): Promise<{ baseline: 'bare'; cases: { bare: CaseResult; sandboxed: CaseResult; 'sandboxed-cold': CaseResult } }> {
  // 40 per case by default: one CLI call varies by ±15% on a 2-core VM (a fixed CPU loop alone
  // varied 484–739 ms here), so at 20 the p50 ratio moved between 1.03 and 1.08 from run to run
  // on code with no change to the call path. 40 takes about 6 minutes.
  const n = options.n ?? Number(process.env.BENCH_N ?? 40);
  const api = await startFakeGeminiApi({ expectedApiKey: KEY });
  const home = mkdtempSync(join(tmpdir(), 'bastion-gemini-bench-'));
  mkdirSync(join(home, '.gemini'));
  writeFileSync(join(home, '.gemini/settings.json'), readFileSync(join(REPO, 'ops/docker/gemini-cli/settings.json')));
  const secrets = createSecretStore({ env: { GEMINI_API_KEY: KEY } });
  const engine = createPolicyEngine();
  const makeRunner = (pool: boolean) => {
    const runtime = createRuntime({
      policy: () => engine,
      secrets,
      executor: pool ? createWarmPoolExecutor({ size: 2 }) : createDockerExecutor(),
      audit: createAuditLog({ level: 'error' }),
      egress: createGatewayProvisioner({ secrets, env: { GOOGLE_GEMINI_BASE_URL: api.url } }),
    });
    return {
      runtime,
      runner: createAgentRunner({ pipeline: runtime.pipeline, bindings: [readOnlyBinding(createGeminiCliProvider())] }),
    };
  };
  const warm = makeRunner(true);
  const cold = makeRunner(false);

  const bare = () =>
    new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      const child = spawn(
        process.execPath,
        [CLI, '--output-format', 'json', '--skip-trust', '--prompt', 'What is 2+2?'],
        {
          cwd: home,
          env: {
            PATH: process.env.PATH ?? '/usr/bin:/bin',
            HOME: home,
            GEMINI_API_KEY: KEY,
            GOOGLE_GEMINI_BASE_URL: api.url,
            GEMINI_CLI_NO_RELAUNCH: 'true',
            NO_COLOR: '1',
            TERM: 'dumb',
          },
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 && out.includes('"response"')
          ? resolve(performance.now() - t0)
          : reject(new Error(`bare CLI exited ${code}`)),
      );
    });
  const sandboxed = async (runner: typeof warm.runner) => {
    const t0 = performance.now();
    const r = await runner.run('gemini-cli', { prompt: 'What is 2+2?' });
    if (r.status !== 'succeeded') throw new Error(`sandboxed call failed: ${r.error?.code} ${r.error?.message}`);
    return performance.now() - t0;
  };

  // The pool refills in the background after each call; give it the time a caller's own work
  // between calls would, so every measured warm call finds a started container. Every case gets
  // the same pause before it, so none starts while the engine still finishes the previous call.
  const settle = () => new Promise((r) => setTimeout(r, 400));
  try {
    await bare();
    await sandboxed(warm.runner);
    await sandboxed(cold.runner);
    const times = { bare: [] as number[], warm: [] as number[], cold: [] as number[] };
    for (let i = 0; i < n; i++) {
      await settle();
      times.bare.push(await bare());
      await settle();
      times.warm.push(await sandboxed(warm.runner));
      await settle();
      times.cold.push(await sandboxed(cold.runner));
    }
    const b = summarize(times.bare);
    const w = summarize(times.warm);
    const c = summarize(times.cold);
    return {
      baseline: 'bare',
      cases: {
        bare: { ...b, ratio: 1 },
        sandboxed: { ...w, ratio: w.p50Ms / b.p50Ms },
        'sandboxed-cold': { ...c, ratio: c.p50Ms / b.p50Ms },
      },
    };
  } finally {
    await warm.runtime.close();
    await cold.runtime.close();
    await api.close();
    rmSync(home, { recursive: true, force: true });
  }
}
