import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = resolve(__dirname, '../../../..');
const PID_FILE = '/var/run/docker.pid';

async function engineAnswers(): Promise<boolean> {
  try {
    await run('docker', ['version', '--format', '{{.Server.Version}}'], { timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits (up to `timeoutMs`) until no container runs on the engine, so the outage hits as few of
 * other people's calls as possible; returns how many still ran when it gave up waiting.
 */
export async function waitForQuietEngine(timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { stdout } = await run('docker', ['ps', '-q'], { timeout: 10_000 });
    const running = stdout.split('\n').filter(Boolean).length;
    if (running === 0 || Date.now() > deadline) return running;
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface DaemonOutage {
  /** The dockerd that was stopped. */
  readonly pid: number;
  readonly stoppedAt: number;
  /** Starts the engine again (ops/docker/ensure-engine.sh) and waits until it answers. Idempotent. */
  restore(): Promise<{ outageMs: number }>;
}

/**
 * DISRUPTIVE: stops the host's Docker daemon (the dockerd named in /var/run/docker.pid, by pid,
 * SIGTERM) and returns a handle that restarts it. Every other user of the engine sees the outage,
 * so callers keep it to seconds and always restore in a finally. Only for the one daemon-restart
 * scenario of the failure suites, which runs serialized.
 */
export async function stopDockerDaemon(timeoutMs = 20_000): Promise<DaemonOutage> {
  const pid = Number((await readFile(PID_FILE, 'utf8')).trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`${PID_FILE} does not hold a dockerd pid`);
  const stoppedAt = Date.now();
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) throw new Error(`dockerd ${pid} did not stop within ${timeoutMs} ms`);

  let restoring: Promise<{ outageMs: number }> | undefined;
  const restore = () => {
    restoring ??= (async () => {
      await run('bash', [resolve(REPO, 'ops/docker/ensure-engine.sh')], { timeout: 60_000 });
      if (!(await engineAnswers())) throw new Error('the Docker engine did not come back after the outage');
      return { outageMs: Date.now() - stoppedAt };
    })();
    return restoring;
  };
  return { pid, stoppedAt, restore };
}
