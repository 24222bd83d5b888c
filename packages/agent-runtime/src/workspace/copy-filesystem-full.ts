import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isCopyMount } from './copy-filesystem';

/**
 * Less free room than this counts as full: a write that failed with ENOSPC leaves at most a
 * partial page or two behind, and an agent that stopped with this little left was stopped by it.
 */
const FULL_MARGIN_BYTES = 64 * 1024;

/** What ran out on a copy's filesystem, with the sizes statfs reported. */
export interface CopyFilesystemFull {
  /** `bytes`: the size cap (filesystem.maxTotalBytes of room); `inodes`: the file count cap (filesystem.maxFiles). */
  readonly resource: 'bytes' | 'inodes';
  readonly sizeBytes: number;
  readonly freeBytes: number;
  readonly inodes: number;
  readonly freeInodes: number;
}

/**
 * Is the workspace copy at `copyDir` (the `workspace` directory inside its per-call mount) out of
 * room? Only a copy on its own size- and inode-capped tmpfs can be full because of the policy's
 * caps; a copy on the scratch directory's filesystem (no root) answers null, as does a copy that
 * is gone.
 */
export async function copyFilesystemFull(copyDir: string): Promise<CopyFilesystemFull | null> {
  const mount = dirname(copyDir);
  if (!isCopyMount(mount)) return null;
  const st = await statfs(mount);
  const usage = {
    sizeBytes: st.blocks * st.bsize,
    freeBytes: st.bavail * st.bsize,
    inodes: st.files,
    freeInodes: st.ffree,
  };
  if (usage.freeInodes === 0) return { resource: 'inodes', ...usage };
  if (usage.freeBytes < FULL_MARGIN_BYTES) return { resource: 'bytes', ...usage };
  return null;
}
