import { statSync } from 'node:fs';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import type { ExecutorRequest } from '../executor';
import { SANDBOX_GID, SANDBOX_UID } from '../sandbox-user';
import { createTmpfsMounter, removeTmpfsSessionDir, type TmpfsMounter } from './call-tmpfs';

type Mount = ExecutorRequest['mounts'][number];

/** One call's mounts once staged: where its /tmp and /dev/shm are, and the mounts bwrap binds. */
export interface StagedMounts {
  readonly tmpDir?: string;
  readonly shmDir?: string;
  readonly mounts: readonly Mount[];
  /** Resolves when every mount is in place: with the error when one failed, else undefined. */
  readonly ready: Promise<unknown>;
  /** Unmounts what this call mounted; failures go to onCleanupError. */
  release(): Promise<void>;
}

/**
 * The per-call mounts a root runtime makes beside bwrap: a size-capped noexec /tmp, a /dev/shm of
 * the same size (like Docker's separate shm mount), and a staging bind for each mounted directory
 * the sandbox user cannot walk to. Names carry the call's expiry (`<n>-<expiry>`, `<n>s-…`,
 * `<n>m<i>-…`) where listCallTmpfs and the reaper read it. A runtime that cannot mount (root
 * null) stages nothing, and /tmp is bwrap's own tmpfs.
 */
export class CallMounts {
  readonly #active = new Set<string>();

  constructor(
    readonly root: string | null,
    private readonly sessionId: string,
    private readonly onCleanupError: (error: BastionError, id: string) => void,
    private readonly mounter: TmpfsMounter = createTmpfsMounter(),
  ) {}

  /** Starts the mount helper ahead of the first call (nothing to do when this runtime cannot mount). */
  warm(): void {
    if (this.root !== null) this.mounter.warm();
  }

  /** Starts the call's mounts without waiting: the caller overlaps them with creating the cgroups. */
  stage(n: number, expiry: number, request: ExecutorRequest): StagedMounts {
    const root = this.root;
    if (root === null) return { mounts: request.mounts, ready: Promise.resolve(undefined), release: async () => {} };
    const at = (name: string) => join(root, this.sessionId, `${name}-${expiry}`);
    const tmpDir = at(`${n}`);
    const shmDir = at(`${n}s`);
    const staged = request.mounts.map((m, i) =>
      isDirectory(m.hostPath) && !reachableBy(m.hostPath, SANDBOX_UID, SANDBOX_GID) ? at(`${n}m${i}`) : undefined,
    );
    const mounts = request.mounts.map((m, i) => (staged[i] !== undefined ? { ...m, hostPath: staged[i] } : m));
    const dirs = [tmpDir, shmDir, ...staged.filter((d): d is string => d !== undefined)];
    for (const d of dirs) this.#active.add(d);
    const ready = Promise.all([
      this.mounter.mount(tmpDir, request.limits.tmpfsBytes),
      this.mounter.mount(shmDir, request.limits.tmpfsBytes),
      ...request.mounts.map((m, i) => (staged[i] !== undefined ? this.mounter.bind(m.hostPath, staged[i]) : undefined)),
    ]).then(
      () => undefined,
      (err: unknown) => err ?? new Error('mount failed'),
    );
    return {
      tmpDir,
      shmDir,
      mounts,
      ready,
      release: () => Promise.all(dirs.map((d) => this.#release(d))).then(() => undefined),
    };
  }

  async #release(dir: string): Promise<void> {
    try {
      await this.mounter.unmount(dir);
      this.#active.delete(dir);
    } catch (err) {
      this.onCleanupError(
        BastionError.from(err, 'SANDBOX_UNAVAILABLE', `could not unmount the call's tmpfs at ${dir}`),
        dir,
      );
    }
  }

  /** Unmounts whatever calls left mounted, ends the mount helper and removes the session's directory. */
  async close(): Promise<void> {
    await Promise.all([...this.#active].map((dir) => this.#release(dir)));
    this.mounter.close();
    if (this.root === null) return;
    try {
      removeTmpfsSessionDir(this.root, this.sessionId);
    } catch (err) {
      this.onCleanupError(
        BastionError.from(err, 'SANDBOX_UNAVAILABLE', `could not remove ${join(this.root, this.sessionId)}`),
        this.sessionId,
      );
    }
  }
}

/** Whether uid/gid can search every directory above `path` (the root's own view; no ACLs in play). */
export function reachableBy(path: string, uid: number, gid: number): boolean {
  const parts = path.split('/').filter(Boolean);
  for (let i = 0; i < parts.length; i++) {
    const dir = '/' + parts.slice(0, i).join('/');
    const st = statSync(dir);
    const bit = st.uid === uid ? 0o100 : st.gid === gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return false;
  }
  return true;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch (err) {
    // Missing or unreadable: bwrap, given the path, reports it as the reason the sandbox did not start.
    if ((err as NodeJS.ErrnoException).code === undefined) throw err;
    return false;
  }
}
