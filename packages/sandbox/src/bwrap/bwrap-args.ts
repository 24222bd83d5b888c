import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import type { ExecutorRequest } from '../executor';
import type { Rootfs } from './rootfs';
import { SANDBOX_GID, SANDBOX_UID } from '../sandbox-user';

/** Child fds the executor hands bwrap: its JSON status goes out on 3, the seccomp program comes in on 4. */
export const STATUS_FD = 3;
export const SECCOMP_FD = 4;

export interface BwrapArgsInput {
  readonly request: ExecutorRequest;
  readonly rootfs: Rootfs;
  readonly hostname: string;
  readonly uid?: number;
  readonly gid?: number;
  /**
   * The call's /tmp: a host tmpfs mounted noexec,nosuid,nodev with the call's size (see
   * call-tmpfs.ts), bound in. Without one (a runtime that cannot mount), bwrap's own size-capped
   * tmpfs, on which the sandbox can execute what it writes.
   */
  readonly tmpDir?: string;
  /** The call's /dev/shm: a second such tmpfs (same size, same flags); without one, bwrap's own. */
  readonly shmDir?: string;
}

/**
 * Pure: bubblewrap's argv for one request. Every hardening default of the bwrap backend is here
 * and nowhere else (docs/sandbox.md lists them against Docker's):
 * all namespaces new (user, pid, net with only lo, ipc, uts, mount, cgroup), no further user
 * namespaces, no capabilities, a new session (no TIOCSTI into the caller's terminal), death
 * with the runtime, the image's root read-only, /proc, a minimal /dev made read-only once its nodes
 * exist (as Docker's), a size-capped (noexec) /tmp and /dev/shm, the
 * requested mounts, and an environment that is the image's plus the request's and nothing else.
 */
export function bwrapArgs(input: BwrapArgsInput): string[] {
  const { request, rootfs } = input;
  const args = [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    // The command is PID 1 of its namespace, as in a Docker container. bwrap's own init would
    // outlive its monitor by a moment and be orphaned to the host's PID 1, which leaves a zombie
    // per call wherever PID 1 does not reap (a container running Bastion, some VMs).
    '--as-pid-1',
    '--cap-drop',
    'ALL',
    '--uid',
    String(input.uid ?? SANDBOX_UID),
    '--gid',
    String(input.gid ?? SANDBOX_GID),
    '--hostname',
    input.hostname,
    '--ro-bind',
    rootfs.root,
    '/',
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    ...(input.tmpDir !== undefined
      ? ['--bind', input.tmpDir, '/tmp']
      : ['--perms', '1777', '--size', String(request.limits.tmpfsBytes), '--tmpfs', '/tmp']),
    ...(input.shmDir !== undefined
      ? ['--bind', input.shmDir, '/dev/shm']
      : ['--perms', '1777', '--size', String(request.limits.tmpfsBytes), '--tmpfs', '/dev/shm']),
    // After the nodes and /dev/shm are in place: nothing more can be created in /dev (a 400 MB
    // file, a fifo); the remount is not recursive, so /dev/shm keeps its own size-capped mount.
    '--remount-ro',
    '/dev',
  ];
  for (const m of request.mounts) {
    if (!m.containerPath.startsWith('/') || m.containerPath.split('/').includes('..')) {
      throw new BastionError('INVALID_INPUT', `mount target ${m.containerPath} must be an absolute path without '..'`);
    }
    // The root is read-only, so bwrap cannot create a missing mount point (Docker would).
    if (!m.containerPath.startsWith('/tmp/') && !existsSync(join(rootfs.root, m.containerPath))) {
      throw new BastionError(
        'SANDBOX_UNAVAILABLE',
        `mount point ${m.containerPath} does not exist in the image's root filesystem; the image must create it (mkdir in its recipe under ops/docker), then run bash ops/docker/build.sh all and bash ops/docker/rootfs.sh IMAGE`,
        { retryable: false },
      );
    }
    args.push(m.readOnly ? '--ro-bind' : '--bind', m.hostPath, m.containerPath);
  }
  args.push('--chdir', request.workdir ?? rootfs.workdir, '--clearenv');
  for (const [k, v] of Object.entries({ ...rootfs.env, ...request.env })) args.push('--setenv', k, v);
  args.push('--seccomp', String(SECCOMP_FD), '--json-status-fd', String(STATUS_FD), '--', ...request.command);
  return args;
}

