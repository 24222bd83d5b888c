import { BastionError, type Clock } from '@bastion/core';
import type { SeccompProfile } from '../seccomp-profile';
import type { Executor, ExecutorHooks, ExecutorOutcome, ExecutorRequest } from '../executor';
import { newSessionIdentity, type SessionIdentity } from '../labels';
import { bwrapArgs, launcherStartScript } from './bwrap-args';
import { SANDBOX_GID, SANDBOX_UID } from '../sandbox-user';
import { runBwrapCall } from './bwrap-call';
import { launcherOnStart, parkLauncher, type CallLauncher } from './bwrap-process';
import { BwrapSession } from './bwrap-session';
import { CallMounts } from './call-mounts';
import { DEFAULT_TMPFS_ROOT } from './call-tmpfs';
import { detectCgroupLayout, makeCallCgroup, setCallLimits, type CallCgroup, type CgroupLayout } from './cgroups';

export interface BwrapExecutorOptions {
  /** Directory ops/docker/rootfs.sh unpacks images into (default $BASTION_ROOTFS_DIR or /var/lib/bastion/rootfs). */
  rootfsDir?: string;
  /** The bubblewrap binary (default `bwrap` on PATH). */
  bwrapPath?: string;
  /** Docker-format seccomp profile (default ops/docker/seccomp.json, the Docker backend's), compiled with libseccomp. */
  seccompProfile?: SeccompProfile;
  /** Where libseccomp's programs are cached by profile hash (default seccomp-program-cache.ts); null: memory only. */
  seccompCacheDir?: string | null;
  identity?: SessionIdentity;
  /** Where the per-call cgroups go (default: detected from /proc/self). */
  cgroups?: CgroupLayout;
  /**
   * Where a root runtime mounts each call's noexec /tmp and /dev/shm (default $BASTION_BWRAP_TMP_DIR or
   * /run/bastion-bwrap-tmp). A runtime that cannot mount falls back to bwrap's own tmpfs.
   */
  tmpfsRoot?: string;
  /** Grace after a call's deadline before a reaper may remove its cgroup. */
  expiryGraceMs?: number;
  /**
   * A long-lived runtime (a service, the daemon): once prestart() has been called, park the next
   * call's launcher again after each call, so a call after an idle moment does not wait for its
   * cgroup join either. Default false: a one-shot caller would end the spare unused.
   */
  keepParked?: boolean;
  now?: Clock;
  onCleanupError?: (error: BastionError, sandboxId: string) => void;
}

export type BwrapExecutor = Executor & {
  readonly identity: SessionIdentity;
  /**
   * Readies the next call ahead of it: starts the mount helper and parks a launcher in a fresh
   * cgroup, so joining it (an RCU grace period on cgroup v1, 11–32 ms here) overlaps the caller's
   * own work. A one-shot caller (the CLI) calls it as soon as its runtime exists. Failures are
   * left for the call to report. Idempotent while a launcher is parked.
   */
  prestart(): void;
  readonly cgroups: CgroupLayout | null;
  /** Where this executor mounts calls' /tmp; null when it cannot (not root), and /tmp is bwrap's own, executable tmpfs. */
  readonly tmpfsRoot: string | null;
};

/**
 * How long a parked launcher's cgroup name says it may live (the expiry reapers read). A call whose
 * deadline plus grace falls later gets a fresh group instead.
 */
const PARKED_EXPIRY_MS = 60 * 60_000;

interface Parked {
  readonly n: number;
  readonly expiresAt: number;
  readonly group: CallCgroup;
  readonly launcher: CallLauncher;
}

// Kept here too: callers import it with the executor (it moved to its own file with its cache).
export { bwrapAvailability } from './bwrap-availability';

/**
 * Daemonless backend: one bubblewrap sandbox per call over the sandbox image's root filesystem,
 * read-only, with the Docker backend's seccomp profile compiled to BPF by libseccomp and memory/pids/CPU limits
 * through a per-call cgroup that also gives OOM detection (the cgroup's oom_kill counter) and a
 * whole-tree kill. The result contract is the Docker executor's.
 */
