import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { rmdir } from 'node:fs/promises';
import { readFileSync, readdirSync, rmdirSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeDirs } from './make-dirs';
import { TMPFS_MOUNTER_SCRIPT } from './tmpfs-mounter-script.generated';

const run = promisify(execFile);

/**
 * Where a root runtime mounts each bwrap call's /tmp (`<root>/<session>/<n>-<expiresAtMs>`) and
 * /dev/shm (`<n>s-<expiresAtMs>`). Not under /run/bastion: that runtime directory is 0700, and bwrap
 * runs as the sandbox user, which must reach the mounts to bind them.
 */
export const DEFAULT_TMPFS_ROOT = '/run/bastion-bwrap-tmp';
/** The source name of those mounts in /proc/self/mountinfo. */
export const TMPFS_SOURCE = 'bastion-tmp';
const SBIN_PATH = '/usr/local/sbin:/usr/sbin:/sbin:/usr/local/bin:/usr/bin:/bin';

/**
 * A call's /tmp as a tmpfs mounted on the host with the Docker backend's options: size-capped,
 * `noexec,nosuid,nodev`, mode 1777. bwrap has no option to make its own tmpfs noexec; a bind
 * mount keeps the source's flags, and inside bwrap's user namespace they are locked, so the
 * sandbox can neither run a binary it dropped in /tmp nor remount it. Needs CAP_SYS_ADMIN. This is
 * the command form (reapExpired, and the mounter's fallback); calls go through createTmpfsMounter.
 */
export async function mountCallTmpfs(dir: string, sizeBytes: number): Promise<void> {
  // Parents 0711 whatever the umask: bwrap runs as the sandbox user on the host and must reach
  // the dir to bind it.
  makeDirs(dir, 0o711);
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=1777,noexec,nosuid,nodev`, TMPFS_SOURCE, dir], {
    env: { PATH: SBIN_PATH },
  });
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

const SAFE_DIR = /^\/[A-Za-z0-9_./-]+$/;

export interface TmpfsMounter {
  mount(dir: string, sizeBytes: number): Promise<void>;
  /** Binds the directory `source` at `dir` (made 0711 like the tmpfs mount points); unmount() undoes it. */
  bind(source: string, dir: string): Promise<void>;
  unmount(dir: string): Promise<void>;
  /** Starts the helper now rather than on the first request (perl's start, ~10 ms, off the call's path). */
  warm(): void;
  /** Ends the helper; requests after this use the mount/umount commands. */
  close(): void;
}

/**
 * Mounts and unmounts calls' /tmp through one long-lived helper process, started on first use;
 * where it cannot run (no perl), the `mount`/`umount` commands. Same results either way.
 */
export function createTmpfsMounter(): TmpfsMounter {
  let helper: ChildProcess | undefined;
  let broken = false;
  let seq = 0;
  let buffered = '';
  const waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();

  const hold = (child: ChildProcess) => {
    const out = child.stdout as unknown as Socket;
    if (waiting.size > 0) out.ref();
    else out.unref();
  };
  /** `unavailable`: the helper never ran, so nothing was done and the command fallback is safe. */
  const failAll = (why: string, unavailable: boolean) => {
    for (const w of waiting.values()) w.reject(Object.assign(new Error(why), { unavailable }));
    waiting.clear();
  };

  const start = (): ChildProcess | undefined => {
    if (helper || broken) return helper;
    const child = spawn('perl', ['-e', TMPFS_MOUNTER_SCRIPT, TMPFS_SOURCE], {
      stdio: ['pipe', 'pipe', 'ignore'],
      env: { PATH: SBIN_PATH },
    });
    child.on('error', () => {
      broken = true;
      helper = undefined;
      failAll('the mount helper could not start', true);
    });
    child.on('exit', () => {
      if (helper === child) helper = undefined;
      failAll('the mount helper exited', false);
    });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const m = /^(\d+) (ok|err (.*))$/.exec(line);
        const w = m ? waiting.get(Number(m[1])) : undefined;
        if (!m || !w) continue;
        waiting.delete(Number(m[1]));
        hold(child);
        if (m[2] === 'ok') w.resolve();
        else w.reject(new Error(m[3]));
      }
    });
    child.stdin!.on('error', () => undefined);
    // An idle helper never keeps the runtime alive (it exits when its stdin closes); a request in
    // flight does, through its stdout (see hold).
    child.unref();
    (child.stdin as unknown as Socket).unref();
    (child.stdout as unknown as Socket).unref();
    helper = child;
    return child;
  };

  const request = (line: string): Promise<void> | undefined => {
    const child = start();
    if (!child) return undefined;
    const id = ++seq;
    return new Promise<void>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      hold(child);
      child.stdin!.write(`${id} ${line}\n`);
    });
  };

  const viaHelperOr = async (viaHelper: Promise<void> | undefined, fallback: () => Promise<void>): Promise<void> => {
    if (viaHelper === undefined) return fallback();
    try {
      await viaHelper;
    } catch (err) {
      if ((err as { unavailable?: boolean }).unavailable === true) return fallback();
      throw err;
    }
  };

  return {
    async mount(dir, sizeBytes) {
      if (!SAFE_DIR.test(dir) || !Number.isSafeInteger(sizeBytes) || sizeBytes <= 0)
        throw new Error(`unsafe tmpfs mount request ${dir} ${sizeBytes}`);
      await viaHelperOr(request(`mount ${dir} ${sizeBytes}`), () => mountCallTmpfs(dir, sizeBytes));
    },
    async bind(source, dir) {
      if (!SAFE_DIR.test(dir) || !SAFE_DIR.test(source)) throw new Error(`unsafe bind request ${source} ${dir}`);
      await viaHelperOr(request(`bind ${dir} ${source}`), async () => {
        makeDirs(dir, 0o711);
        await run('mount', ['--bind', source, dir], { env: { PATH: SBIN_PATH } });
      });
    },
    async unmount(dir) {
      if (!SAFE_DIR.test(dir)) throw new Error(`unsafe tmpfs unmount request ${dir}`);
      await viaHelperOr(request(`umount ${dir}`), () => unmountCallTmpfs(dir));
    },
    warm() {
      start();
    },
    close() {
      broken = true;
      helper?.stdin?.end();
      helper = undefined;
    },
  };
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
