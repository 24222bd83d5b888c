import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { SECCOMP_PROFILE as seccompProfile } from '../seccomp-profile';
import { detectCgroupLayout, type CgroupLayout } from './cgroups';
import { defaultSeccompCacheDir, cachedSeccompProgram } from './seccomp-program-cache';
import { libseccompProblem } from './libseccomp-compiler';
import { readKeyedCacheFile, writeKeyedCacheFile } from './private-cache-file';

export interface BwrapAvailabilityOptions {
  /**
   * Where a passed `bwrap --version` check is remembered, keyed by the binary's identity (path,
   * device, inode, size, mtime, ctime, mode), so a CLI call does not spawn it every time; null:
   * this process only. Default: `bastion/bwrap` beside the seccomp program cache (0700).
   */
  readonly cacheDir?: string | null;
}

export type BwrapAvailability = { ok: true; layout: CgroupLayout } | { ok: false; reason: string };

/** Whether this host can run the bwrap backend at all, and why not. */
export function bwrapAvailability(bwrapPath = 'bwrap', options: BwrapAvailabilityOptions = {}): BwrapAvailability {
  const problem = bwrapRunProblem(bwrapPath, options);
  if (problem !== null) return { ok: false, reason: problem };
  const layout = detectCgroupLayout();
  if ('unavailable' in layout) return { ok: false, reason: layout.unavailable };
  // libseccomp (a python process, ~30-60 ms) is only needed to compile the seccomp program: with
  // the default profile's program already compiled and cached, a CLI call does not start python.
  if (cachedSeccompProgram(seccompProfile) === undefined) {
    const libseccomp = libseccompProblem();
    if (libseccomp !== null) return { ok: false, reason: libseccomp };
  }
  return { ok: true, layout };
}

export function defaultBwrapCheckCacheDir(): string {
  return join(dirname(defaultSeccompCacheDir()), 'bwrap');
}

const passed = new Set<string>();

/**
 * Null when `bwrapPath` runs (`bwrap --version` exits 0), else the reason, with the fix. Spawning
 * it costs a one-shot CLI call ~4-7 ms (node forks itself), so a pass is remembered for exactly
 * that binary file: replacing, upgrading, re-permissioning or removing it changes the key and
 * the check runs again. A failure is never remembered, so an install is noticed on the next call.
 * A cached pass only spares a version print: the sandbox call still runs bwrap itself, and
 * reports its own error if it cannot.
 */
export function bwrapRunProblem(bwrapPath = 'bwrap', options: BwrapAvailabilityOptions = {}): string | null {
  const resolved = resolveExecutable(bwrapPath);
  const key = resolved === undefined ? undefined : binaryIdentity(resolved);
  const dir = options.cacheDir === undefined ? defaultBwrapCheckCacheDir() : options.cacheDir;
  if (key !== undefined && (passed.has(key) || (dir !== null && readKeyedCacheFile(dir, key, 'ok') !== undefined))) {
    passed.add(key);
    return null;
  }
  try {
    // The resolved file when there is one: what was identified above is what ran. The PATH that
    // was searched is the one the spawn searches (node's default env is the same object).
    execFileSync(resolved ?? bwrapPath, ['--version'], { stdio: 'ignore', timeout: 5_000, env: process.env });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT'
      ? `${bwrapPath} is not installed (apt-get install bubblewrap)`
      : `${bwrapPath} --version failed (${code ?? (err as Error).message.split('\n')[0]}); reinstall bubblewrap (apt-get install --reinstall bubblewrap)`;
  }
  if (key !== undefined) {
    passed.add(key);
    if (dir !== null) writeKeyedCacheFile(dir, key, 'ok');
  }
  return null;
}

/** The file execvp would run for `name` (a bare name is looked up on PATH), if it can be found here. */
function resolveExecutable(name: string): string | undefined {
  const candidates = name.includes('/')
    ? [resolve(name)]
    : (process.env.PATH ?? '')
        .split(delimiter)
        // An empty entry means the working directory to execvp: left to the uncached spawn.
        .filter((d) => d.startsWith('/'))
        .map((d) => join(d, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === undefined) throw err;
    }
  }
  return undefined;
}

function binaryIdentity(path: string): string | undefined {
  try {
    const st = statSync(path, { bigint: true });
    return ['bwrap-v1', path, st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs, st.mode, st.uid].join(' ');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === undefined) throw err;
    return undefined;
  }
}
