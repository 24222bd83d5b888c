import Dockerode from 'dockerode';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LABELS } from '@bastion/sandbox';
import { describeWithDocker } from '@bastion/sandbox/test-support';

const ROOT = join(__dirname, '../../../..');
const BIN = join(ROOT, 'packages/server/bin/bastion.cjs');

function bastion(args: string[]): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BASTION_AUDIT_LOG: '/dev/null' },
  });
}

async function containersOf(docker: Dockerode, pid: number): Promise<Dockerode.ContainerInfo[]> {
  return docker.listContainers({
    all: true,
    filters: { label: [`${LABELS.managed}=true`, `${LABELS.owner}=${hostname()}:${pid}`] },
  });
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

describeWithDocker('bastion CLI as a process (real engine)', () => {
  const docker = new Dockerode();

  beforeAll(() => {
    if (!existsSync(join(ROOT, 'packages/server/dist/bastion.cjs')))
      spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
  });

  it('prints one JSON document and exits 0 only when the command exited 0', async () => {
    const ok = spawnSync(process.execPath, [BIN, 'exec', '--json', '--', 'sh', '-c', 'echo hi'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      status: 'succeeded',
      stdout: 'hi\n',
      execution: { backend: 'docker', exitCode: 0 },
    });
    const bad = spawnSync(process.execPath, [BIN, 'exec', '--json', '--', 'sh', '-c', 'exit 3'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(bad.status).toBe(3);
    expect(JSON.parse(bad.stdout).error.code).toBe('COMMAND_FAILED');
    const timeout = spawnSync(process.execPath, [BIN, 'exec', '--json', '--timeout', '1000', '--', 'sleep', '60'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(timeout.status).toBe(124);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('removes its container when the client gets %s mid-call', async (signal) => {
    const child = bastion(['exec', '--', 'sleep', '600']);
    const found = await waitFor(
      async () => ((await containersOf(docker, child.pid!)).length > 0 ? true : undefined),
      20_000,
    );
    expect(found).toBe(true);
    child.kill(signal);
    await new Promise((r) => child.once('exit', r));
    expect(await containersOf(docker, child.pid!)).toEqual([]);
  });

  it('leaves nothing behind within 10 s even when the client is SIGKILLed (the reaper)', async () => {
    const child = bastion(['exec', '--', 'sleep', '600']);
    const found = await waitFor(
      async () => ((await containersOf(docker, child.pid!)).length > 0 ? true : undefined),
      20_000,
    );
    expect(found).toBe(true);
    const killedAt = Date.now();
    child.kill('SIGKILL');
    const gone = await waitFor(
      async () => ((await containersOf(docker, child.pid!)).length === 0 ? true : undefined),
      10_000,
    );
    expect(gone).toBe(true);
    expect(Date.now() - killedAt).toBeLessThan(10_000);
  });
});
