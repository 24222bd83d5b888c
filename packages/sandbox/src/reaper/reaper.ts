import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type Dockerode from 'dockerode';
import { BastionError, type Clock } from '@bastion/core';
import { LABELS } from '../labels';
import { dockerError } from '../docker/docker-errors';
import { listCallGroups, openCallCgroup, removeSessionDirs, type CgroupLayout } from '../bwrap/cgroups';
import { listCallTmpfs, removeTmpfsSessionDir, unmountCallTmpfs } from '../bwrap/call-tmpfs';
import type { WatchdogConfig } from './watchdog';
import { WATCHDOG_SCRIPT } from './watchdog-script.generated';
import { WATCHDOG_PERL_SCRIPT } from './watchdog-perl-script.generated';
import { callDirStamp, sharedRuntimeDir, sweepStaleCallDirs } from '../runtime-dir/runtime-dir';

export interface ReaperOptions {
  /** The engine whose containers to watch; its socket is what the watchdog talks to. Omit for a bwrap-only runtime. */
  docker?: Dockerode;
  sessionId: string;
  /** The bwrap backend's cgroup layout, when the runtime uses it: the session's groups are reaped too. */
  cgroups?: CgroupLayout | null;
  /** Where the bwrap backend mounts calls' /tmp (its `tmpfsRoot`): the session's mounts are unmounted too. */
  tmpfsRoot?: string | null;
  /** The runtime directory whose per-call directories (sockets) of this process go with it; default: the shared one, null: none. */
  runtimeRoot?: string | null;
  /** How many consecutive "nothing left" answers end the watch (default 3, 500 ms apart). */
  quietChecks?: number;
  quietIntervalMs?: number;
  /** How long to wait for the watchdog to report it is holding the pipe (default 5 s). */
  readyTimeoutMs?: number;
  /**
   * Resolve as soon as the watchdog is spawned instead of when it reports "ready" (default false).
   * The child holds the pipe from the fork on, so a runtime killed before the watchdog's code runs
   * is still seen (the pipe's end waits in it): what "ready" adds is proof that the watchdog did
   * start, which `ready` and `close()` then report. A one-shot CLI call uses it to overlap the
   * watchdog's start-up (perl's few ms; node's ~30 ms where there is no perl) with its own work.
   */
  readyInBackground?: boolean;
  /**
   * The perl the watchdog runs in (watchdog.pl, a few ms to start where node's start takes ~35 ms
   * of CPU beside a one-shot call). Default: /usr/bin/perl, /bin/perl or /usr/local/bin/perl, the
   * first that is executable; null, or no perl, runs watchdog.ts in node.
   */
  perl?: string | null;
}

/** A running watchdog. `close()` ends the pipe: the watchdog sweeps what is left and exits. */
export interface StartedReaper extends AsyncDisposable {
  readonly pid: number;
  /** Settles when the watchdog reported "ready" (rejects with SANDBOX_UNAVAILABLE when it did not start). */
  readonly ready: Promise<void>;
  /** Ends the pipe; rejects like `ready` when the watchdog never started. */
  close(): Promise<void>;
}

function socketPathOf(docker: Dockerode | undefined): string | null {
  if (!docker) return null;
  const modem = docker.modem as { socketPath?: unknown; host?: unknown };
  if (typeof modem.socketPath === 'string') return modem.socketPath;
  if (modem.host)
    throw new BastionError(
      'INVALID_INPUT',
      'the reaper needs the engine on a Unix socket (DOCKER_HOST=unix://…), not TCP',
    );
  return '/var/run/docker.sock';
}

/**
 * Ryuk for Bastion: a detached process, in its own session so signals for the runtime's process
 * group miss it, that holds the read end of a pipe from the runtime. When the pipe closes (the
 * runtime exited, crashed or was SIGKILLed) it removes the session's containers and bwrap cgroups.
 * Perl runs it (watchdog.pl), or node (watchdog.ts) where there is no perl: the same protocol and
 * the same sweep. Start it before the first sandbox of the session exists.
 */
