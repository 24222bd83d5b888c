import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { SECCOMP_FD, STATUS_FD } from './bwrap-args';
import type { LauncherExit } from './exit-status';

const LAUNCHER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface LauncherInput {
  /** The launcher shell script (bwrap-args.ts launcherScript) that joins the cgroups and execs bwrap. */
  readonly script: string;
  readonly bwrap: string;
  readonly args: readonly string[];
  readonly seccomp: Buffer;
  readonly stdin?: string | Uint8Array;
  /** Start the launcher as this user (cgroup v1 as root: it joins its cgroup.procs files itself). */
  readonly asUser?: { uid: number; gid: number };
  readonly onStatus: (chunk: Buffer) => void;
  readonly onStdout: (chunk: Buffer) => void;
  readonly onStderr: (chunk: Buffer) => void;
  /** stdin failed other than by the command closing it early. */
  readonly onStdinError: (err: Error) => void;
}

export interface LauncherProcess {
  /** The launcher (and so bwrap and the whole sandbox) exited. */
  readonly exited: Promise<LauncherExit>;
  /** Every stdio stream of the launcher closed: the last output has arrived. */
  readonly drained: Promise<void>;
}

/**
 * Starts the launcher with bwrap's status fd and seccomp fd wired beside stdio, feeds the seccomp
 * program and stdin, and hands every output chunk to the caller as it arrives.
 */
export function spawnLauncher(input: LauncherInput): LauncherProcess {
  const hasStdin = input.stdin !== undefined;
  const child = spawn('/bin/sh', ['-c', input.script, 'bastion-bwrap', input.bwrap, ...input.args], {
    // fds 3 and 4: bwrap's --json-status-fd and --seccomp fd (STATUS_FD, SECCOMP_FD in bwrap-args.ts).
    stdio: [hasStdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    env: { PATH: LAUNCHER_PATH },
    ...(input.asUser ?? {}),
  });
  const exited = new Promise<LauncherExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const drained = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const seccompIn = child.stdio[SECCOMP_FD] as Writable;
  seccompIn.on('error', () => undefined); // bwrap gone before reading it: the exit status says why
  seccompIn.end(input.seccomp);

  (child.stdio[STATUS_FD] as Readable).on('data', input.onStatus);
  child.stdout!.on('data', input.onStdout);
  child.stderr!.on('data', input.onStderr);

  if (hasStdin) {
    child.stdin!.on('error', (err: NodeJS.ErrnoException) => {
      // The command may exit without reading all of stdin; that is its business.
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') input.onStdinError(err);
    });
    child.stdin!.end(typeof input.stdin === 'string' ? Buffer.from(input.stdin) : input.stdin);
  }
  return { exited, drained };
}
