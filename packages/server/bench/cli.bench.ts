// Whole-process cost of the `bastion` CLI (issue 26): what a user who scripts `bastion exec` pays
// per call, start-up included, paired with what it wraps, measured in the same run.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bwrapAvailability, resolveRootfs, managedContainers } from '@bastion/sandbox';
import { percentile, type CaseResult } from '@bastion/core/test-support';
import {
  BWRAP_RAW_NOTE,
  bwrapRawArgs,
  ENGINE_FLOOR_NOTE,
  engineFloorCreateOptions,
} from '@bastion/sandbox/test-support';

const ROOT = repoRoot();
const BIN = join(ROOT, 'packages/server/bin/bastion.cjs');
const IMAGE = 'bastion/sandbox';

/** A CLI case: the shared fields (scripts/bench.mjs recomputes `ratio` the same way) plus CPU. */
export interface CliCaseResult extends CaseResult {
  /** User+system CPU of the process and its children (hyperfine's mean per round, median over rounds). */
  cpuMs?: number;
}
type CliCase = CliCaseResult | { missing: string };

/** Case names are stable: scripts and docs/benchmarks.md refer to them. */
export type CliCaseName =
  | 'docker-run'
  | 'node-e0'
  | 'version'
  | 'exec-in-process'
  | 'engine-floor'
  | 'exec-daemon'
  | 'exec-bwrap-in-process'
  | 'bwrap-raw';

export interface CliBenchResult {
  baseline: 'docker-run';
  timer: string;
  cases: Partial<Record<CliCaseName, CliCase>>;
}

export interface CliBenchOptions {
  /** Runs per case (default 10). */
  n?: number;
  log?: (message: string) => void;
}

interface Command {
  name: CliCaseName;
  argv: string[];
  note?: string;
  /** Idle time before each run (not timed); default 0.3 s. */
  pauseS?: number;
}

/**
 * Each case is a whole process: node's start, the bundle's load, the call and the exit. Timed by
 * hyperfine (Debian's package, installed here when missing) in rounds over all cases, so a busy
 * neighbour on the machine hits every case alike. Each run is preceded by an idle pause
 * (hyperfine --prepare, not timed): 0.3 s, and 1 s before a call through the daemon so that its
 * warm pool has refilled, as it would between the calls of a script. `engine-floor` is node doing
 * only the engine calls of a cold exec: exec-in-process cannot go below it.
 * Targets (issue 26): version <= node-e0 + 60 ms; exec-in-process <= 0.8x,
 * exec-daemon <= 0.25x and exec-bwrap-in-process <= 0.5x docker-run.
 */