export async function startReaper(options: ReaperOptions): Promise<StartedReaper> {
  const socketPath = socketPathOf(options.docker);
  const config: WatchdogConfig = {
    socketPath,
    sessionId: options.sessionId,
    managedLabel: LABELS.managed,
    sessionLabel: LABELS.session,
    cgroupSessionDirs: options.cgroups
      ? [...new Set(Object.values(options.cgroups.roots))].map((r) => join(r, options.sessionId))
      : [],
    tmpfsSessionDir: options.tmpfsRoot ? join(options.tmpfsRoot, options.sessionId) : null,
    runtimeCallDirs: await runtimeCallDirsOf(options.runtimeRoot),
    quietChecks: options.quietChecks ?? 3,
    quietIntervalMs: options.quietIntervalMs ?? 500,
  };
  const perl = options.perl === undefined ? findPerl() : options.perl;
  const child = spawn(
    perl ?? process.execPath,
    perl ? ['-e', WATCHDOG_PERL_SCRIPT, ...perlWatchdogArgs(config)] : ['-e', WATCHDOG_SCRIPT, JSON.stringify(config)],
    { detached: true, stdio: ['pipe', 'pipe', 'ignore'], env: {} },
  );
  const stdin = child.stdin as Writable & { unref?: () => void };
  const stdout = child.stdout as Readable & { unref?: () => void };
  stdin.on('error', () => undefined); // the watchdog went away: nothing to write to anyway

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('no "ready" within the timeout')), options.readyTimeoutMs ?? 5_000);
    let seen = '';
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(
        new BastionError('SANDBOX_UNAVAILABLE', `the reaper's watchdog did not start: ${err.message}`, { cause: err }),
      );
    };
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`it exited with ${code}`)));
    stdout.on('data', (c: Buffer) => {
      seen += c.toString('utf8');
      if (!seen.includes('ready\n')) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.removeAllListeners('error');
      resolve();
      // The watchdog never writes again; neither the pipe nor the child may keep the runtime alive.
      stdout.destroy();
      child.on('error', () => undefined);
      child.unref();
      stdin.unref?.();
    });
  });
  // Handled here so a background start that fails is not an unhandled rejection; ready and
  // close() still reject for whoever asks.
  ready.catch(() => undefined);
  if (options.readyInBackground !== true) await ready;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= ready.then(
      () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          stdin.end(() => resolve());
        }),
    );
    return closing;
  };
  return { pid: child.pid!, ready, close, [Symbol.asyncDispose]: close };
}

/** watchdog.pl's arguments: the config as `key value…` words. */
function perlWatchdogArgs(config: WatchdogConfig): string[] {
  return [
    ...config.cgroupSessionDirs.flatMap((d) => ['cgroup', d]),
    ...(config.tmpfsSessionDir ? ['tmpfs', config.tmpfsSessionDir] : []),
    ...(config.runtimeCallDirs ? ['calldirs', config.runtimeCallDirs.root, config.runtimeCallDirs.stamp] : []),
    ...(config.socketPath
      ? [
          'docker',
          config.socketPath,
          config.managedLabel,
          config.sessionLabel,
          config.sessionId,
          String(config.quietChecks),
          String(config.quietIntervalMs),
        ]
      : []),
  ];
}

const PERL_DIRS = ['/usr/bin', '/bin', '/usr/local/bin'];

/** An executable perl in the usual places (the runtime's PATH is not trusted here), or null: the watchdog then runs in node. */
function findPerl(): string | null {
  for (const dir of PERL_DIRS) {
    try {
      accessSync(join(dir, 'perl'), fsConstants.X_OK);
      return join(dir, 'perl');
    } catch {
      // not here
    }
  }
  return null;
}

export interface ReapExpiredOptions {
  docker?: Dockerode;
  cgroups?: CgroupLayout | null;
  tmpfsRoot?: string | null;
  /** Runtime directory to sweep for per-call directories of processes that are gone; default: the shared one, null: none. */
  runtimeRoot?: string | null;
  now?: Clock;
}