/** Child fd the parked launcher reads its start script from (after STATUS_FD and SECCOMP_FD). */
export const SCRIPT_FD = 5;

/** Exit status of the launcher when it could not join a cgroup or set a limit, or was discarded: nothing ran. */
export const LAUNCH_FAILED = 125;

const SAFE_PATH = /^[A-Za-z0-9_./:@-]+$/;

/**
 * The `sh -c` script a launcher is parked with: it moves itself into the call's cgroups, then
 * waits for the rest of its script on SCRIPT_FD (launcherStartScript, written when the call is
 * known) and runs it. Joining is the slow part of a start: on cgroup v1 the first cgroup.procs
 * write after an idle moment waits for an RCU grace period (11–32 ms measured here), so the
 * executor parks a launcher ahead of the call and that wait overlaps the runtime's own work. An
 * empty script (the launcher discarded, or the runtime gone) exits LAUNCH_FAILED with nothing run.
 * A shell is the only way to join the cgroups before bwrap forks without a native helper.
 */
export function parkedLauncherScript(procsFiles: readonly string[]): string {
  return [
    ...joinLines(procsFiles),
    `s=$(cat <&${SCRIPT_FD}) || exit ${LAUNCH_FAILED}`,
    // The sandbox inherits bwrap's fds: this one must not reach it.
    `exec ${SCRIPT_FD}<&-`,
    'eval "$s"',
    `exit ${LAUNCH_FAILED}`,
  ].join('\n');
}

/**
 * The script of a launcher started with its call already known (nothing was parked for it): the
 * same joins, then the start script itself. No fd to wait on and no `cat`: ~1 ms less per call
 * for calls that follow each other in a long-lived runtime.
 */
export function directLauncherScript(procsFiles: readonly string[], startScript: string): string {
  return [...joinLines(procsFiles), startScript, `exit ${LAUNCH_FAILED}`].join('\n');
}

function joinLines(procsFiles: readonly string[]): string[] {
  return procsFiles.map((f) => {
    if (!SAFE_PATH.test(f)) throw new Error(`unexpected cgroup path ${f}`);
    return `echo $$ > ${f} || exit ${LAUNCH_FAILED}`;
  });
}

export interface LauncherStartInput {
  readonly bwrap: string;
  readonly args: readonly string[];
  readonly nofile: number;
  /** The call has stdin: keep the launcher's stdin pipe (otherwise bwrap gets /dev/null, as before). */
  readonly stdin: boolean;
  /** When the runtime is root on cgroup v2: the host uid/gid bwrap itself runs as (the sandbox user, as with Docker). */
  readonly dropTo?: { readonly uid: number; readonly gid: number };
}

/**
 * The rest of a parked launcher's script, for one call: cap open files, drop to the sandbox user
 * when the runtime is root on cgroup v2, and exec bwrap with the call's argv, every word
 * single-quoted. It is one brace group, so the shell parses all of it before running any: a
 * script cut short (the runtime killed while writing it) is a syntax error and runs nothing.
 */
export function launcherStartScript(input: LauncherStartInput): string {
  const words = [input.bwrap, ...input.args];
  if (words.some((w) => w.includes('\0'))) {
    throw new BastionError(
      'INVALID_INPUT',
      'a command argument, environment value or mount path contains a NUL byte, which no process argument can carry; remove it',
    );
  }
  const int = (n: number, what: string) => {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`unexpected ${what} ${n}`);
    return n;
  };
  const drop = input.dropTo
    ? `setpriv --reuid=${int(input.dropTo.uid, 'uid')} --regid=${int(input.dropTo.gid, 'gid')} --clear-groups -- `
    : '';
  return [
    '{',
    `ulimit -n ${int(Math.trunc(input.nofile), 'nofile')} || exit ${LAUNCH_FAILED}`,
    ...(input.stdin ? [] : ['exec </dev/null']),
    `exec ${drop}${words.map(shellQuote).join(' ')}`,
    '}',
  ].join('\n');
}

/** One shell word that is exactly `s`: single quotes, each embedded quote closed, escaped and reopened. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}
