import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { directLauncherScript, parkedLauncherScript, SCRIPT_FD, SECCOMP_FD, STATUS_FD } from './bwrap-args';
import type { LauncherExit } from './exit-status';

const LAUNCHER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ParkInput {
  /** The call group's `cgroup.procs` files, joined before anything else runs. */
  readonly procsFiles: readonly string[];
  /** Start the launcher as this user (cgroup v1 as root: it joins its cgroup.procs files itself). */
  readonly asUser?: { uid: number; gid: number };
}

export interface StartInput {
  /** The rest of the launcher's script (bwrap-args.ts launcherStartScript): limits, then exec bwrap. */
  readonly script: string;
  readonly seccomp: Buffer;
  readonly stdin?: string | Uint8Array;
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

/** A call's launcher: parked in its cgroups ahead of the call (parkLauncher), or spawned when the call starts (launcherOnStart). */
export interface CallLauncher {
  /** False once it exited (it could not join its cgroups) or never started: start() would only report that. */
  readonly alive: boolean;
  /** Hands it the call: the seccomp program, stdin and the start script; output flows from here on. Once. */
  start(input: StartInput): LauncherProcess;
  /** Ends it unstarted: its script comes up empty and it exits with nothing run. Resolves when it exited. */
  discard(): Promise<void>;
}

/**
 * Spawns a launcher that joins its cgroups at once and then waits on SCRIPT_FD, with bwrap's
 * status and seccomp fds wired beside stdio. While parked it keeps nothing alive: a runtime that
 * exits without using it closes the fd, and the launcher exits with nothing run.
 */
export function parkLauncher(input: ParkInput): CallLauncher {
  const launcher = spawnShell(parkedLauncherScript(input.procsFiles), input.asUser, true);
  launcher.hold(false);
  let used = false;
  return {
    get alive() {
      return !used && launcher.running();
    },
    start(call) {
      if (used) throw new Error('a parked launcher starts once');
      used = true;
      launcher.hold(true);
      const started = launcher.wire(call);
      (launcher.fds[SCRIPT_FD] as Writable).end(call.script);
      return started;
    },
    async discard() {
      if (used) return;
      used = true;
      launcher.hold(true);
      (launcher.fds[SCRIPT_FD] as Writable).end();
      await launcher.exited.catch(() => undefined);
      for (const s of launcher.streams) s.destroy();
    },
  };
}

/**
 * A launcher for a call nothing was parked for: no process until start(), which spawns it with
 * the joins and the start script on its command line (directLauncherScript) and wires it.
 */
export function launcherOnStart(input: ParkInput): CallLauncher {
  let used = false;
  return {
    get alive() {
      return !used;
    },
    start(call) {
      if (used) throw new Error('a launcher starts once');
      used = true;
      return spawnShell(directLauncherScript(input.procsFiles, call.script), input.asUser, false).wire(call);
    },
    async discard() {
      used = true;
    },
  };
}

/** `/bin/sh -c script` with stdio, bwrap's status and seccomp fds and (parked) the script fd as pipes. */
function spawnShell(script: string, asUser: ParkInput['asUser'], scriptFd: boolean) {
  const child = spawn('/bin/sh', ['-c', script, 'bastion-bwrap'], {
    // fds 3, 4 and 5: bwrap's --json-status-fd and --seccomp fd, and a parked launcher's script
    // (which it closes once read; a direct launcher has no fd 5 to leak into the sandbox).
    stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', ...(scriptFd ? (['pipe'] as const) : [])],
    env: { PATH: LAUNCHER_PATH },
    ...(asUser ?? {}),
  });
  const exited = new Promise<LauncherExit>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  exited.catch(() => undefined); // a parked launcher nobody starts: discard() or start() reports it
  const drained = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const fds = child.stdio as unknown as readonly (Readable | Writable | null | undefined)[];
  const streams = fds.filter((s): s is Readable | Writable => s !== null && s !== undefined);
  // Until start(): a write to a launcher that died, or a read error, is the call's to report.
  for (const s of streams) s.on('error', () => undefined);
  return {
    fds,
    streams,
    exited,
    running: () => child.pid !== undefined && child.exitCode === null && child.signalCode === null,
    /** While parked, nothing of the launcher keeps the runtime's event loop alive. */
    hold(on: boolean) {
      for (const h of [child, ...streams] as unknown as { ref?(): void; unref?(): void }[]) {
        if (on) h.ref?.();
        else h.unref?.();
      }
    },
    /** Output to the call's handlers, the seccomp program and stdin in: the call from here on. */
    wire(call: StartInput): LauncherProcess {
      (fds[STATUS_FD] as Readable).on('data', call.onStatus);
      child.stdout!.on('data', call.onStdout);
      child.stderr!.on('data', call.onStderr);
      (fds[SECCOMP_FD] as Writable).end(call.seccomp);
      if (call.stdin !== undefined) {
        child.stdin!.on('error', (err: NodeJS.ErrnoException) => {
          // The command may exit without reading all of stdin; that is its business.
          if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') call.onStdinError(err);
        });
        child.stdin!.end(typeof call.stdin === 'string' ? Buffer.from(call.stdin) : call.stdin);
      } else {
        child.stdin!.end();
      }
      return { exited, drained };
    },
  };
}
