import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { PRUNE_EXPECTED, RESERVATION_EXPECTED } from './test-support/daily-usage-scenarios';

const run = promisify(execFile);
const PACKAGE = resolve(__dirname, '../..');

/**
 * Migration 2 and the daily usage port on the embedded store (PGlite: the same SQL as a PostgreSQL
 * server). Each step runs in its own Node process, so the second one is a real restart.
 */
describe('daily usage in the embedded task database (pglite:DIR)', () => {
  let bundleDir: string;
  let dataDir: string;
  let script: string;

  beforeAll(async () => {
    // Beside the package, so its npm dependencies (pglite, pg) resolve from the bundle.
    bundleDir = await mkdtemp(join(PACKAGE, 'dist', 'daily-usage-node-'));
    dataDir = await mkdtemp(join(tmpdir(), 'bastion-daily-'));
    script = join(bundleDir, 'daily-usage-node.cjs');
    await build({
      entryPoints: [join(__dirname, 'test-support/daily-usage-node.ts')],
      outfile: script,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      logLevel: 'error',
      plugins: [
        {
          name: 'npm-packages-external',
          setup(b) {
            b.onResolve({ filter: /^[^./]/ }, (args) =>
              args.path.startsWith('@bastion/') ? undefined : { path: args.path, external: true },
            );
          },
        },
      ],
    });
  }, 30_000);
  afterAll(async () => {
    await rm(bundleDir, { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  const step = async (name: string, dir = dataDir) =>
    JSON.parse((await run(process.execPath, [script, dir, name], { timeout: 40_000 })).stdout) as Record<
      string,
      unknown
    >;
  const freshDir = () => mkdtemp(join(dataDir, 'fresh-'));

  it('adds concurrent increments atomically, each answered with the totals so far, and keeps the day across a restart until it is past the retention window', async () => {
    const spent = await step('spend');
    expect(spent.before).toEqual({ inputTokens: 0, outputTokens: 0, requests: 0, costUsd: 0 });
    // 40 concurrent upserts: none lost, and each answer is a distinct running total.
    expect(spent.answered).toEqual(Array.from({ length: 40 }, (_, i) => (i + 1) * 100));
    expect(spent).toMatchObject({
      after: { inputTokens: 4000, outputTokens: 280, requests: 2, costUsd: 10 },
      otherDay: { requests: 0 },
      admitted: 2,
      errors: 0,
    });

    // A new process on the same directory: the day's usage is there and the budget of 2 requests is spent.
    expect(await step('check')).toEqual({
      used: { inputTokens: 4000, outputTokens: 280, requests: 2, costUsd: 10 },
      breach: { scope: 'daily', limit: 'maxModelRequests' },
      errors: 0,
    });

    // Opened 50 days later, the ledger prunes at open: the old day is gone (retention 35 days).
    expect(await step('reopen-later')).toEqual({ used: { inputTokens: 0, outputTokens: 0, requests: 0, costUsd: 0 } });
  }, 60_000);

  it('reserves atomically (K concurrent reservations against a budget that fits M admit exactly M) and prunes rows past the retention window', async () => {
    expect(await step('scenarios', await freshDir())).toEqual({
      reservation: RESERVATION_EXPECTED,
      prune: PRUNE_EXPECTED,
    });
  }, 60_000);
});
