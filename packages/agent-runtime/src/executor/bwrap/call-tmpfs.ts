import { execFile } from 'node:child_process';
import { mkdir, rmdir } from 'node:fs/promises';
import { readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where a root runtime mounts each bwrap call's /tmp: `<root>/<session>/<n>-<expiresAtMs>`. */
export const DEFAULT_TMPFS_ROOT = '/run/bastion/bwrap-tmp';
/** The source name of those mounts in /proc/self/mountinfo. */
export const TMPFS_SOURCE = 'bastion-tmp';
const SBIN_PATH = '/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin';

/**
 * A call's /tmp as a tmpfs mounted on the host with the Docker backend's options: size-capped,
 * `noexec,nosuid,nodev`, mode 1777. bwrap has no option to make its own tmpfs noexec; a bind
 * mount keeps the source's flags, and inside bwrap's user namespace they are locked, so the
 * sandbox can neither run a binary it dropped in /tmp nor remount it. Needs CAP_SYS_ADMIN.
 */
export async function mountCallTmpfs(dir: string, sizeBytes: number): Promise<void> {
  // Parents 0711: bwrap runs as the sandbox user on the host and must reach the dir to bind it.
  await mkdir(dir, { recursive: true, mode: 0o711 });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=1777,noexec,nosuid,nodev`, TMPFS_SOURCE, dir], { env: { PATH: SBIN_PATH } });
}

/** Unmounts a call's /tmp (its processes are gone) and removes the mount point; idempotent. */
export async function unmountCallTmpfs(dir: string): Promise<void> {
  if (mountPoints().includes(dir)) {
    try {
      await run('umount', [dir], { env: { PATH: SBIN_PATH } });
    } catch {
      // Still busy for a moment (a process of the call not yet reaped): detach it now, the
      // kernel frees it when the last user goes.
      await run('umount', ['-l', dir], { env: { PATH: SBIN_PATH } });
    }
  }
  await rmdir(dir).catch((err: NodeJS.ErrnoException) => {
    // Never created (the mount failed at mkdir): nothing to remove.
    if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') throw err;
  });
}

export interface CallTmpfsEntry {
  readonly sessionId: string;
  readonly name: string;
  readonly dir: string;
  readonly expiresAtMs: number;
}

/** Every call /tmp still mounted under `root`, with the expiry its name carries. */
export function listCallTmpfs(root: string = DEFAULT_TMPFS_ROOT): CallTmpfsEntry[] {
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const out: CallTmpfsEntry[] = [];
  for (const dir of mountPoints()) {
    if (!dir.startsWith(prefix)) continue;
    const [sessionId, name, ...rest] = dir.slice(prefix.length).split('/');
    if (!sessionId || !name || rest.length > 0) continue;
    const m = /-(\d+)$/.exec(name);
    out.push({ sessionId, name, dir, expiresAtMs: m ? Number(m[1]) : 0 });
  }
  return out;
}

/** Removes a session's directory under `root` once it holds no call; a busy one is left. */
export function removeTmpfsSessionDir(root: string, sessionId: string): void {
  const dir = join(root, sessionId);
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'ENOTEMPTY' && code !== 'EBUSY') throw err;
  }
}

/** Mount points of this mount namespace (field 5 of mountinfo, octal escapes decoded). */
function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' ')[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}
