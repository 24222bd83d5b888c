import { readFileSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import { SANDBOX_GID, SANDBOX_UID } from '../sandbox-user';
import { defaultRuntimeRoot } from './runtime-root';

export { defaultRuntimeRoot };

/**
 * The runtime's private directory for host sockets and per-call state (issue 22): the egress
 * gateway's socket, the warm pool's control sockets, relay sockets. Before it, they sat in /tmp
 * as 0666 sockets in 0755 directories, so any local user could borrow the API key or steal a
 * pooled sandbox's task.
 *
 * Layout: `<root>/<kind>-<pid>-<start>-<random>/` per call. The root is 0700 and owned by the
 * runtime user, so no other host user can reach anything below it. A per-call directory is
 * bind-mounted into exactly one sandbox; the sandbox sees that directory as its mount root (the
 * host path above it is never traversed from inside), so it needs rights on that directory only.
 * The pid and the process's start time in the name let the next start sweep what a killed
 * process left behind (see sweepStaleCallDirs) without touching a live process's directories.
 */

/** The uid/gid a sandboxed process runs as on the host (Docker's `User`, bwrap's setpriv drop). */
export const DEFAULT_SANDBOX_OWNER = { uid: SANDBOX_UID, gid: SANDBOX_GID } as const;

export interface RuntimeDirOptions {
  /** Explicit root; else `$XDG_RUNTIME_DIR/bastion`, `/run/bastion` for root, `<tmpdir>/bastion-<uid>` otherwise. */
  root?: string;
  /** XDG_RUNTIME_DIR as read at the edge; undefined when unset. */
  xdgRuntimeDir?: string | undefined;
  /** The sandbox's host uid/gid, given the per-call directories when the runtime may chown (root). */
  sandboxOwner?: { uid: number; gid: number };
}

export interface CallDir extends AsyncDisposable {
  readonly path: string;
  /** Makes a socket inside this directory connectable by the sandbox user and no one else it can help. */
  secureSocket(socketPath: string): Promise<void>;
  /** Removes the directory and everything in it. Idempotent. */
  close(): Promise<void>;
}

export interface RuntimeDir {
  readonly root: string;
  /** A fresh per-call directory for one sandbox; `kind` names its use (`gw`, `ctl`, `relay`). */
  createCallDir(kind: string): Promise<CallDir>;
}

const CALL_DIR = /^([a-z]+)-(\d+)-(\d+)-[A-Za-z0-9]+$/;

/** Refuses a runtime root that another user could read, replace or redirect. */
export async function verifyRuntimeRoot(root: string, uid: number = currentUid()): Promise<void> {
  const st = await lstat(root);
  const fix = (what: string) =>
    new BastionError(
      'SANDBOX_UNAVAILABLE',
      `the runtime directory ${root} ${what}; remove it (Bastion recreates it 0700) or point XDG_RUNTIME_DIR at a private directory`,
      {
        retryable: false,
        details: { runtimeDir: root },
      },
    );
  if (st.isSymbolicLink()) throw fix('is a symbolic link');
  if (!st.isDirectory()) throw fix('is not a directory');
  if (st.uid !== uid) throw fix(`is owned by uid ${st.uid}, not by the runtime user (uid ${uid})`);
  if ((st.mode & 0o077) !== 0)
    throw fix(
      `is accessible to group or others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}); it must be 0700`,
    );
}

/** Creates (0700) or verifies the runtime root and returns a handle for per-call directories. */
export async function openRuntimeDir(options: RuntimeDirOptions = {}): Promise<RuntimeDir> {
  const uid = currentUid();
  const root = options.root ?? defaultRuntimeRoot(uid, options.xdgRuntimeDir);
  const owner = options.sandboxOwner ?? DEFAULT_SANDBOX_OWNER;
  try {
    await mkdir(root, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new BastionError(
        'SANDBOX_UNAVAILABLE',
        `could not create the runtime directory ${root}; create it 0700 for the runtime user or set XDG_RUNTIME_DIR`,
        {
          retryable: false,
          cause: err,
        },
      );
    }
  }
  await verifyRuntimeRoot(root, uid);
  const stamp = callDirStamp();

  return {
    root,
    async createCallDir(kind) {
      if (!/^[a-z]+$/.test(kind))
        throw new BastionError(
          'INVALID_INPUT',
          `call directory kind must be lower-case letters, got ${JSON.stringify(kind)}`,
        );
      const path = await mkdtemp(join(root, `${kind}-${stamp}-`));
      let closing: Promise<void> | undefined;
      const close = () => (closing ??= rm(path, { recursive: true, force: true }));
      try {
        if (uid === 0) {
          // Only the sandbox user (and root) may enter: mode 0700 owned by that user. The bind
          // mount is read-only, so the sandbox cannot chmod or add files through it.
          await chown(path, owner.uid, owner.gid);
        } else {
          // An unprivileged runtime cannot give the directory away. The 0700 root still keeps
          // every other host user out; the sandbox only needs to traverse its own mount.
          await chmod(path, 0o711);
        }
      } catch (err) {
        await close();
        throw new BastionError('SANDBOX_UNAVAILABLE', `could not prepare the per-call directory ${path}`, {
          cause: err,
        });
      }
      return {
        path,
        async secureSocket(socketPath) {
          if (uid === 0) {
            await chown(socketPath, owner.uid, owner.gid);
            await chmod(socketPath, 0o600);
          } else {
            await chmod(socketPath, 0o666);
          }
        },
        close,
        [Symbol.asyncDispose]: close,
      };
    },
  };
}

let shared: Promise<RuntimeDir> | undefined;

/**
 * The process's runtime directory with the defaults, opened once. Components that are not handed
 * one explicitly (the gateway, the warm pool) share it. A failed open is not cached.
 */
export function sharedRuntimeDir(): Promise<RuntimeDir> {
  shared ??= openRuntimeDir({ xdgRuntimeDir: process.env.XDG_RUNTIME_DIR }).catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

/**
 * Removes per-call directories whose creating process is gone (killed before its close() ran).
 * A directory is kept while a process with that pid AND that start time lives, so a reused pid
 * does not protect a dead process's sockets. Returns the removed paths.
 */
export async function sweepStaleCallDirs(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new BastionError('SANDBOX_UNAVAILABLE', `could not list the runtime directory ${root}`, { cause: err });
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = CALL_DIR.exec(name);
    if (!m) continue;
    const pid = Number(m[2]);
    const start = Number(m[3]);
    const liveStart = processStartTime(pid);
    if (liveStart !== null && (start === 0 || liveStart === start)) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed.push(join(root, name));
  }
  return removed;
}

/** `<pid>-<start time>`: what names this process's call directories, so a sweep can tell whose they are. */
export function callDirStamp(pid: number = process.pid): string {
  return `${pid}-${processStartTime(pid) ?? 0}`;
}

/** The process's start time in clock ticks since boot (/proc/PID/stat field 22); null when it is not running. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH')
      return null;
    throw err;
  }
}

function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : -1;
}
