import Dockerode from 'dockerode';
import { execFile } from 'node:child_process';
import { access, readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPolicyEngine, ExecutionSpec, type ResourceLimits } from '@bastion/policy';
import { describeWithDocker, managedContainers } from '@bastion/sandbox/test-support';
import {
  createDockerExecutor,
  createWarmPoolExecutor,
  newSessionIdentity,
  sharedRuntimeDir,
  type RuntimeDir,
} from '@bastion/sandbox';
import { startEgressGateway } from './egress-gateway';
import { gatewayEnv, SANDBOX_GATEWAY, wrapCommandWithRelay } from './sandbox-gateway';
import { SANDBOX_IMAGE } from '@bastion/sandbox';

const run = promisify(execFile);
const IMAGE = SANDBOX_IMAGE;
const limits: ResourceLimits = createPolicyEngine().evaluate(
  ExecutionSpec.parse({ provider: 'exec', image: IMAGE, command: ['true'] }),
).limits;
const ENV = { PATH: '/opt/bastion/bin:/usr/local/bin:/usr/bin:/bin', HOME: '/tmp' };
/** Connects to a Unix socket and prints CONNECTED or the error code. */
const CONNECT =
  'const s=require("net").connect(process.argv[1]);s.on("connect",()=>{console.log("CONNECTED");process.exit(0)});s.on("error",e=>{console.log(e.code);process.exit(0)})';

/** Every Unix socket under `dir`, found as root (the runtime user). */
async function socketsUnder(dir: string): Promise<string[]> {
  const { stdout } = await run('find', [dir, '-type', 's']);
  return stdout.split('\n').filter(Boolean).sort();
}

async function connectAsNobody(socket: string): Promise<string> {
  const { stdout } = await run('runuser', ['-u', 'nobody', '--', process.execPath, '-e', CONNECT, socket]);
  return stdout.trim();
}

