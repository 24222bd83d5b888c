import {
  closeSync,
  constants as fsConstants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire, Module } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Script, constants as vmConstants } from 'node:vm';

/**
 * Loads the CLI runner (dist/bastion-runner.cjs) as CommonJS, from a V8 code cache made at the end
 * of an earlier run of the same command, when there is one.
 *
 * Node's own compile cache (compile-cache.ts) stores the code V8 made when it compiled the file:
 * the top level only. V8 compiles a function when it is first called, so every `bastion exec`
 * compiled again each function it called (zod's schema builders, commander, the sanitizer, the
 * runtime): 25-35 ms of a ~190 ms call here. A cache made after the command ran holds them too
 * (1.2 MB against 0.45 MB).
 *
 * One cache per command (and `--backend`, whose paths differ most), written at exit by the first
 * run that found none, or found V8 refusing it (another node, other V8 flags). A run down another
 * path compiles what its cache lacks, as before. The file is named by the runner's identity
 * (device, inode, size, mtime and ctime, and node's version), so a rebuilt runner never meets a
 * stale cache (V8 itself only checks the source's length); writing one removes the caches of any
 * runner that is gone or rebuilt since (a `.path` file beside them names where each runner was),
 * and any not written for 30 days. V8 runs what the file holds, so it lives only in a directory
 * of this user's (compile-cache.ts), is created 0600, and is read only when it is a regular file
 * of this user that nobody else can write. A cache that
 * cannot be read or written costs the run its compile, as before; nothing else changes.
 */
export interface RunnerLoad {
  readonly exports: unknown;
  /** 'hit': V8 accepted the cache; 'miss': none there; 'rejected': V8 refused it; 'off': no cache directory. */
  readonly cache: 'hit' | 'miss' | 'rejected' | 'off';
  /** Writes the cache after a miss or a rejection (the CLI calls it at exit); a no-op otherwise. */
  persist(): void;
}

export function loadRunner(file: string, argv: readonly string[], cacheDir: string | undefined): RunnerLoad {
  // Read as latin1: esbuild writes the bundle's code ASCII-only (non-ASCII escaped), so only its
  // comments can hold other bytes, and latin1 reads every code byte as is. A one-byte string is
  // half the memory of the two-byte one UTF-8 decoding makes of a file with one em dash, and V8
  // takes it faster: the read went from ~6.6 to ~2.7 ms, the compile from ~20 to ~16 (profiled).
  const source = readFileSync(file, 'latin1');
  const cacheFile = cacheDir === undefined ? undefined : runnerCacheFile(cacheDir, file, argv);
  const cachedData = cacheFile === undefined ? undefined : readOwnFile(cacheFile);
  // The same wrapper node gives a CommonJS file, on the source's first line: line numbers hold.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    ...(cachedData !== undefined ? { cachedData } : {}),
    // The runner import()s a few ESM-only packages (pg, pglite, the MCP SDK's stdio transport).
    importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const cache: RunnerLoad['cache'] =
    cacheFile === undefined
      ? 'off'
      : cachedData === undefined
        ? 'miss'
        : script.cachedDataRejected
          ? 'rejected'
          : 'hit';

  const mod = new Module(file);
  mod.filename = file;
  const require = createRequire(file);
  mod.paths = require.resolve.paths('x') ?? [];
  // In require.cache like any loaded module: a later require() of the file gets this one.
  require.cache[file] = mod;
  (script.runInThisContext() as (...args: unknown[]) => void).call(
    mod.exports,
    mod.exports,
    require,
    mod,
    file,
    dirname(file),
  );
  mod.loaded = true;
  let persisted = false;
  return {
    exports: mod.exports,
    cache,
    persist() {
      if (persisted || cacheFile === undefined || cache === 'hit') return;
      persisted = true;
      writeOwnFile(cacheFile, script.createCachedData(), file);
    },
  };
}

/**
 * Where the cache of `file` for `argv` lives: `<cacheDir>/runner/<file>.<build>.<command key>.v8`,
 * where <file> is the runner's device and inode (a rebuild rewrites the same file) and <build>
 * its size, mtime and ctime with node's version and arch.
 */
export function runnerCacheFile(cacheDir: string, file: string, argv: readonly string[]): string {
  return join(cacheDir, 'runner', `${runnerIdentity(file)}.${commandKey(argv)}.v8`);
}

/** `<file>.<build>` of runnerCacheFile; undefined when `file` cannot be read. */
function runnerIdentity(file: string): string;
function runnerIdentity(file: string, missingOk: true): string | undefined;
function runnerIdentity(file: string, missingOk = false): string | undefined {
  let st;
  try {
    st = statSync(file, { bigint: true });
  } catch (err) {
    if (missingOk && (err as NodeJS.ErrnoException).code !== undefined) return undefined;
    throw err;
  }
  const build = [process.version.replace(/\./g, '_'), process.arch, st.size, st.mtimeNs, st.ctimeNs].join('-');
  return `${st.dev}-${st.ino}.${build}`;
}

/** The command (the first word that is not an option) and the `--backend` value, in file-name characters. */
export function commandKey(argv: readonly string[]): string {
  const command = argv.find((a) => !a.startsWith('-')) ?? 'none';
  const at = argv.findIndex((a) => a === '--backend' || a.startsWith('--backend='));
  const backend = at < 0 ? undefined : argv[at].includes('=') ? argv[at].slice('--backend='.length) : argv[at + 1];
  const key = backend === undefined ? command : `${command}@${backend}`;
  return key.replace(/[^A-Za-z0-9@_-]/g, '_').slice(0, 40);
}

/** The file's bytes when it is a regular file of this user that nobody else can write; else undefined. */
function readOwnFile(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    // No symlink is followed (ELOOP), and the checks are of the file opened, not of a name.
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) return undefined;
    return readFileSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === undefined) throw err;
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes `data` to `path` (0600, by rename) in its directory (created 0700; used only when it is
 * this user's and private), with `<file>.<build>.path` naming the runner it was made from, then
 * prunes the directory: the caches of any runner that is no longer where it was, or no longer the
 * build they were made from (a rebuild, a deleted checkout, a CI clone), go; so does any cache
 * nobody wrote for 30 days.
 */
function writeOwnFile(path: string, data: Buffer, runner: string): void {
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o077) !== 0) return;
    const ours = basename(path).split('.').slice(0, 2).join('.');
    writeAtomically(path, data);
    writeAtomically(join(dir, `${ours}.path`), Buffer.from(runner));
    const stale = Date.now() - 30 * 24 * 3600_000;
    const current = new Map<string, boolean>([[ours, true]]);
    for (const name of readdirSync(dir)) {
      const group = name.split('.').slice(0, 2).join('.');
      let keep = current.get(group);
      if (keep === undefined) {
        const from = readOwnFile(join(dir, `${group}.path`))?.toString('utf8');
        // A group without its .path (written before there were any) is kept until it ages out.
        keep = from === undefined ? true : runnerIdentity(from, true) === group;
        current.set(group, keep);
      }
      if (!keep || lstatSync(join(dir, name)).mtimeMs < stale) rmSync(join(dir, name), { force: true });
    }
  } catch (err) {
    // A read-only or full cache directory: the next run compiles as before. Anything else is a bug.
    if ((err as NodeJS.ErrnoException).code === undefined) throw err;
  }
}

function writeAtomically(path: string, data: Buffer): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  renameSync(tmp, path);
}
