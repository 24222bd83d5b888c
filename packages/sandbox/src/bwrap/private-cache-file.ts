import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/**
 * Files a one-shot runtime keeps between processes to skip work (a compiled seccomp program, a
 * passed bwrap check). What they hold decides what a sandbox runs under, so a file is trusted only
 * when it and its directory belong to this user and nobody else can write them (no symlinks):
 * anything another user could replace would be an escape. A cache that cannot be read or written
 * only costs the next process the work again.
 */
function privateToUs(path: string): boolean {
  const st = lstatSync(path);
  return st.uid === process.getuid?.() && (st.mode & 0o022) === 0 && !st.isSymbolicLink();
}

/** The file's bytes when it and `dir` are private to this user; undefined when absent, unreadable or not private. */
export function readPrivateCacheFile(dir: string, file: string): Buffer | undefined {
  try {
    if (privateToUs(dir) && privateToUs(file)) return readFileSync(file);
  } catch (err) {
    // Not there yet (ENOENT) or unreadable: the caller does the work. Only a file system error
    // means that; anything else is a bug and surfaces.
    if ((err as NodeJS.ErrnoException).code === undefined) throw err;
  }
  return undefined;
}

/** Writes `data` to `file` (0600, atomically by rename) in `dir` (created 0700); a file system error is ignored. */
export function writePrivateCacheFile(dir: string, file: string, data: string | Buffer): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!privateToUs(dir)) return;
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
  } catch (err) {
    // A read-only, full or misshapen cache directory costs the next process the work, nothing
    // more: any file system error is that. Anything else is a bug and surfaces.
    if ((err as NodeJS.ErrnoException).code === undefined) throw err;
  }
}
