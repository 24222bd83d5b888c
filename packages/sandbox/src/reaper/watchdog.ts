import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

/**
 * The reaper's watchdog: a detached process that outlives the runtime. reaper.ts starts it with
 * `node -e` and the bundle of this module (watchdog-script.generated.ts, made by
 * scripts/standalone-bundles.mjs), so it needs no file on disk and no node_modules. Docker's API is
 * plain HTTP over the engine's Unix socket.
 *
 * Protocol: the config is one JSON argument. The watchdog writes "ready\n" on stdout once it holds
 * the pipe, then reads stdin until it closes. A closed stdin means the runtime is gone (normal
 * exit, crash or SIGKILL alike): it removes every container labelled with the session, kills and
 * removes the session's bwrap cgroups, unmounts the session's bwrap /tmp mounts, checks again a few
 * times for creations that were in flight, removes the process's per-call directories once that
 * process is gone, and exits.
 */
export interface WatchdogConfig {
  /** The engine's Unix socket; null for a bwrap-only runtime. */
  socketPath: string | null;
  sessionId: string;
  managedLabel: string;
  sessionLabel: string;
  cgroupSessionDirs: string[];
  tmpfsSessionDir: string | null;
  /** The runtime directory and the `<pid>-<start>` stamp its per-call directories carry. */
  runtimeCallDirs: { root: string; stamp: string } | null;
  quietChecks: number;
  quietIntervalMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

function api(cfg: WatchdogConfig, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: cfg.socketPath ?? undefined, method, path, timeout: 15_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function listSession(cfg: WatchdogConfig): Promise<string[]> {
  const filters = encodeURIComponent(
    JSON.stringify({ label: [`${cfg.managedLabel}=true`, `${cfg.sessionLabel}=${cfg.sessionId}`] }),
  );
  const res = await api(cfg, 'GET', `/containers/json?all=1&filters=${filters}`);
  if (res.status !== 200) throw new Error(`list: HTTP ${res.status}`);
  return (JSON.parse(res.body) as { Id: string }[]).map((c) => c.Id);
}

async function reapContainers(cfg: WatchdogConfig): Promise<void> {
  if (!cfg.socketPath) return;
  let quiet = 0;
  // Until the engine has answered "none left" several times in a row: a create that was in flight
  // when the runtime died can still land after the first empty list.
  for (let attempt = 0; attempt < 120 && quiet < cfg.quietChecks; attempt++) {
    let ids: string[];
    try {
      ids = await listSession(cfg);
    } catch {
      await sleep(500); // engine restarting or busy: keep trying for a while
      continue;
    }
    if (ids.length === 0) {
      quiet++;
      if (quiet < cfg.quietChecks) await sleep(cfg.quietIntervalMs);
      continue;
    }
    quiet = 0;
    // A failed remove shows up in the next list and is retried there.
    await Promise.all(ids.map((id) => api(cfg, 'DELETE', `/containers/${id}?force=1&v=1`).catch(() => undefined)));
  }
}

function killAndRemove(dir: string): void {
  for (let round = 0; round < 100; round++) {
    let pids: number[] = [];
    try {
      pids = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch (err) {
      if (code(err) === 'ENOENT') return;
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // ESRCH: already gone
      }
    }
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if (code(err) === 'ENOENT') return;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

function reapCgroups(cfg: WatchdogConfig): void {
  for (const sessionDir of cfg.cgroupSessionDirs) {
    let entries;
    try {
      entries = readdirSync(sessionDir, { withFileTypes: true });
    } catch {
      continue; // none made in this session
    }
    for (const e of entries) if (e.isDirectory()) killAndRemove(join(sessionDir, e.name));
    tryRmdir(sessionDir);
  }
}

/** rmdir that leaves a busy or vanished directory to the start-up sweep (reapExpired). */
function tryRmdir(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // busy or gone: the next runtime's reapExpired takes it
  }
}

/** The session's bwrap /tmp mounts (after its processes are killed, so none is busy). */
function reapTmpfs(cfg: WatchdogConfig): void {
  const dir = cfg.tmpfsSessionDir;
  if (!dir) return;
  let lines: string[];
  try {
    lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  } catch {
    return; // no procfs: nothing we could find
  }
  for (const line of lines) {
    const point = (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) =>
      String.fromCharCode(parseInt(o, 8)),
    );
    if (!point.startsWith(`${dir}/`)) continue;
    spawnSync('umount', ['-l', point], { stdio: 'ignore', env: { PATH: '/usr/sbin:/sbin:/usr/bin:/bin' } });
    tryRmdir(point);
  }
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return; // gone already
  }
  for (const e of entries) tryRmdir(join(dir, e));
  tryRmdir(dir);
}

/** Whether the process named by a `<pid>-<start>` stamp still runs (same pid and same start time). */
function stampAlive(stamp: string): boolean {
  const [pid, start] = stamp.split('-');
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] === start;
  } catch {
    return false; // no /proc/<pid> (ENOENT, ESRCH): the process is gone
  }
}

/**
 * The runtime's per-call directories (host sockets) in its private runtime directory: named
 * <kind>-<pid>-<start>-<random>, so only the dead process's own are removed. The stamp names the
 * process, not the runtime: a process may close one runtime and go on with another (a test file,
 * a library user), whose calls hold directories with the same stamp. So they are removed only once
 * that process is gone; a process that lives on removes its own (CallDir.close), and what it leaks
 * is the next start's (sweepStaleCallDirs).
 */
async function reapRuntimeDirs(cfg: WatchdogConfig): Promise<void> {
  const dirs = cfg.runtimeCallDirs;
  if (!dirs) return;
  // A graceful close comes just before the process exits: give it a moment to be gone.
  for (let waited = 0; stampAlive(dirs.stamp); waited += 100) {
    if (waited >= 2_000) return;
    await sleep(100);
  }
  let names: string[];
  try {
    names = readdirSync(dirs.root);
  } catch {
    return; // no runtime directory: nothing to remove
  }
  const mine = new RegExp(`^[a-z]+-${dirs.stamp.replace(/[^0-9-]/g, '')}-[A-Za-z0-9]+$`);
  for (const name of names) {
    if (!mine.test(name)) continue;
    try {
      rmSync(join(dirs.root, name), { recursive: true, force: true });
    } catch {
      // the next start's sweepStaleCallDirs removes it
    }
  }
}

/** Entry point of the watchdog process; `configJson` is its one argument. */
export function runWatchdog(configJson: string): void {
  const cfg = JSON.parse(configJson) as WatchdogConfig;
  let reaping = false;
  const reap = async () => {
    if (reaping) return;
    reaping = true;
    try {
      reapCgroups(cfg);
      reapTmpfs(cfg);
      await reapContainers(cfg);
      reapCgroups(cfg);
      reapTmpfs(cfg);
      await reapRuntimeDirs(cfg);
    } finally {
      process.exit(0);
    }
  };
  // Signals aimed at the runtime's terminal or process group are not ours to act on.
  for (const sig of ['SIGINT', 'SIGHUP', 'SIGPIPE'] as const) process.on(sig, () => undefined);
  process.stdin.on('data', () => undefined);
  process.stdin.on('end', reap);
  process.stdin.on('close', reap);
  process.stdin.on('error', reap);
  // The runtime stopped reading after "ready": a write error is expected, not a reason to stop.
  process.stdout.on('error', () => undefined);
  process.stdout.write('ready\n');
}
