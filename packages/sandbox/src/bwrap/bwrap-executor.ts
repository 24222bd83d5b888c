import { spawn, execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { BastionError, type Clock } from '@bastion/core';
import { SECCOMP_PROFILE as seccompProfile, type SeccompProfile } from '../seccomp-profile';
import type { Executor, ExecutorHooks, ExecutorOutcome, ExecutorRequest } from '../executor';
import { newSessionIdentity, type SessionIdentity } from '../labels';
import { createOutputMeter } from '../output-meter';
import { bwrapArgs, launcherScript, LAUNCH_FAILED, SANDBOX_GID, SANDBOX_UID } from './bwrap-args';
import { createTmpfsMounter, DEFAULT_TMPFS_ROOT, removeTmpfsSessionDir } from './call-tmpfs';
import {
  createCallCgroup,
  detectCgroupLayout,
  ensureSessionCgroup,
  removeSessionDirs,
  type CallCgroup,
  type CgroupLayout,
} from './cgroups';
import { resolveRootfs, type Rootfs } from './rootfs';
import { cachedSeccompProgram, seccompProgram } from './seccomp-program-cache';
import { libseccompProblem } from './libseccomp-compiler';

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
  now?: Clock;
  onCleanupError?: (error: BastionError, sandboxId: string) => void;
}

export type BwrapExecutor = Executor & {
  readonly identity: SessionIdentity;
  readonly cgroups: CgroupLayout | null;
  /** Where this executor mounts calls' /tmp; null when it cannot (not root), and /tmp is bwrap's own, executable tmpfs. */
  readonly tmpfsRoot: string | null;
};

