import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { commandKey, loadRunner, runnerCacheFile } from './runner-code-cache';

// A stand-in runner: requires a sibling, import()s an ES module, and throws from a known line.
const RUNNER = [
  "'use strict';",
  "const dep = require('./dep.cjs');",
  'let calls = 0;',
  'function work(n) { calls++; return dep.twice(n) + 1; }',
  'function fail() {',
  "  throw new Error('from line 6');",
  '}',
  "module.exports = { work, fail, calls: () => calls, file: __filename, dir: __dirname, esm: () => import('./esm.mjs') };",
].join('\n');

describe('loadRunner', () => {
  let dir: string;
  let runner: string;
  let cacheDir: string;
  const argv = ['exec', '--backend', 'bwrap', '--', 'true'];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-runner-cache-'));
    runner = join(dir, 'dist', 'runner.cjs');
    mkdirSync(join(dir, 'dist'));
    writeFileSync(runner, RUNNER);
    writeFileSync(join(dir, 'dist', 'dep.cjs'), 'module.exports = { twice: (n) => 2 * n };');
    writeFileSync(join(dir, 'dist', 'esm.mjs'), 'export const answer = 42;');
    cacheDir = join(dir, 'cache');
    mkdirSync(cacheDir, { mode: 0o700 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  type Runner = {
    work(n: number): number;
    fail(): never;
    file: string;
    dir: string;
    esm(): Promise<{ answer: number }>;
  };

  it('runs the file as CommonJS: require beside it, __filename, __dirname, import(), line numbers (require.cache: start-up-cost.test.ts)', async () => {
    const load = loadRunner(runner, argv, cacheDir);
    const mod = load.exports as Runner;
    expect(mod.work(20)).toBe(41);
    expect(mod.file).toBe(runner);
    expect(mod.dir).toBe(join(dir, 'dist'));
    expect((await mod.esm()).answer).toBe(42);
    let stack = '';
    try {
      mod.fail();
    } catch (err) {
      stack = (err as Error).stack ?? '';
    }
    expect(stack).toContain(`${runner}:6:`);
  });

  it('writes the cache after a first run (0600, in a 0700 directory) and is served from it next time', () => {
    const first = loadRunner(runner, argv, cacheDir);
    expect(first.cache).toBe('miss');
    (first.exports as Runner).work(1);
    first.persist();
    const file = runnerCacheFile(cacheDir, runner, argv);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(cacheDir, 'runner')).mode & 0o777).toBe(0o700);
    const written = statSync(file).mtimeMs;

    const second = loadRunner(runner, argv, cacheDir);
    expect(second.cache).toBe('hit');
    expect((second.exports as Runner).work(3)).toBe(7);
    second.persist();
    expect(statSync(file).mtimeMs).toBe(written);
  });

  it('keeps one cache per command and backend', () => {
    loadRunner(runner, argv, cacheDir).persist();
    loadRunner(runner, ['run', '--provider', 'cursor'], cacheDir).persist();
    expect(readdirSync(join(cacheDir, 'runner')).map((n) => n.split('.').slice(-2, -1)[0])).toEqual(
      expect.arrayContaining(['exec@bwrap', 'run']),
    );
  });

  it('rewrites a cache V8 refuses (another node, other flags, or garbage), and still runs', () => {
    const file = runnerCacheFile(cacheDir, runner, argv);
    mkdirSync(join(cacheDir, 'runner'), { mode: 0o700 });
    writeFileSync(file, Buffer.alloc(4096, 7), { mode: 0o600 });
    const load = loadRunner(runner, argv, cacheDir);
    expect(load.cache).toBe('rejected');
    expect((load.exports as Runner).work(1)).toBe(3);
    load.persist();
    expect(loadRunner(runner, argv, cacheDir).cache).toBe('hit');
  });

  it.each([
    [
      'a file others can write',
      (file: string) => {
        writeFileSync(file, Buffer.alloc(64));
        chmodSync(file, 0o666);
      },
    ],
    ['a symlink to a file of ours', (file: string) => symlinkSync(join(dir, 'dist', 'dep.cjs'), file)],
  ])('does not read %s planted under the cache name, and replaces it', (_what, plant) => {
    const file = runnerCacheFile(cacheDir, runner, argv);
    mkdirSync(join(cacheDir, 'runner'), { mode: 0o700 });
    plant(file);
    chmodSync(join(cacheDir, 'runner'), 0o700);
    const load = loadRunner(runner, argv, cacheDir);
    expect(load.cache).toBe('miss');
    load.persist();
    expect(statSync(file).isFile()).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'dist', 'dep.cjs'), 'utf8')).toContain('twice');
  });

  it('writes nothing into a cache directory others can write', () => {
    mkdirSync(join(cacheDir, 'runner'), { mode: 0o700 });
    chmodSync(join(cacheDir, 'runner'), 0o777);
    loadRunner(runner, argv, cacheDir).persist();
    expect(readdirSync(join(cacheDir, 'runner'))).toEqual([]);
  });

  it('never serves a rebuilt runner an old cache, and drops the old build’s caches when writing', () => {
    loadRunner(runner, argv, cacheDir).persist();
    loadRunner(runner, ['doctor'], cacheDir).persist();
    const old = readdirSync(join(cacheDir, 'runner')).filter((n) => n.endsWith('.v8'));
    expect(old).toHaveLength(2);
    // Same length, other content: V8 alone would take the old cache (it checks the length).
    writeFileSync(runner, RUNNER.replace('+ 1;', '+ 2;'));
    const load = loadRunner(runner, argv, cacheDir);
    expect(load.cache).toBe('miss');
    expect((load.exports as Runner).work(1)).toBe(4);
    load.persist();
    const now = readdirSync(join(cacheDir, 'runner'));
    expect(now.filter((n) => n.endsWith('.v8'))).toHaveLength(1);
    expect(now.filter((n) => n.endsWith('.path'))).toHaveLength(1);
    expect(old).not.toContain(now[0]);
  });

  it('keeps another checkout’s caches, and drops any cache nobody wrote for 30 days', () => {
    const other = join(dir, 'dist', 'other-runner.cjs');
    writeFileSync(other, RUNNER);
    loadRunner(other, argv, cacheDir).persist();
    loadRunner(other, ['doctor'], cacheDir).persist();
    const [kept, aged] = readdirSync(join(cacheDir, 'runner'))
      .filter((n) => n.endsWith('.v8'))
      .sort();
    const month = (Date.now() - 31 * 24 * 3600_000) / 1000;
    utimesSync(join(cacheDir, 'runner', aged), month, month);
    loadRunner(runner, argv, cacheDir).persist();
    const now = readdirSync(join(cacheDir, 'runner'));
    expect(now).toContain(kept);
    expect(now).not.toContain(aged);
    expect(now).toContain(basename(runnerCacheFile(cacheDir, runner, argv)));
  });

  it('drops the caches of a runner that is gone (a deleted checkout or CI clone) or rebuilt since', () => {
    const gone = join(dir, 'dist', 'gone-runner.cjs');
    const rebuilt = join(dir, 'dist', 'rebuilt-runner.cjs');
    writeFileSync(gone, RUNNER);
    writeFileSync(rebuilt, RUNNER);
    loadRunner(gone, argv, cacheDir).persist();
    loadRunner(rebuilt, ['doctor'], cacheDir).persist();
    expect(readdirSync(join(cacheDir, 'runner'))).toHaveLength(4); // two caches, two .path files
    rmSync(gone);
    writeFileSync(rebuilt, RUNNER.replace('+ 1;', '+ 3;'));
    loadRunner(runner, argv, cacheDir).persist();
    const ours = basename(runnerCacheFile(cacheDir, runner, argv));
    expect(readdirSync(join(cacheDir, 'runner')).sort()).toEqual(
      [ours, `${ours.split('.').slice(0, 2).join('.')}.path`].sort(),
    );
  });

  it('runs without a cache when there is no cache directory', () => {
    const load = loadRunner(runner, argv, undefined);
    expect(load.cache).toBe('off');
    expect((load.exports as Runner).work(2)).toBe(5);
    load.persist();
    expect(readdirSync(cacheDir)).toEqual([]);
  });
});

describe('commandKey', () => {
  it.each([
    [['exec', '--', 'true'], 'exec'],
    [['exec', '--backend', 'bwrap', '--', 'true'], 'exec@bwrap'],
    [['--json', 'exec', '--backend=docker', '--', 'true'], 'exec@docker'],
    [['run', '--provider', 'cursor', 'fix it'], 'run'],
    [['--help'], 'none'],
    [['ex/ec', '--backend', '../x'], 'ex_ec@.._x'.replace(/\./g, '_')],
  ])('%j -> %s', (argv, key) => {
    expect(commandKey(argv)).toBe(key);
  });
});
