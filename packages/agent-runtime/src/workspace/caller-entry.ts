import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { readableByOthers } from './workspace-copy';

/** How the caller's entry at a path may be reached (see withCallerEntry). */
export type CallerEntry<T> =
  | { readonly kind: 'ok'; readonly value: T }
  /** A directory on the way is a link, not a directory, or gone: the workspace holds nothing at this path. */
  | { readonly kind: 'absent' }
  /** A directory on the way may not be listed and entered by other users: the agent could not see it, and neither may its diff. */
  | { readonly kind: 'hidden' };

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** What an open of a path component says when it is not a directory we may walk into. */
const NOT_A_DIR = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

/**
 * Runs `fn` on a path that names the caller's entry at `rel` (relative to `source`, `/`-separated)
 * only through real directories of the workspace. The parents are opened one component at a time
 * with O_NOFOLLOW, each through the previous one's descriptor (`/proc/self/fd/N/name`, Linux's
 * openat), and each must be listable by other users (o+rx, the copy's rule). `fn` gets
 * `/proc/self/fd/<parent>/<name>`: the last component is the caller's to open with O_NOFOLLOW (lstat,
 * digestFile and the diff's reads do), so neither a link in the caller's tree (`r -> /root`, which
 * the agent replaced with a directory in its copy) nor a directory swapped for a link between
 * the check and the read leads a root runtime to read outside the workspace or where other users
 * may not go.
 */
export async function withCallerEntry<T>(
  source: string,
  rel: string,
  fn: (abs: string) => Promise<T>,
): Promise<CallerEntry<T>> {
  const parts = rel.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return { kind: 'absent' };
  let dir: FileHandle;
  try {
    // The workspace root itself was validated when the task was accepted; only what lies under it is the caller's to arrange.
    dir = await open(source, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    if (NOT_A_DIR.has((err as NodeJS.ErrnoException).code ?? '')) return { kind: 'absent' };
    throw err;
  }
  try {
    if (!(await listableByOthers(dir))) return { kind: 'hidden' };
    for (const name of parts.slice(0, -1)) {
      let next: FileHandle;
      try {
        next = await open(`/proc/self/fd/${dir.fd}/${name}`, DIR_FLAGS);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (NOT_A_DIR.has(code)) return { kind: 'absent' };
        if (code === 'EACCES') return { kind: 'hidden' };
        throw err;
      }
      await dir.close();
      dir = next;
      if (!(await listableByOthers(dir))) return { kind: 'hidden' };
    }
    return { kind: 'ok', value: await fn(`/proc/self/fd/${dir.fd}/${parts[parts.length - 1]}`) };
  } finally {
    await dir.close();
  }
}

async function listableByOthers(dir: FileHandle): Promise<boolean> {
  return readableByOthers({ type: 'dir', mode: (await dir.stat()).mode });
}