export async function runCliBench(options: CliBenchOptions = {}): Promise<CliBenchResult> {
  const n = options.n ?? 10;
  const log = options.log ?? (() => undefined);
  log('building the CLI bundle');
  execFileSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const timer = ensureHyperfine(log);

  const dir = mkdtempSync(join(tmpdir(), 'bastion-cli-bench-'));
  // A runtime directory of the bench's own: its daemon serves only these runs.
  const xdg = join(dir, 'xdg');
  mkdirSync(xdg, { mode: 0o700 });
  // `bastion` runs as users run it (README: the bin on PATH, started by its #! line with its node
  // flags), on the node that runs this bench.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_RUNTIME_DIR: xdg,
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
  };
  delete env.BASTION_NO_DAEMON;
  const floorCreate = join(dir, 'engine-floor-create.json');
  writeFileSync(floorCreate, JSON.stringify(engineFloorCreateOptions()));
  const node = process.execPath;
  const commands: Command[] = [
    { name: 'node-e0', argv: [node, '-e', '0'] },
    { name: 'version', argv: [BIN, '--version'] },
    // Each call takes a warm container and the pool starts another one in the background, which
    // takes as long as a `docker run`: one call per second is a rate the pool keeps up with here.
    {
      name: 'exec-daemon',
      argv: [BIN, 'exec', '--', 'true'],
      note: 'through `bastion daemon` (warm pool, 1 s between calls); target <= 0.25x',
      pauseS: 1,
    },
    { name: 'docker-run', argv: ['docker', 'run', '--rm', '--network', 'none', IMAGE, 'true'] },
    {
      name: 'exec-in-process',
      argv: [BIN, 'exec', '--no-daemon', '--', 'true'],
      note: 'cold container per call; target <= 0.8x',
    },
    // The same engine work from node without Bastion: what exec-in-process cannot go below.
    {
      name: 'engine-floor',
      argv: [node, join(ROOT, 'packages/server/bench/engine-floor.cjs'), floorCreate],
      note: ENGINE_FLOOR_NOTE,
    },
  ];
  const cases: CliBenchResult['cases'] = {};
  const bwrap = bwrapAvailability();
  if (bwrap.ok) {
    const { root } = resolveRootfs(`${IMAGE}:latest`);
    commands.push({
      name: 'exec-bwrap-in-process',
      argv: [BIN, 'exec', '--no-daemon', '--backend', 'bwrap', '--', 'true'],
      note: 'target <= 0.5x',
    });
    commands.push({
      name: 'bwrap-raw',
      argv: ['bwrap', ...bwrapRawArgs(root)],
      note: BWRAP_RAW_NOTE,
    });
  } else {
    cases['exec-bwrap-in-process'] = { missing: bwrap.reason };
    cases['bwrap-raw'] = { missing: bwrap.reason };
  }

  const daemon = await startDaemon(env, log);
  try {
    const samples = new Map<CliCaseName, { wall: number[]; cpu: number[] }>(
      commands.map((c) => [c.name, { wall: [], cpu: [] }]),
    );
    const rounds = Math.min(n, 3);
    for (let round = 0; round < rounds; round++) {
      const runs = Math.ceil(n / rounds);
      log(`round ${round + 1}/${rounds}: ${commands.length} cases x ${runs} runs`);
      const out = join(dir, `round-${round}.json`);
      const args = ['-N', '--style', 'none', '--warmup', '2', '--runs', String(runs), '--export-json', out];
      for (const c of commands) args.push('--prepare', `sleep ${c.pauseS ?? 0.3}`);
      for (const c of commands) args.push('--command-name', c.name, quote(c.argv));
      const run = spawnSync(timer, args, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      if (run.status !== 0)
        throw new Error(`hyperfine failed (${run.status}): ${run.stderr.trim().split('\n').slice(-3).join(' / ')}`);
      const doc = JSON.parse(readFileSync(out, 'utf8')) as {
        results: { command: string; times: number[]; user: number; system: number }[];
      };
      for (const r of doc.results) {
        const s = samples.get(r.command as CliCaseName)!;
        s.wall.push(...r.times.map((t) => t * 1000));
        s.cpu.push((r.user + r.system) * 1000);
      }
    }
    const base = summary(samples.get('docker-run')!.wall);
    for (const c of commands) {
      const s = samples.get(c.name)!;
      const sorted = [...s.wall].sort((a, b) => a - b);
      const p50 = summary(sorted);
      cases[c.name] = {
        n: sorted.length,
        p50Ms: round3(p50),
        p95Ms: round3(percentile(sorted, 0.95)),
        ratio: round3(p50 / base),
        cpuMs: round3(summary(s.cpu)),
        ...(c.note ? { note: c.note } : {}),
      };
    }
    const version = cases.version as CliCaseResult;
    const bare = cases['node-e0'] as CliCaseResult;
    version.note = `${(version.p50Ms - bare.p50Ms).toFixed(1)} ms over node-e0; target <= 60 ms`;
  } finally {
    await stopDaemon(daemon, log);
    rmSync(dir, { recursive: true, force: true });
  }
  return { baseline: 'docker-run', timer, cases };
}

/** hyperfine's path; installs Debian's package when it is missing and this process may (root). */
function ensureHyperfine(log: (m: string) => void): string {
  const found = spawnSync('sh', ['-c', 'command -v hyperfine'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  if (process.getuid?.() !== 0)
    throw new Error('hyperfine is not installed; install it (apt-get install hyperfine) and run the bench again');
  log('installing hyperfine (apt-get install hyperfine)');
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'hyperfine'], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  if (install.status !== 0) throw new Error(`could not install hyperfine: ${install.stderr.trim().split('\n').pop()}`);
  return 'hyperfine';
}

interface RunningDaemon {
  child: ChildProcess;
  session: string;
}

async function startDaemon(env: NodeJS.ProcessEnv, log: (m: string) => void): Promise<RunningDaemon> {
  const child = spawn(process.execPath, [BIN, 'daemon', '--pool-size', '3'], {
    env: { ...env, BASTION_AUDIT_LOG: '/dev/null' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const session = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`bastion daemon did not start in 60 s: ${seen}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      const m = /listening on \S+ \(backend \w+, session ([^,]+),/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bastion daemon exited ${code}: ${seen}`));
    });
  });
  log(`daemon up (session ${session})`);
  return { child, session };
}

async function stopDaemon(daemon: RunningDaemon, log: (m: string) => void): Promise<void> {
  if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
    const exited = new Promise((r) => daemon.child.once('exit', r));
    daemon.child.kill('SIGTERM');
    await exited;
  }
  const left = await managedContainers(undefined, daemon.session);
  if (left.length > 0) log(`WARNING: ${left.length} container(s) of the daemon's session left behind`);
}

/** hyperfine -N splits a command line on whitespace with shell-like quotes. */
function quote(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'"'"'`)}'`)).join(' ');
}

function summary(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return percentile(sorted, 0.5);
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** The repository, found upwards from wherever scripts/bench.mjs put this bundled suite. */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'scripts/build.mjs'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the repository root from ${__dirname}`);
    dir = up;
  }
  return dir;
}
