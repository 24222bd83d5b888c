import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bwrapRunProblem } from './bwrap-availability';

/** The check as a fresh process sees it: nothing remembered in memory, only what is on disk. */
function inFreshProcess(bwrapPath: string, cacheDir: string | null): string | null {
  let problem: string | null = 'not run';
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fresh = require('./bwrap-availability') as typeof import('./bwrap-availability');
    problem = fresh.bwrapRunProblem(bwrapPath, { cacheDir });
  });
  return problem;
}

describe('bwrapRunProblem', () => {
  let dir: string;
  let runs: string;
  /** A stand-in bwrap that counts its runs and exits with `status`. */
  const fakeBwrap = (name: string, status = 0, extra = ''): string => {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\necho run >> '${runs}'\n${extra}exit ${status}\n`, { mode: 0o755 });
    return path;
  };
  const runCount = () => {
    try {
      return readFileSync(runs, 'utf8').split('\n').filter(Boolean).length;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0; // no run yet
      throw err;
    }
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bwrap-check-'));
    runs = join(dir, 'runs.log');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs `bwrap --version` once, and a later process trusts the remembered pass for that same binary', () => {
    const bwrap = fakeBwrap('bwrap');
    const cacheDir = join(dir, 'cache');
    expect(inFreshProcess(bwrap, cacheDir)).toBeNull();
    expect(runCount()).toBe(1);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const [file] = readdirSync(cacheDir);
    expect(statSync(join(cacheDir, file!)).mode & 0o077).toBe(0);
    expect(inFreshProcess(bwrap, cacheDir)).toBeNull();
    expect(bwrapRunProblem(bwrap, { cacheDir })).toBeNull();
    expect(runCount()).toBe(1);
  });

  it('checks again when the binary is replaced or re-permissioned', () => {
    const cacheDir = join(dir, 'cache');
    const bwrap = fakeBwrap('bwrap');
    expect(inFreshProcess(bwrap, cacheDir)).toBeNull();
    fakeBwrap('bwrap', 0, '# upgraded\n');
    expect(inFreshProcess(bwrap, cacheDir)).toBeNull();
    expect(runCount()).toBe(2);
    chmodSync(bwrap, 0o750);
    expect(inFreshProcess(bwrap, cacheDir)).toBeNull();
    expect(runCount()).toBe(3);
  });

  it('names a failing bwrap with the fix, and never remembers a failure', () => {
    const cacheDir = join(dir, 'cache');
    const bwrap = fakeBwrap('bwrap', 1);
    for (let i = 1; i <= 2; i++) {
      expect(inFreshProcess(bwrap, cacheDir)).toMatch(/--version failed .*apt-get install --reinstall bubblewrap/);
      expect(runCount()).toBe(i);
    }
    // Fixed in place: noticed on the next call.
    fakeBwrap('bwrap', 0);
    expect(inFreshProcess(bwrap, cacheDir)).toBeNull();
  });

  it('says how to install bwrap when there is none, on PATH or at a path', () => {
    expect(bwrapRunProblem(join(dir, 'missing'), { cacheDir: null })).toBe(
      `${join(dir, 'missing')} is not installed (apt-get install bubblewrap)`,
    );
    const saved = process.env.PATH;
    process.env.PATH = dir;
    try {
      expect(bwrapRunProblem('bwrap', { cacheDir: null })).toBe('bwrap is not installed (apt-get install bubblewrap)');
      fakeBwrap('bwrap');
      expect(bwrapRunProblem('bwrap', { cacheDir: null })).toBeNull();
      expect(runCount()).toBe(1);
    } finally {
      process.env.PATH = saved;
    }
  });

  it('works on when its cache cannot be written (a file where the directory should be)', () => {
    const bwrap = fakeBwrap('bwrap');
    writeFileSync(join(dir, 'not-a-dir'), '');
    const cacheDir = join(dir, 'not-a-dir', 'cache');
    expect(inFreshProcess(bwrap, cacheDir)).toBeNull();
    expect(inFreshProcess(bwrap, cacheDir)).toBeNull();
    expect(runCount()).toBe(2);
  });

  it('does not trust a remembered pass in a directory others can write: it checks afresh', () => {
    const cacheDir = join(dir, 'shared');
    const bwrap = fakeBwrap('bwrap');
    expect(inFreshProcess(bwrap, cacheDir)).toBeNull();
    chmodSync(cacheDir, 0o777);
    expect(inFreshProcess(bwrap, cacheDir)).toBeNull();
    expect(runCount()).toBe(2);
    expect(inFreshProcess(bwrap, null)).toBeNull();
    expect(runCount()).toBe(3);
  });
});
