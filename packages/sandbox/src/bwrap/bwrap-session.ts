import { BastionError } from '@bastion/core';
import { SECCOMP_PROFILE, type SeccompProfile } from '../seccomp-profile';
import { ensureSessionCgroup, removeSessionDirs, type CgroupLayout } from './cgroups';
import { resolveRootfs, type Rootfs } from './rootfs';
import { seccompProgram } from './seccomp-program-cache';

export interface BwrapSessionOptions {
  readonly sessionId: string;
  readonly detected: CgroupLayout | { unavailable: string };
  readonly rootfsDir?: string;
  readonly seccompProfile?: SeccompProfile;
  readonly seccompCacheDir?: string | null;
}

/**
 * What every call of one executor shares, made on the first call and kept: the image's root
 * filesystem, the compiled seccomp program and the session's cgroup directory (which close()
 * removes).
 */
export class BwrapSession {
  readonly layout: CgroupLayout | null;
  readonly #rootfs = new Map<string, Rootfs>();
  #seccomp: Buffer | undefined;
  #cgroupReady = false;

  constructor(private readonly o: BwrapSessionOptions) {
    this.layout = 'unavailable' in o.detected ? null : o.detected;
  }

  prepare(image: string): { rootfs: Rootfs; layout: CgroupLayout; seccomp: Buffer } {
    const layout = this.cgroups();
    let rootfs = this.#rootfs.get(image);
    if (!rootfs) {
      rootfs = resolveRootfs(image, this.o.rootfsDir);
      this.#rootfs.set(image, rootfs);
    }
    this.#seccomp ??= seccompProgram(
      this.o.seccompProfile ?? SECCOMP_PROFILE,
      this.o.seccompCacheDir === undefined ? {} : { cacheDir: this.o.seccompCacheDir },
    );
    return { rootfs, layout, seccomp: this.#seccomp };
  }

  /** The layout, with the session's cgroup directory made (once): what a call's group goes under. */
  cgroups(): CgroupLayout {
    const layout = this.layout;
    if (!layout) {
      throw new BastionError(
        'SANDBOX_UNAVAILABLE',
        `the bwrap backend needs cgroups for its limits: ${(this.o.detected as { unavailable: string }).unavailable}`,
        { retryable: false },
      );
    }
    if (!this.#cgroupReady) {
      try {
        ensureSessionCgroup(layout, this.o.sessionId);
      } catch (err) {
        throw new BastionError(
          'SANDBOX_UNAVAILABLE',
          `cannot create cgroups under ${layout.roots.memory}: ${(err as Error).message}`,
          { cause: err, retryable: false },
        );
      }
      this.#cgroupReady = true;
    }
    return layout;
  }

  /** Removes the session's cgroup directories, if a call made them. */
  close(): void {
    if (this.layout && this.#cgroupReady) removeSessionDirs(this.layout, this.o.sessionId);
  }
}