/** How long to wait for the last output after bwrap exited. */
const DRAIN_MS = 2_000;
const LAUNCHER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Whether this host can run the bwrap backend at all, and why not. */
export function bwrapAvailability(
  bwrapPath = 'bwrap',
): { ok: true; layout: CgroupLayout } | { ok: false; reason: string } {
  try {
    execFileSync(bwrapPath, ['--version'], { stdio: 'ignore', timeout: 5_000 });
  } catch {
    return { ok: false, reason: `${bwrapPath} is not installed (apt-get install bubblewrap)` };
  }
  const layout = detectCgroupLayout();
  if ('unavailable' in layout) return { ok: false, reason: layout.unavailable };
  // libseccomp (a python process, ~30-60 ms) is only needed to compile the seccomp program: with
  // the default profile's program already compiled and cached, a CLI call does not start python.
  if (cachedSeccompProgram(seccompProfile) === undefined) {
    const libseccomp = libseccompProblem();
    if (libseccomp !== null) return { ok: false, reason: libseccomp };
  }
  return { ok: true, layout };
}

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
  const detected = options.cgroups ?? detectCgroupLayout();
  const layout: CgroupLayout | null = 'unavailable' in detected ? null : detected;
  const live = new Map<string, CallCgroup>();
  const rootfsCache = new Map<string, Rootfs>();
  const isRoot = process.getuid?.() === 0;
  const tmpfsRoot = isRoot ? (options.tmpfsRoot ?? process.env.BASTION_BWRAP_TMP_DIR ?? DEFAULT_TMPFS_ROOT) : null;
  const tmpMounts = new Set<string>();
  const mounter = createTmpfsMounter();
  let seccomp: Buffer | undefined;
  let sessionReady = false;
  const removals = new Set<Promise<void>>();
  let seq = 0;
  let closed = false;

  const cleanupError = (err: unknown, id: string) =>
    options.onCleanupError?.(BastionError.from(err, 'SANDBOX_UNAVAILABLE', `could not remove the cgroup of ${id}`), id);

  function prepare(image: string): { rootfs: Rootfs; layout: CgroupLayout } {
    if (!layout) {
      throw new BastionError(
        'SANDBOX_UNAVAILABLE',
        `the bwrap backend needs cgroups for its limits: ${(detected as { unavailable: string }).unavailable}`,
        { retryable: false },
      );
    }
    let rootfs = rootfsCache.get(image);
    if (!rootfs) {
      rootfs = resolveRootfs(image, options.rootfsDir);
      rootfsCache.set(image, rootfs);
    }
    seccomp ??= seccompProgram(
      options.seccompProfile ?? seccompProfile,
      options.seccompCacheDir === undefined ? {} : { cacheDir: options.seccompCacheDir },
    );
    if (!sessionReady) {
      try {
        ensureSessionCgroup(layout, identity.sessionId);
      } catch (err) {
        throw new BastionError(
          'SANDBOX_UNAVAILABLE',
          `cannot create cgroups under ${layout.roots.memory}: ${(err as Error).message}`,
          { cause: err, retryable: false },
        );
      }
      sessionReady = true;
    }
    return { rootfs, layout };
  }

  async function run(request: ExecutorRequest, hooks: ExecutorHooks): Promise<ExecutorOutcome> {
    if (closed) throw new BastionError('SANDBOX_UNAVAILABLE', 'executor is closed');
    const started = now();
    const deadline = started + request.limits.timeoutMs;
    const { rootfs, layout: cg } = prepare(request.image);
    const n = ++seq;
    const sandboxId = `bwrap-${identity.sessionId.slice(0, 8)}-${n}`;
    const callName = `${n}-${deadline + grace}`;
    // The mount helper mounts the call's /tmp while the cgroups are created: the two overlap
    // instead of adding up on the call's path.
    // /dev/shm gets its own tmpfs of the same size, like Docker's separate shm mount; its name
    // (`<n>s-<expiry>`) keeps the expiry where listCallTmpfs and the reaper read it.
    // A mounted directory the sandbox user cannot walk to (a per-call directory in the 0700 runtime
    // directory, /run/bastion) is bound by root beside the call's tmpfs first (`<n>m<i>-<expiry>`),
    // and bwrap, running as that user, binds it from there: it reaches that one directory only.
    let tmpDir: string | undefined;
    let shmDir: string | undefined;
    let mounting: Promise<unknown> | undefined;
    let mounts = request.mounts;
    const callDirs: string[] = [];
    if (tmpfsRoot !== null) {
      const at = (name: string) => join(tmpfsRoot, identity.sessionId, `${name}-${deadline + grace}`);
      tmpDir = at(`${n}`);
      shmDir = at(`${n}s`);
      const staged = request.mounts.map((m, i) =>
        isDirectory(m.hostPath) && !reachableBy(m.hostPath, SANDBOX_UID, SANDBOX_GID) ? at(`${n}m${i}`) : undefined,
      );
      mounts = request.mounts.map((m, i) => (staged[i] !== undefined ? { ...m, hostPath: staged[i] } : m));
      callDirs.push(tmpDir, shmDir, ...staged.filter((d): d is string => d !== undefined));
      for (const d of callDirs) tmpMounts.add(d);
      mounting = Promise.all([
        mounter.mount(tmpDir, request.limits.tmpfsBytes),
        mounter.mount(shmDir, request.limits.tmpfsBytes),
        ...request.mounts.map((m, i) => (staged[i] !== undefined ? mounter.bind(m.hostPath, staged[i]) : undefined)),
      ]).then(
        () => undefined,
        (err: unknown) => err ?? new Error('mount failed'),
      );
    }
    const releaseCallDirs = () => Promise.all(callDirs.map((d) => releaseTmp(d))).then(() => undefined);
    const args = bwrapArgs({
      request: { ...request, mounts },
      rootfs,
      hostname: sandboxId,
      ...(tmpDir !== undefined && shmDir !== undefined ? { tmpDir, shmDir } : {}),
    });

    // As root on v1 the launcher starts as the sandbox user and joins cgroup.procs files handed to
    // it (one exec fewer than setpriv); on v2 joining needs the common ancestor, so root joins and
    // then drops with setpriv. A non-root runtime runs the sandbox as itself.
    const sandboxUser = { uid: SANDBOX_UID, gid: SANDBOX_GID };
    const joinAsSandboxUser = isRoot && cg.version === 1;
    let group: CallCgroup;
    try {
      group = createCallCgroup(
        cg,
        identity.sessionId,
        callName,
        request.limits,
        joinAsSandboxUser ? sandboxUser : undefined,
      );
    } catch (err) {
      if (mounting !== undefined) await mounting.then(releaseCallDirs);
      throw new BastionError('SANDBOX_UNAVAILABLE', `cannot create the call's cgroup: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const mountError = await mounting;
    if (mountError !== undefined) {
      await Promise.all([group.remove().catch((err) => cleanupError(err, sandboxId)), releaseCallDirs()]);
      throw new BastionError(
        'SANDBOX_UNAVAILABLE',
        `cannot mount the call's /tmp, /dev/shm and mounts under ${tmpfsRoot}: ${(mountError as Error).message.split('\n')[0]}`,
        {
          cause: mountError,
          retryable: false,
        },
      );
    }
    live.set(sandboxId, group);

    let timedOut = false;
    let aborted = false;
    let killing: Promise<void> | undefined;
    const kill = () => {
      killing ??= group.killAll().catch((err) => cleanupError(err, sandboxId));
      return killing;
    };
    const meter = createOutputMeter(request.limits.outputBytes, () => void kill());
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      aborted = true;
      void kill();
    };

    try {
      const hasStdin = request.stdin !== undefined;
      const script = launcherScript({
        procsFiles: group.procsFiles,
        nofile: request.limits.nofile,
        ...(isRoot && !joinAsSandboxUser ? { dropTo: sandboxUser } : {}),
      });
      const child = spawn('/bin/sh', ['-c', script, 'bastion-bwrap', bwrap, ...args], {
        stdio: [hasStdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
        env: { PATH: LAUNCHER_PATH },
        ...(joinAsSandboxUser ? sandboxUser : {}),
      });
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code, signal) => resolve({ code, signal }));
      });
      const closedAll = new Promise<void>((resolve) => child.once('close', () => resolve()));

      const seccompIn = child.stdio[4] as Writable;
      seccompIn.on('error', () => undefined); // bwrap gone before reading it: the exit status says why
      seccompIn.end(seccomp);

      // Until bwrap reports the sandbox's pid, stderr may be bwrap's own complaint, not the command's.
      let startupMs: number | null = null;
      const early: Buffer[] = [];
      const status = child.stdio[3] as Readable;
      let statusText = '';
      status.on('data', (c: Buffer) => {
        statusText += c.toString('utf8');
        if (startupMs === null && /"child-pid"/.test(statusText)) {
          startupMs = now() - started;
          hooks.onStarted?.({ sandboxId, startupMs });
          for (const b of early.splice(0)) meter.push('stderr', b, hooks.onStderr);
        }
      });
      child.stdout!.on('data', (c: Buffer) => meter.push('stdout', c, hooks.onStdout));
      child.stderr!.on('data', (c: Buffer) => {
        if (startupMs === null) early.push(c);
        else meter.push('stderr', c, hooks.onStderr);
      });

      if (hasStdin) {
        child.stdin!.on('error', (err: NodeJS.ErrnoException) => {
          // The command may exit without reading all of stdin; that is its business.
          if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') cleanupError(err, sandboxId);
        });
        child.stdin!.end(typeof request.stdin === 'string' ? Buffer.from(request.stdin) : request.stdin);
      }

      timer = setTimeout(
        () => {
          timedOut = true;
          void kill();
        },
        Math.max(0, deadline - now()),
      );
      if (hooks.signal?.aborted) onAbort();
      hooks.signal?.addEventListener('abort', onAbort, { once: true });

      const exit = await exited;
      clearTimeout(timer);
      await Promise.race([closedAll, new Promise((r) => setTimeout(r, DRAIN_MS).unref())]);
      if (killing) await killing;

      if (startupMs === null) {
        const why = Buffer.concat(early).toString('utf8').trim().split('\n')[0] ?? '';
        const detail =
          exit.code === LAUNCH_FAILED
            ? 'could not join its cgroups'
            : `bwrap failed (exit ${exit.code ?? exit.signal})`;
        if (!timedOut && !aborted) {
          throw new BastionError(
            'SANDBOX_UNAVAILABLE',
            `the sandbox did not start: ${detail}${why ? `: ${why.slice(0, 300)}` : ''}`,
            { retryable: false },
          );
        }
        startupMs = now() - started;
      }

      const oomKilled = group.oomKills() > 0;
      const exitCode = exit.code ?? 128 + (exit.signal ? (osConstants.signals[exit.signal] ?? 0) : 0);
      return {
        exitCode,
        signal: exitCode > 128 && exitCode < 160 ? signalName(exitCode - 128) : null,
        oomKilled,
        timedOut,
        outputLimited: meter.limited,
        aborted,
        durationMs: now() - started,
        startupMs,
        sandboxId,
      };
    } catch (err) {
      if (BastionError.isInstance(err)) throw err;
      throw new BastionError('SANDBOX_UNAVAILABLE', `could not run bwrap: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
      hooks.signal?.removeEventListener('abort', onAbort);
      // Every process of the call is dead by now (bwrap exited, its pid namespace with it), so
      // removing the empty directories is off the call's path; close() waits for it.
      const removal = Promise.all([
        group.remove().then(
          () => void live.delete(sandboxId),
          (err) => cleanupError(err, sandboxId),
        ),
        releaseCallDirs(),
      ]).then(() => undefined);
      removals.add(removal);
      void removal.finally(() => removals.delete(removal));
    }
  }

  async function releaseTmp(dir: string): Promise<void> {
    try {
      await mounter.unmount(dir);
      tmpMounts.delete(dir);
    } catch (err) {
      options.onCleanupError?.(
        BastionError.from(err, 'SANDBOX_UNAVAILABLE', `could not unmount the call's tmpfs at ${dir}`),
        dir,
      );
    }
  }

  return {
    backend: 'bwrap',
    identity,
    cgroups: layout,
    tmpfsRoot,
    run,
    async close() {
      closed = true;
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
      await Promise.all([...tmpMounts].map((dir) => releaseTmp(dir)));
      mounter.close();
      if (tmpfsRoot !== null) {
        try {
          removeTmpfsSessionDir(tmpfsRoot, identity.sessionId);
        } catch (err) {
          options.onCleanupError?.(
            BastionError.from(err, 'SANDBOX_UNAVAILABLE', `could not remove ${join(tmpfsRoot, identity.sessionId)}`),
            identity.sessionId,
          );
        }
      }
      if (layout && sessionReady) {
        try {
          removeSessionDirs(layout, identity.sessionId);
        } catch (err) {
          cleanupError(err, identity.sessionId);
        }
      }
    },
  };
}

/** Whether uid/gid can search every directory above `path` (the root's own view; no ACLs in play). */
function reachableBy(path: string, uid: number, gid: number): boolean {
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

function signalName(n: number): string {
  const entry = Object.entries(osConstants.signals).find(([, v]) => v === n);
  return entry ? entry[0] : `SIG${n}`;
}