describeWithDocker('host sockets live in the private runtime directory (issue 22)', () => {
  const docker = new Dockerode();
  const identity = newSessionIdentity();
  let runtimeDir: RuntimeDir;

  beforeAll(async () => {
    runtimeDir = await sharedRuntimeDir();
  });
  afterAll(async () => {
    expect(await managedContainers(docker, identity.sessionId)).toEqual([]);
  });

  it('lets no other local user (nobody) connect to the gateway, control or linked sockets during a call', async () => {
    const gw = await startEgressGateway({ allow: ['allowed.example.test'], deny: [] });
    const pool = createWarmPoolExecutor({ docker, size: 1, identity });
    try {
      await pool.prewarm(IMAGE, limits);
      let seen: { sockets: string[]; verdicts: string[] } | undefined;
      const during = new Promise<void>((resolve, reject) => {
        void pool.run(
          {
            correlationId: 'sockets',
            image: IMAGE,
            command: wrapCommandWithRelay(['sleep', '4']),
            env: { ...ENV, ...gatewayEnv() },
            limits,
            mounts: [{ hostPath: gw.hostSocketDir, containerPath: SANDBOX_GATEWAY.mountDir, readOnly: true }],
          },
          {
            onStdout: () => undefined,
            onStderr: () => undefined,
            onStarted: () => {
              void (async () => {
                const sockets = await socketsUnder(runtimeDir.root);
                seen = { sockets, verdicts: await Promise.all(sockets.map(connectAsNobody)) };
              })().then(resolve, reject);
            },
          },
        );
      });
      await during;
      console.log(
        `sockets under ${runtimeDir.root} during the call, as nobody: ${seen!.sockets.map((s, i) => `${s} → ${seen!.verdicts[i]}`).join(', ')}`,
      );
      const ours = seen!.sockets.filter((s) => s.startsWith(gw.hostSocketDir) || s.includes('/ctl-'));
      // The call's gateway socket, and its hard link in the pooled container's control directory.
      expect(ours).toContain(gw.hostSocketPath);
      expect(ours.some((s) => /\/ctl-[^/]+\/gateway\.sock$/.test(s))).toBe(true);
      expect(gw.hostSocketPath.startsWith(runtimeDir.root + '/')).toBe(true);
      // Every socket under the runtime directory, this call's and any other's, is refused.
      expect(seen!.verdicts).toEqual(seen!.sockets.map(() => 'EACCES'));
      // Reaching it by its path from tmp, as before, is not possible either: nothing is there.
      expect(
        (await readdir('/tmp')).filter((n) => n.startsWith('bastion-gw-') && gw.hostSocketDir.includes(n)),
      ).toEqual([]);
    } finally {
      await pool.close();
      await gw.close();
    }
  }, 60_000);

  it("closes a control connection without the slot's secret; it gets nothing and the rightful supervisor still gets the task", async () => {
    const received: Buffer[] = [];
    const closed: Promise<void>[] = [];
    const nobodyVerdicts: string[] = [];
    // Connects the moment a control socket appears, before the container's supervisor can: the
    // race that "first connection wins" used to lose.
    const racing: RuntimeDir = {
      root: runtimeDir.root,
      async createCallDir(kind) {
        const dir = await runtimeDir.createCallDir(kind);
        if (kind === 'ctl') {
          closed.push(
            (async () => {
              const sock = join(dir.path, 'ctl.sock');
              for (let i = 0; i < 2_000; i++) {
                if (
                  await access(sock).then(
                    () => true,
                    () => false,
                  )
                )
                  break;
                await new Promise((r) => setTimeout(r, 1));
              }
              // Another local user, while the slot is still waiting for its supervisor.
              const asNobody = connectAsNobody(sock);
              await new Promise<void>((resolve) => {
                const c = connect(sock);
                c.on('connect', () => c.write('{"hello":"guess"}\n'));
                c.on('data', (d: Buffer) => received.push(d));
                c.on('error', () => resolve());
                c.on('close', () => resolve());
              });
              nobodyVerdicts.push(await asNobody);
            })(),
          );
        }
        return dir;
      },
    };
    const pool = createWarmPoolExecutor({ docker, size: 1, identity, runtimeDir: racing });
    try {
      await pool.prewarm(IMAGE, limits);
      await Promise.all(closed);
      expect(pool.stats().rejectedHellos).toBeGreaterThanOrEqual(1);
      expect(nobodyVerdicts).toEqual(['EACCES']);
      const out: Buffer[] = [];
      const r = await pool.run(
        {
          correlationId: 'rightful',
          image: IMAGE,
          command: ['sh', '-c', 'echo "task for $WHO"; ls -A /run/bastion; echo end'],
          env: { ...ENV, WHO: 'the-rightful-supervisor' },
          limits,
          mounts: [],
        },
        { onStdout: (c) => out.push(Buffer.from(c)), onStderr: () => undefined },
      );
      expect(r.exitCode).toBe(0);
      expect(pool.stats().warmHits).toBe(1);
      // The secret file is gone before the command runs, and so is the (closed) listening socket.
      expect(Buffer.concat(out).toString()).toBe('task for the-rightful-supervisor\nend\n');
      expect(Buffer.concat(received).length).toBe(0);
    } finally {
      await pool.close();
    }
  }, 60_000);

  it("keeps another call's sockets out of reach of a sandbox that has the host's / mounted", async () => {
    const gw = await startEgressGateway({ allow: [], deny: [] });
    const executor = createDockerExecutor({ docker, identity });
    try {
      const inside = join('/host', gw.hostSocketPath);
      const out: Buffer[] = [];
      const r = await executor.run(
        {
          correlationId: 'host-root',
          image: IMAGE,
          command: ['sh', '-c', `ls ${join('/host', runtimeDir.root)} 2>&1; node -e '${CONNECT}' ${inside}`],
          env: ENV,
          limits,
          mounts: [{ hostPath: '/', containerPath: '/host', readOnly: true }],
        },
        { onStdout: (c) => out.push(Buffer.from(c)), onStderr: (c) => out.push(Buffer.from(c)) },
      );
      expect(r.exitCode).toBe(0);
      expect(Buffer.concat(out).toString()).toMatch(/Permission denied\n(EACCES)\n$/);
    } finally {
      await executor.close();
      await gw.close();
    }
  }, 60_000);
});
