import { join } from 'node:path';
import { DEFAULT_TMPFS_ROOT } from '@bastion/sandbox';

/**
 * Directories no caller may name as a workspace (or configure as a workspace root), whatever the
 * roots say: the host's configuration, credentials, kernel interfaces, boot files and the Docker
 * engine's state. A workspace inside one of them, or one that contains one (`/`, `/var`), is
 * refused too: copying `/var` copies `/var/lib/docker`.
 */
export const SYSTEM_PATHS: readonly string[] = Object.freeze([
  '/',
  '/etc',
  '/root',
  '/proc',
  '/sys',
  '/dev',
  '/boot',
  '/var/lib/docker',
]);

/** Where the runtime keeps its own state, as read at the edge (CLI or server start). */
export interface RuntimeStateLocations {
  readonly uid: number;
  readonly tmpdir: string;
  readonly xdgRuntimeDir?: string | undefined;
  /** $BASTION_ROOTFS_DIR, where the bwrap backend's image trees live. */
  readonly rootfsDir?: string | undefined;
  /** $BASTION_BWRAP_TMP_DIR, the bwrap backend's per-call tmpfs mounts. */
  readonly bwrapTmpDir?: string | undefined;
}

/**
 * The runtime's own state directories: its socket directory (gateway sockets hold a path to the
 * API key), image trees, per-call tmpfs and the throwaway copies of other calls. A workspace there
 * would hand one caller another call's files or the gateway's socket. The bwrap backend's default
 * tmpfs root is listed whatever $BASTION_BWRAP_TMP_DIR says: it holds other calls' /tmp and
 * /dev/shm, and is not under /run/bastion (bwrap must reach it as the sandbox user).
 */
export function runtimeStatePaths(where: RuntimeStateLocations): string[] {
  const paths = ['/run/bastion', DEFAULT_TMPFS_ROOT, '/var/lib/bastion', join(where.tmpdir, `bastion-${where.uid}`)];
  if (where.xdgRuntimeDir?.startsWith('/')) paths.push(join(where.xdgRuntimeDir, 'bastion'));
  if (where.rootfsDir?.startsWith('/')) paths.push(where.rootfsDir);
  if (where.bwrapTmpDir?.startsWith('/')) paths.push(where.bwrapTmpDir);
  return paths;
}

/** Name prefixes of the per-call directories the runtime makes directly in the temp directory. */
export const RUNTIME_SCRATCH_PREFIXES: readonly string[] = Object.freeze([
  'bastion-ws-',
  'bastion-gw-',
  'bastion-ctl-',
  'bastion-relay-',
]);
