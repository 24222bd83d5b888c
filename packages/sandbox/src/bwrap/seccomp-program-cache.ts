import { homedir } from 'node:os';
import { join } from 'node:path';
import type { SeccompProfile } from '../seccomp-profile';
import { compileWithLibseccomp, type LibseccompOptions } from './libseccomp-compiler';
import { keyedCacheFile, readKeyedCacheFile, writeKeyedCacheFile } from './private-cache-file';

export interface SeccompCacheOptions extends LibseccompOptions {
  /**
   * Where compiled programs are kept by their key (seccompProgramKey), so a CLI call does not pay python's start-up
   * (~0.1 s) each time; null keeps them in memory only. The directory is created 0700 and a file is
   * only trusted when it and its directory belong to this user and nobody else can write them: a
   * program someone else could replace would be an escape.
   */
  readonly cacheDir?: string | null;
}

export function defaultSeccompCacheDir(): string {
  if (process.getuid?.() === 0) return '/var/cache/bastion/seccomp';
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'bastion', 'seccomp');
}

const memory = new Map<string, Buffer>();

/**
 * The key of a compiled program: everything that changes what libseccomp is asked to make, as
 * text. A cache file holds its whole key and is used only for that key (keyedCacheFile).
 */
export function seccompProgramKey(profile: SeccompProfile, options: LibseccompOptions = {}): string {
  return JSON.stringify({
    profile,
    caps: [...(options.caps ?? [])].sort(),
    python: options.python ?? null,
    arch: process.arch,
  });
}

/** The file a compiled `profile` is kept in under `cacheDir`. */
export function seccompCacheFile(cacheDir: string, profile: SeccompProfile, options: LibseccompOptions = {}): string {
  return keyedCacheFile(cacheDir, seccompProgramKey(profile, options), 'bpf');
}

/**
 * The program for `profile` when one is compiled already (in this process or in a trusted cache
 * file), without running libseccomp; undefined otherwise. It is kept in memory for seccompProgram.
 */
export function cachedSeccompProgram(profile: SeccompProfile, options: SeccompCacheOptions = {}): Buffer | undefined {
  const key = seccompProgramKey(profile, options);
  const hit = memory.get(key);
  if (hit !== undefined) return hit;
  const dir = options.cacheDir === undefined ? defaultSeccompCacheDir() : options.cacheDir;
  if (dir === null) return undefined;
  const program = readKeyedCacheFile(dir, key, 'bpf');
  if (program === undefined || program.length === 0 || program.length % 8 !== 0) return undefined;
  memory.set(key, program);
  return program;
}

/** The BPF program for `profile`, compiled by libseccomp once per key. */
export function seccompProgram(profile: SeccompProfile, options: SeccompCacheOptions = {}): Buffer {
  let program = cachedSeccompProgram(profile, options);
  if (program === undefined) {
    const key = seccompProgramKey(profile, options);
    const dir = options.cacheDir === undefined ? defaultSeccompCacheDir() : options.cacheDir;
    program = compileWithLibseccomp(profile, options).program;
    if (dir !== null) writeKeyedCacheFile(dir, key, 'bpf', program);
    memory.set(key, program);
  }
  return program;
}
