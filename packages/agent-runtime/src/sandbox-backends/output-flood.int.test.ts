import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { describeWithDocker, describeWithBwrap } from '@bastion/sandbox/test-support';

const REPO = join(__dirname, '../../../..');
// Inside the package so the fixture's external packages resolve from its node_modules.
const OUT = join(REPO, 'packages/agent-runtime/node_modules/.cache/bastion/output-flood-fixture.cjs');
const MiB = 1024 * 1024;
/**
 * What a Node process holds besides the output: code, the engine client, GC headroom for the call's
 * own objects. Node 24's larger default young generation adds ~80 MiB of headroom: the same flood at
 * a 64 MiB cap grew RSS by +159..180 MiB on Node 20 and +246..275 MiB on Node 24. The bug this guards
 * against (a join plus the gate's re-sanitizing, ~4 × the cap) measured +282..312 on Node 20, about
 * +360..390 with that headroom: still over 2 × cap + 192 MiB (320 MiB at this cap).
 */
const CONSTANT = 192 * MiB;

interface FloodReport {
  baseRss: number;
  peakRss: number;
  error: { code: string; message: string; details?: { stream?: string; outputBytes?: number } } | null;
  execution: { exitCode: number; outputLimited: boolean; durationMs: number } | null;
  stdoutLength: number;
  stderrLength: number;
  stdoutIsTheCommands: boolean;
  stderrIsTheCommands: boolean;
  sandboxWarm: boolean;
}

type FloodPath = 'cold' | 'warm' | 'bwrap';

async function flood(capBytes: number, path: FloodPath): Promise<FloodReport> {
  const { stdout } = await promisify(execFile)(process.execPath, [OUT, String(capBytes), path], {
    cwd: REPO,
    env: { ...process.env, BASTION_AUDIT_LOG: '/dev/null' },
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as FloodReport;
}

async function bundleFixture(): Promise<void> {
  mkdirSync(join(OUT, '..'), { recursive: true });
  await build({
    entryPoints: [join(__dirname, 'output-flood.fixture.ts')],
    outfile: OUT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    logLevel: 'error',
    loader: { '.json': 'json' },
    alias: Object.fromEntries(
      ['core', 'policy', 'security', 'providers'].map((p) => [
        `@bastion/${p}`,
        join(REPO, `packages/${p}/src/index.ts`),
      ]),
    ),
  });
}

async function expectBoundedFlood(path: FloodPath, cap: number): Promise<void> {
  const r = await flood(cap, path);
  const grewMiB = Math.round((r.peakRss - r.baseRss) / MiB);
  console.log(
    `flood ${path}, cap ${cap / MiB} MiB per stream: RSS ${Math.round(r.baseRss / MiB)} → peak ${Math.round(r.peakRss / MiB)} MiB (+${grewMiB} MiB), ${r.execution?.durationMs} ms`,
  );
  expect(r.error).toMatchObject({ code: 'OUTPUT_LIMIT', details: { outputBytes: cap } });
  expect(r.execution).toMatchObject({ exitCode: 137, outputLimited: true });
  if (path === 'warm') expect(r.sandboxWarm).toBe(true);
  // The stream that passed the cap is cut exactly at it; the other one is at most the cap.
  const limited = r.error!.details!.stream === 'stdout' ? r.stdoutLength : r.stderrLength;
  expect(limited).toBe(cap);
  expect(Math.max(r.stdoutLength, r.stderrLength)).toBe(cap);
  expect(r.stdoutIsTheCommands && r.stderrIsTheCommands).toBe(true);
  // The call holds both streams (up to 2 × the cap) once, as the result's strings, and no copy of
  // them: pieces are joined as a rope and the exit gate checks them as they arrive (measured at a
  // 64 MiB cap: +150..174 MiB; before, a join and the gate's re-sanitizing held ~4 × the cap: +282..312).
  expect(r.peakRss - r.baseRss).toBeLessThan(2 * cap + CONSTANT);
  expect(r.execution!.durationMs).toBeLessThan(20_000);
}

describeWithDocker('1 GB + 1 GB of output on Docker (issue 22)', () => {
  beforeAll(bundleFixture, 60_000);
  it.each(['cold', 'warm'] as const)(
    'ends OUTPUT_LIMIT on the %s path with the capped output and the execution kept, host memory bounded by the cap',
    (path) => expectBoundedFlood(path, 64 * MiB),
    60_000,
  );
});

describeWithBwrap('1 GB + 1 GB of output on bubblewrap (issue 22)', () => {
  beforeAll(bundleFixture, 60_000);
  it(
    'ends OUTPUT_LIMIT with the capped output and the execution kept, host memory bounded by the cap',
    () => expectBoundedFlood('bwrap', 64 * MiB),
    60_000,
  );
});
