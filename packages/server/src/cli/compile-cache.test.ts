import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { enableCompileCache, type EnableCompileCache } from './compile-cache';

describe('enableCompileCache', () => {
  let dir: string;
  const calls: string[] = [];
  const enable: EnableCompileCache = (directory) => {
    calls.push(directory);
    return { status: 1, directory };
  };
  const uid = process.getuid!();
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-compile-cache-'));
    calls.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the cache in a private directory under XDG_CACHE_HOME', () => {
    const outcome = enableCompileCache({ XDG_CACHE_HOME: dir }, { enable, uid });
    const expected = join(dir, 'bastion', 'node-compile-cache');
    expect(outcome).toEqual({ enabled: true, directory: expected });
    expect(calls).toEqual([expected]);
    expect(statSync(expected).mode & 0o777).toBe(0o700);
  });

  it('falls back to ~/.cache when XDG_CACHE_HOME is unset or relative', () => {
    expect(enableCompileCache({ XDG_CACHE_HOME: 'relative' }, { enable, uid, home: () => dir })).toEqual({
      enabled: true,
      directory: join(dir, '.cache', 'bastion', 'node-compile-cache'),
    });
  });

  it('leaves the cache off when another user could write code into its directory', () => {
    const shared = join(dir, 'bastion', 'node-compile-cache');
    mkdirSync(shared, { recursive: true });
    chmodSync(shared, 0o777);
    const outcome = enableCompileCache({ XDG_CACHE_HOME: dir }, { enable, uid });
    expect(outcome.enabled).toBe(false);
    expect(calls).toEqual([]);
  });

  it('leaves the cache off for a directory owned by someone else', () => {
    expect(enableCompileCache({ XDG_CACHE_HOME: dir }, { enable, uid: uid + 1 }).enabled).toBe(false);
    expect(calls).toEqual([]);
  });

  it('does nothing on a node without a compile cache, or when NODE_DISABLE_COMPILE_CACHE is set', () => {
    expect(enableCompileCache({ XDG_CACHE_HOME: dir }, { enable: null, uid }).enabled).toBe(false);
    expect(enableCompileCache({ XDG_CACHE_HOME: dir, NODE_DISABLE_COMPILE_CACHE: '1' }, { enable, uid }).enabled).toBe(
      false,
    );
    expect(calls).toEqual([]);
  });

  it("reports a cache node could not open as off, with node's reason", () => {
    const failing: EnableCompileCache = () => ({ status: 0, message: 'disk full' });
    expect(enableCompileCache({ XDG_CACHE_HOME: dir }, { enable: failing, uid })).toEqual({
      enabled: false,
      reason: 'disk full',
    });
  });
});
