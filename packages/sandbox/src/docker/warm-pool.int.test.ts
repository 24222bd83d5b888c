import Dockerode from 'dockerode';
import { createPolicyEngine, ExecutionSpec, type ResourceLimits } from '@bastion/policy';
import { describeWithDocker, managedContainers } from '../test-support/docker-suite';
import type { ExecutorOutcome } from '../executor';
import { createWarmPoolExecutor, type WarmPoolExecutor } from './warm-pool';
import { newSessionIdentity, type SessionIdentity } from '../labels';
import { SANDBOX_IMAGE } from '../images';

const IMAGE = SANDBOX_IMAGE;
const limits: ResourceLimits = createPolicyEngine().evaluate(
  ExecutionSpec.parse({ provider: 'exec', image: IMAGE, command: ['true'] }),
).limits;
const ENV = { PATH: '/opt/bastion/bin:/usr/local/bin:/usr/bin:/bin', HOME: '/tmp' };

describeWithDocker('warm pool executor (real engine)', () => {
  const docker = new Dockerode();
  let pool: WarmPoolExecutor;
  let identity: SessionIdentity;

  beforeEach(async () => {
    identity = newSessionIdentity();
    pool = createWarmPoolExecutor({ docker, size: 1, identity });
    await pool.prewarm(IMAGE, limits);
  });

  afterEach(async () => {
    await pool.close();
    expect(await managedContainers(docker, identity.sessionId)).toEqual([]);
  });

  async function run(
    command: string[],
    over: Partial<ResourceLimits> = {},
    stdin?: string,
  ): Promise<ExecutorOutcome & { stdout: string; stderr: string }> {
    const l = { ...limits, ...over };
    await pool.prewarm(IMAGE, l);
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const r = await pool.run(
      {
        correlationId: 't',
        image: IMAGE,
        command,
        env: ENV,
        limits: l,
        mounts: [],
        ...(stdin !== undefined ? { stdin } : {}),
      },
      { onStdout: (c) => out.stdout.push(Buffer.from(c)), onStderr: (c) => out.stderr.push(Buffer.from(c)) },
    );
    return { ...r, stdout: Buffer.concat(out.stdout).toString(), stderr: Buffer.concat(out.stderr).toString() };
  }

  it('runs a command in a pre-started container with the same hardening as the cold path', async () => {
    const r = await run([
      'sh',
      '-c',
      'id -u; grep CapEff /proc/self/status; ls /sys/class/net; touch /x 2>/dev/null || echo ro; echo e >&2; exit 4',
    ]);
    expect(r.stdout).toBe('1001\nCapEff:\t0000000000000000\nlo\nro\n');
    expect(r.stderr).toBe('e\n');
    expect(r.exitCode).toBe(4);
    expect(pool.stats().warmHits).toBe(1);
    // Destroyed in the background right after the call.
    let gone = false;
    for (let i = 0; i < 50 && !gone; i++) {
      gone = await docker
        .getContainer(r.sandboxId)
        .inspect()
        .then(
          () => false,
          (err: { statusCode?: number }) => err.statusCode === 404,
        );
      if (!gone) await new Promise((res) => setTimeout(res, 100));
    }
    expect(gone).toBe(true);
  });

  it('never lets state pass between calls: each call gets a fresh container', async () => {
    const a = await run(['sh', '-c', 'echo secret-state > /tmp/left-behind; cat /tmp/left-behind']);
    const b = await run(['sh', '-c', 'cat /tmp/left-behind 2>&1 || echo clean']);
    expect(a.stdout).toBe('secret-state\n');
    expect(b.stdout).toContain('clean');
    expect(a.sandboxId).not.toBe(b.sandboxId);
  });

  it('feeds stdin to the command', async () => {
    const r = await run(['wc', '-c'], {}, 'y'.repeat(200_000));
    expect(r.stdout.trim()).toBe('200000');
  });

  it('detects an OOM kill of a command inside a warm container from the engine, not the exit code (the sandbox cannot see its cgroup)', async () => {
    const r = await run(['node', '-e', 'const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))'], {
      memoryBytes: 96 * 1024 ** 2,
    });
    expect(r.oomKilled).toBe(true);
  });

  it('kills the whole container when the deadline passes', async () => {
    const t0 = Date.now();
    const r = await run(['sh', '-c', 'sleep 600 & sleep 600'], { timeoutMs: 1000 });
    expect(r.timedOut).toBe(true);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('kills the command past the output cap and keeps what came before', async () => {
    const r = await run(['yes', 'warm'], { outputBytes: 10_000 });
    expect(r.outputLimited).toBe('stdout');
    expect(r.stdout.length).toBe(10_000);
    expect(r.stdout.startsWith('warm\nwarm\n')).toBe(true);
  });

  it('falls back to the cold path for calls with per-call mounts', async () => {
    const r = await pool.run(
      {
        correlationId: 't',
        image: IMAGE,
        command: ['ls', '/workspace'],
        env: ENV,
        limits,
        mounts: [{ hostPath: __dirname, containerPath: '/workspace', readOnly: true }],
      },
      { onStdout: () => undefined, onStderr: () => undefined },
    );
    expect(r.exitCode).toBe(0);
    expect(pool.stats().coldFallbacks).toBe(1);
  });

  it('never hands out a pooled container that died while idle', async () => {
    const [idle] = await docker.listContainers({ filters: { label: [`dev.bastion.session=${identity.sessionId}`] } });
    await docker.getContainer(idle.Id).kill({ signal: 'SIGKILL' });
    await new Promise((r) => setTimeout(r, 300));
    const r = await run(['echo', 'fresh']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('fresh\n');
    expect(r.sandboxId).not.toBe(idle.Id);
  });

  it('follows the pool size a call asks for: more ready containers, or none and the cold path', async () => {
    const call = (poolSize: number) =>
      pool.run(
        { correlationId: 't', image: IMAGE, command: ['true'], env: ENV, limits, mounts: [], poolSize },
        { onStdout: () => undefined, onStderr: () => undefined },
      );
    const sessionContainers = async () => (await managedContainers(docker, identity.sessionId)).length;
    await call(3);
    for (let i = 0; i < 100 && pool.stats().ready < 3; i++) await new Promise((r) => setTimeout(r, 100));
    expect(pool.stats().targets).toEqual([{ image: IMAGE, target: 3, ready: 3 }]);
    expect(pool.stats().warmHits).toBe(1);

    // Turned down to 0: this call runs cold and the idle containers are removed.
    const r = await call(0);
    expect(r.exitCode).toBe(0);
    expect(pool.stats().coldFallbacks).toBe(1);
    expect(pool.stats().targets).toEqual([{ image: IMAGE, target: 0, ready: 0 }]);
    for (let i = 0; i < 50 && (await sessionContainers()) > 0; i++) await new Promise((res) => setTimeout(res, 100));
    expect(await sessionContainers()).toBe(0);
  });

  it("starts the next container only after a call returned, so the engine's work does not slow the call's end", async () => {
    const call = () =>
      pool.run(
        { correlationId: 't', image: IMAGE, command: ['true'], env: ENV, limits, mounts: [], poolSize: 2 },
        { onStdout: () => undefined, onStderr: () => undefined },
      );
    await call();
    for (let i = 0; i < 100 && pool.stats().ready < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(pool.stats().ready).toBe(2);
    expect((await call()).exitCode).toBe(0);
    // Another container was still ready, so the refill waits until after the call.
    expect(pool.stats()).toMatchObject({ ready: 1, filling: 0 });
    for (let i = 0; i < 100 && pool.stats().ready < 2; i++) await new Promise((r) => setTimeout(r, 100));
    expect(pool.stats().ready).toBe(2);
  });

  it('refuses a pool size that is not a whole number ≥ 0', async () => {
    await expect(
      pool.run(
        { correlationId: 't', image: IMAGE, command: ['true'], env: ENV, limits, mounts: [], poolSize: -1 },
        { onStdout: () => undefined, onStderr: () => undefined },
      ),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
