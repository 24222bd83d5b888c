// `npm run bench -- reaper-soak` (opt-in; minutes): the acceptance run. N calls in a row
// through runtimes that each start the reaper; K of them are SIGKILLed mid-call (a container
// exists, the call is in flight) and replaced. Reports per-call latency, how long each killed
// session took to reach zero containers, and leftovers after the last call.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import Dockerode from 'dockerode';
import { build } from 'esbuild';
import { LABELS } from '../src/labels';

export interface ReaperSoakOptions {
  /** Calls in total (default 1000). */
  n?: number;
  /** Runtimes SIGKILLed mid-call (default 20). */
  kills?: number;
  /** 'cold' (default) or 'warm' (the warm pool keeps more containers in flight at each kill). */
  mode?: 'cold' | 'warm';
  log?: (message: string) => void;
}

interface Stat {
  n: number;
  p50Ms: number;
  p95Ms: number;
  ratio: number;
  note?: string;
}

function stat(values: number[], note?: string): Stat {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number) => s[Math.max(0, Math.min(s.length - 1, Math.ceil(p * s.length) - 1))] ?? 0;
  return {
    n: s.length,
    p50Ms: Math.round(at(0.5) * 10) / 10,
    p95Ms: Math.round(at(0.95) * 10) / 10,
    ratio: 1,
    ...(note ? { note } : {}),
  };
}

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'packages/sandbox/bench/reaper-soak-worker.ts'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root from ' + __dirname);
    dir = up;
  }
  return dir;
}

async function bundleWorker(root: string): Promise<string> {
  const outfile = join(root, 'packages/sandbox/node_modules/.cache/bastion-bench/reaper-soak-worker.cjs');
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [join(root, 'packages/sandbox/bench/reaper-soak-worker.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    logLevel: 'error',
    alias: Object.fromEntries(
      ['core', 'policy', 'security', 'providers'].map((p) => [
        `@bastion/${p}`,
        join(root, `packages/${p}/src/index.ts`),
      ]),
    ),
  });
  return outfile;
}

async function sessionContainers(docker: Dockerode, sessionId: string): Promise<number> {
  return (
    await docker.listContainers({
      all: true,
      filters: { label: [`${LABELS.managed}=true`, `${LABELS.session}=${sessionId}`] },
    })
  ).length;
}

async function timeToZero(
  docker: Dockerode,
  sessions: readonly string[],
  limitMs: number,
): Promise<{ ms: number; left: number }> {
  const t0 = Date.now();
  for (;;) {
    let left = 0;
    for (const s of sessions) left += await sessionContainers(docker, s);
    if (left === 0) return { ms: Date.now() - t0, left: 0 };
    if (Date.now() - t0 > limitMs) return { ms: Date.now() - t0, left };
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function runReaperSoakBench(options: ReaperSoakOptions = {}) {
  const total = options.n ?? 1000;
  const kills = Math.min(options.kills ?? 20, Math.max(0, total - 1));
  const mode = options.mode ?? (process.env.BASTION_SOAK_MODE as 'cold' | 'warm' | undefined) ?? 'cold';
  const log = options.log ?? (() => undefined);
  const docker = new Dockerode();
  const worker = await bundleWorker(repoRoot());

  // Kill points spread over the run, never the very last call.
  const killAt = new Set<number>();
  for (let k = 1; k <= kills; k++) killAt.add(Math.floor((k * total) / (kills + 1)));

  const callMs: number[] = [];
  const killToZero: Promise<{ ms: number; left: number }>[] = [];
  const sessions: string[] = [];
  let next = 0;
  let lastEnd = 0;

  while (next < total) {
    const child: ChildProcess = spawn(process.execPath, [worker, String(total - next), mode], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let session = '';
    let started = 0;
    let killedHere = false;
    const base = next;
    for await (const line of createInterface({ input: child.stdout! })) {
      const [what, arg] = line.split(' ');
      if (what === 'session') {
        session = arg;
        sessions.push(arg);
      } else if (what === 'start') {
        started = Date.now();
        const index = base + Number(arg);
        if (killAt.has(index)) {
          // Mid-call: give the call time to have its container created and running, then SIGKILL.
          await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 60)));
          child.kill('SIGKILL');
          const at = Date.now();
          killedHere = true;
          next = index + 1;
          const s = session;
          killToZero.push(timeToZero(docker, [s], 30_000).then((r) => ({ ...r, ms: Date.now() - at })));
          log(`call ${index}: runtime SIGKILLed mid-call (session ${s.slice(0, 8)})`);
          break;
        }
      } else if (what === 'done') {
        lastEnd = Date.now();
        callMs.push(lastEnd - started);
        next = base + Number(arg) + 1;
        if (next % 100 === 0) log(`${next}/${total} calls`);
      } else if (what === 'finished') {
        break;
      }
    }
    const code = await exited;
    if (!killedHere && code !== 0) throw new Error(`a soak runtime exited with ${code} after call ${next}`);
  }

  const final = await timeToZero(docker, sessions, 10_000);
  const msAfterLast = Date.now() - lastEnd;
  const killed = await Promise.all(killToZero);
  const killedLeft = killed.reduce((a, k) => a + k.left, 0);
  const note = `${sessions.length} runtimes, ${kills} SIGKILLed; leftovers ${final.left + killedLeft}; zero ${msAfterLast} ms after the last call`;
  log(note);
  return {
    baseline: 'call',
    cases: {
      call: stat(callMs, `${mode} path, ${callMs.length} completed calls`),
      'kill-to-zero': stat(
        killed.map((k) => k.ms),
        `SIGKILL → session has no container; ${killedLeft} left after 30 s`,
      ),
      'last-to-zero': { ...stat([msAfterLast]), leftovers: final.left + killedLeft, note },
    },
  };
}