export function createBwrapExecutor(options: BwrapExecutorOptions = {}): BwrapExecutor {
  const identity = options.identity ?? newSessionIdentity();
  const now = options.now ?? Date.now;
  const grace = options.expiryGraceMs ?? 60_000;
  const bwrap = options.bwrapPath ?? 'bwrap';
  const session = new BwrapSession({
    sessionId: identity.sessionId,
    detected: options.cgroups ?? detectCgroupLayout(),
    ...(options.rootfsDir !== undefined ? { rootfsDir: options.rootfsDir } : {}),
    ...(options.seccompProfile !== undefined ? { seccompProfile: options.seccompProfile } : {}),
    ...(options.seccompCacheDir !== undefined ? { seccompCacheDir: options.seccompCacheDir } : {}),
  });
  const isRoot = process.getuid?.() === 0;
  const reportCleanup = (error: BastionError, id: string) => options.onCleanupError?.(error, id);
  const mounts = new CallMounts(
    isRoot ? (options.tmpfsRoot ?? process.env.BASTION_BWRAP_TMP_DIR ?? DEFAULT_TMPFS_ROOT) : null,
    identity.sessionId,
    reportCleanup,
  );
  /** Calls' cgroups not yet removed: close() removes what a failed removal left. */
  const live = new Map<string, CallCgroup>();
  /** Cleanups running off the calls' path: close() waits for them. */
  const removals = new Set<Promise<void>>();
  let seq = 0;
  let closed = false;

  const cleanupError = (err: unknown, id: string) =>
    reportCleanup(BastionError.from(err, 'SANDBOX_UNAVAILABLE', `could not remove the cgroup of ${id}`), id);

  // As root on v1 the launcher starts as the sandbox user and joins cgroup.procs files handed to
  // it (one exec fewer than setpriv); on v2 joining needs the common ancestor, so root joins and
  // then drops with setpriv. A non-root runtime runs the sandbox as itself.
  const sandboxUser = { uid: SANDBOX_UID, gid: SANDBOX_GID };
  const joinAsSandboxUser = (layout: CgroupLayout) => isRoot && layout.version === 1;
  /** The launcher parked for the next call by prestart(), if any. */
  let spare: Parked | undefined;
  /** prestart() was called and keepParked is set: each call parks the next one's launcher when it ends. */
  let repark = false;

  /**
   * A group with no limits yet and its launcher: parked (already joining it, for a call to come) or
   * started with its call (spawned with the whole script once the call is ready).
   */
  function park(layout: CgroupLayout, n: number, expiresAt: number, ahead: boolean): Parked {
    const asUser = joinAsSandboxUser(layout) ? sandboxUser : undefined;
    const group = makeCallCgroup(layout, identity.sessionId, `${n}-${expiresAt}`, asUser);
    const input = { procsFiles: group.procsFiles, ...(asUser ? { asUser } : {}) };
    try {
      return { n, expiresAt, group, launcher: ahead ? parkLauncher(input) : launcherOnStart(input) };
    } catch (err) {
      void group.remove().catch(() => undefined);
      throw err;
    }
  }

  const sandboxIdOf = (n: number) => `bwrap-${identity.sessionId.slice(0, 8)}-${n}`;

  /** Ends a launcher that will not start and removes its group; a failure goes to onCleanupError. */
  const endUnstarted = (p: Parked): Promise<void> =>
    p.launcher
      .discard()
      .then(() => p.group.remove())
      .catch((err) => cleanupError(err, sandboxIdOf(p.n)));

  /** endUnstarted, off the caller's path; close() waits for it. */
  function drop(p: Parked): void {
    const removal = endUnstarted(p);
    removals.add(removal);
    void removal.finally(() => removals.delete(removal));
  }

  /** The parked launcher when it is alive and its group's expiry covers the call; else one started with the call. */
  function launcherFor(layout: CgroupLayout, expiresAt: number): Parked {
    const parked = spare;
    spare = undefined;
    if (parked && parked.launcher.alive && parked.expiresAt >= expiresAt) return parked;
    if (parked) drop(parked);
    return park(layout, ++seq, expiresAt, false);
  }

  function prestart(): void {
    repark = options.keepParked === true;
    if (closed || spare) return;
    try {
      const layout = session.cgroups();
      mounts.warm();
      spare = park(layout, ++seq, now() + PARKED_EXPIRY_MS, true);
    } catch {
      // The call meets the same failure on its own path and reports it there.
    }
  }

  async function run(request: ExecutorRequest, hooks: ExecutorHooks): Promise<ExecutorOutcome> {
    if (closed) throw new BastionError('SANDBOX_UNAVAILABLE', 'executor is closed');
    const started = now();
    const deadline = started + request.limits.timeoutMs;
    const { rootfs, layout, seccomp } = session.prepare(request.image);
    let parked: Parked;
    try {
      parked = launcherFor(layout, deadline + grace);
    } catch (err) {
      throw new BastionError('SANDBOX_UNAVAILABLE', `cannot create the call's cgroup: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const { n, group, launcher } = parked;
    const sandboxId = sandboxIdOf(n);
    // The mount helper mounts the call's /tmp while the limits are written: the two overlap
    // instead of adding up on the call's path.
    const staged = mounts.stage(n, deadline + grace, request);
    /** The call fails before bwrap: end the launcher unstarted, remove its group, unmount. */
    const discard = () => Promise.all([endUnstarted(parked), staged.release()]);
    let script: string;
    try {
      setCallLimits(layout, group, request.limits);
      const args = bwrapArgs({
        request: { ...request, mounts: staged.mounts },
        rootfs,
        hostname: sandboxId,
        ...(staged.tmpDir !== undefined && staged.shmDir !== undefined
          ? { tmpDir: staged.tmpDir, shmDir: staged.shmDir }
          : {}),
      });
      script = launcherStartScript({
        bwrap,
        args,
        nofile: request.limits.nofile,
        stdin: request.stdin !== undefined,
        ...(isRoot && !joinAsSandboxUser(layout) ? { dropTo: sandboxUser } : {}),
      });
    } catch (err) {
      await staged.ready;
      await discard();
      if (BastionError.isInstance(err)) throw err;
      throw new BastionError('SANDBOX_UNAVAILABLE', `cannot create the call's cgroup: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const mountError = await staged.ready;
    if (mountError !== undefined) {
      await discard();
      throw new BastionError(
        'SANDBOX_UNAVAILABLE',
        `cannot mount the call's /tmp, /dev/shm and mounts under ${mounts.root}: ${(mountError as Error).message.split('\n')[0]}`,
        { cause: mountError, retryable: false },
      );
    }
    live.set(sandboxId, group);

    try {
      return await runBwrapCall({
        sandboxId,
        request,
        hooks,
        group,
        launcher,
        script,
        seccomp,
        started,
        deadline,
        now,
        onCleanupError: (err) => cleanupError(err, sandboxId),
      });
    } finally {
      // Every process of the call is dead by now (bwrap exited, its pid namespace with it), so
      // removing the empty directories is off the call's path; close() waits for it.
      const removal = Promise.all([
        group.remove().then(
          () => void live.delete(sandboxId),
          (err) => cleanupError(err, sandboxId),
        ),
        staged.release(),
      ]).then(() => undefined);
      removals.add(removal);
      void removal.finally(() => removals.delete(removal));
      // After the result is handed back, not on its way: spawning the launcher costs a few ms.
      if (repark) setImmediate(prestart);
    }
  }

  return {
    backend: 'bwrap',
    identity,
    cgroups: session.layout,
    tmpfsRoot: mounts.root,
    prestart,
    run,
    async close() {
      closed = true;
      if (spare) drop(spare);
      spare = undefined;
      await Promise.all([...removals]);
      await Promise.all(
        [...live].map(async ([id, group]) => {
          try {
            await group.remove();
            live.delete(id);
          } catch (err) {
            cleanupError(err, id);
          }
        }),
      );
      await mounts.close();
      try {
        session.close();
      } catch (err) {
        cleanupError(err, identity.sessionId);
      }
    },
  };
}