export interface ReapReport {
  /** Ids of containers removed because their `dev.bastion.expires` had passed. */
  readonly containers: string[];
  /** `<session>/<group>` of bwrap cgroups removed because the expiry in their name had passed. */
  readonly cgroups: string[];
  /** `<session>/<call>` of bwrap calls' /tmp mounts unmounted because the expiry in their name had passed. */
  readonly tmpfs: string[];
  /** Per-call runtime directories (host sockets) removed because the process that made them is gone. */
  readonly runtimeDirs: string[];
}

/**
 * Removes leftovers whose expiry passed: containers labelled `dev.bastion.managed=true` with a
 * past `dev.bastion.expires`, and bwrap call cgroups and /tmp mounts whose name carries a past expiry. Call it
 * when a runtime starts; it never touches a sandbox still within its deadline plus grace.
 */
export async function reapExpired(options: ReapExpiredOptions): Promise<ReapReport> {
  const now = (options.now ?? Date.now)();
  const containers: string[] = [];
  if (options.docker) {
    const docker = options.docker;
    let list: Dockerode.ContainerInfo[];
    try {
      list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=true`] } });
    } catch (err) {
      throw dockerError(err, 'list managed containers');
    }
    const expired = list.filter((c) => {
      const at = Date.parse(c.Labels?.[LABELS.expires] ?? '');
      return Number.isFinite(at) && at < now;
    });
    await Promise.all(
      expired.map(async (c) => {
        try {
          await docker.getContainer(c.Id).remove({ force: true, v: true });
          containers.push(c.Id);
        } catch (err) {
          const status = (err as { statusCode?: number }).statusCode;
          if (status !== 404 && status !== 409) throw dockerError(err, 'remove an expired container');
        }
      }),
    );
  }

  const layout = options.cgroups;
  const cgroups = layout
    ? await reapExpiredEntries(
        listCallGroups(layout),
        now,
        (g) => openCallCgroup(layout, join(g.sessionId, g.name)).remove(),
        (s) => removeSessionDirs(layout, s),
      )
    : [];
  const root = options.tmpfsRoot;
  const tmpfs = root
    ? await reapExpiredEntries(
        listCallTmpfs(root),
        now,
        (t) => unmountCallTmpfs(t.dir),
        (s) => removeTmpfsSessionDir(root, s),
      )
    : [];
  // A killed runtime's sockets: nothing listens on them any more, but a stale gateway directory
  // must not pile up or be mistaken for a live one.
  const runtimeRoot = options.runtimeRoot === undefined ? (await sharedRuntimeDir()).root : options.runtimeRoot;
  const runtimeDirs = runtimeRoot ? await sweepStaleCallDirs(runtimeRoot) : [];
  return { containers, cgroups, tmpfs, runtimeDirs };
}

/** Where the watchdog finds this process's per-call directories, which it removes after the process is gone. */
async function runtimeCallDirsOf(
  runtimeRoot: string | null | undefined,
): Promise<{ root: string; stamp: string } | null> {
  if (runtimeRoot === null) return null;
  const root = runtimeRoot ?? (await sharedRuntimeDir()).root;
  return { root, stamp: callDirStamp() };
}

/** Removes the entries (cgroups, /tmp mounts) whose name carries a past expiry, then their emptied session dirs; returns `<session>/<name>` of each. */
async function reapExpiredEntries<
  E extends { readonly sessionId: string; readonly name: string; readonly expiresAtMs: number },
>(
  entries: readonly E[],
  now: number,
  remove: (entry: E) => Promise<void>,
  removeSessionDir: (sessionId: string) => void,
): Promise<string[]> {
  const removed: string[] = [];
  const emptied = new Set<string>();
  for (const e of entries) {
    if (e.expiresAtMs >= now) continue;
    await remove(e);
    removed.push(`${e.sessionId}/${e.name}`);
    emptied.add(e.sessionId);
  }
  for (const s of emptied) removeSessionDir(s);
  return removed;
}
