import { lstatSync, mkdirSync } from 'node:fs';
import * as nodeModule from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What the CLI did about node's on-disk compile cache (for tests and `doctor`-style checks). */
export type CompileCacheOutcome = { enabled: true; directory: string } | { enabled: false; reason: string };

export type EnableCompileCache = (directory: string) => { status: number; message?: string; directory?: string };

/** Injected in tests; the defaults are node's module.enableCompileCache, os.homedir and this uid. */
export interface CompileCacheDeps {
  enable?: EnableCompileCache | null;
  home?: () => string;
  uid?: number;
}

let enabledDirectory: string | undefined;

/**
 * The private directory enableCompileCache turned node's cache on in, if it did: the CLI keeps its
 * runner's code cache there too (runner-code-cache.ts).
 */
export function compileCacheDirectory(): string | undefined {
  return enabledDirectory;
}

/**
 * Turns on node's on-disk compile cache (Node >= 22.1, feature-detected) for the rest of this
 * process, so the runner bundle and the packages it loads (zod, dockerode, pino…) are not
 * compiled again by every `bastion` call: ~50 ms less per in-process call, measured on Node 24.
 * The cache holds V8 code that node runs, so it lives only in a directory of this user's
 * (XDG_CACHE_HOME or ~/.cache, then bastion/node-compile-cache, mode 0700), never in a shared
 * /tmp where another user could plant it. Anything unexpected leaves the cache off: the CLI then
 * only starts slower.
 */
export function enableCompileCache(
  env: Readonly<Record<string, string | undefined>>,
  deps: CompileCacheDeps = {},
): CompileCacheOutcome {
  const enable =
    deps.enable === undefined
      ? (nodeModule as unknown as { enableCompileCache?: EnableCompileCache }).enableCompileCache
      : deps.enable;
  const home = deps.home ?? homedir;
  const uid = deps.uid ?? process.getuid?.() ?? -1;
  if (typeof enable !== 'function' || enable === null)
    return { enabled: false, reason: `node ${process.versions.node} has no compile cache` };
  if (env.NODE_DISABLE_COMPILE_CACHE !== undefined)
    return { enabled: false, reason: 'NODE_DISABLE_COMPILE_CACHE is set' };
  const base =
    env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME.startsWith('/')
      ? env.XDG_CACHE_HOME
      : join(home(), '.cache');
  const directory = join(base, 'bastion', 'node-compile-cache');
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const st = lstatSync(directory);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
      return {
        enabled: false,
        reason: `${directory} is not a private directory of this user (mode 0700); the CLI runs without a compile cache`,
      };
    }
  } catch (err) {
    // A read-only or missing home: the CLI works the same, only without the cache.
    return { enabled: false, reason: `cannot use ${directory}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  const result = enable(directory);
  // module.constants.compileCacheStatus: FAILED = 0, ENABLED = 1, ALREADY_ENABLED = 2, DISABLED = 3.
  if (result.status === 1 || result.status === 2) {
    enabledDirectory = result.directory ?? directory;
    return { enabled: true, directory: enabledDirectory };
  }
  return { enabled: false, reason: result.message ?? `compile cache status ${result.status}` };
}
