import Dockerode from 'dockerode';
import { createPolicyEngine } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import { createMemoryAuditLog } from '../audit/audit-log';
import { execCommand } from '../pipeline/exec-call';
import { itBehavesLikeEveryBackend } from '../test-support/backend-contract';
import { createRuntime, type Runtime } from '../runtime';
import { describeWithDocker, managedContainers } from '@bastion/sandbox/test-support';
import { LABELS, createDockerExecutor, SANDBOX_IMAGE } from '@bastion/sandbox';

const IMAGE = SANDBOX_IMAGE;

describeWithDocker('docker executor through the pipeline (real engine)', () => {
  const docker = new Dockerode();
  let runtime: Runtime;
  let audit: ReturnType<typeof createMemoryAuditLog>;

  let sessionId: string;
  const ours = () => [`${LABELS.managed}=true`, `${LABELS.session}=${sessionId}`];

  beforeEach(() => {
    audit = createMemoryAuditLog();
    const engine = createPolicyEngine();
    const executor = createDockerExecutor({ docker });
    sessionId = executor.identity.sessionId;
    runtime = createRuntime({ policy: () => engine, audit, executor, secrets: createSecretStore({ env: {} }) });
  });

  afterEach(async () => {
    await runtime.close();
    // Scoped to this session: other suites may run sandboxes at the same time.
    expect(await managedContainers(docker, sessionId)).toEqual([]);
  });

  const exec = (command: string[], resources = {}, extra = {}) =>
    execCommand(runtime.pipeline, { provider: 'exec', image: IMAGE, command, resources, ...extra });

  itBehavesLikeEveryBackend(() => ({ exec, auditEvents: () => audit.events }));

  it('starts the container with every hardening default (docker inspect)', async () => {
    const running = exec(['sleep', '3']);
    let info: Dockerode.ContainerInspectInfo | undefined;
    for (let i = 0; i < 50 && !info; i++) {
      const [c] = await docker.listContainers({ filters: { label: ours() } });
      if (c) info = await docker.getContainer(c.Id).inspect();
      else await new Promise((r) => setTimeout(r, 100));
    }
    await running;
    expect(info).toBeDefined();
    const hc = info!.HostConfig as Dockerode.HostConfig & {
      Ulimits: { Name: string; Soft: number; Hard: number }[];
      Tmpfs: Record<string, string>;
    };
    expect(info!.Config.User).toBe('1001:1001');
    expect(hc.ReadonlyRootfs).toBe(true);
    expect(hc.CapDrop).toEqual(['ALL']);
    expect(hc.SecurityOpt).toEqual(
      expect.arrayContaining(['no-new-privileges:true', expect.stringMatching(/^seccomp=\{/)]),
    );
    const seccomp = JSON.parse(hc.SecurityOpt!.find((o: string) => o.startsWith('seccomp='))!.slice('seccomp='.length));
    const denied = seccomp.syscalls
      .filter((s: { action: string }) => s.action === 'SCMP_ACT_ERRNO')
      .flatMap((s: { names: string[] }) => s.names);
    expect(denied).toEqual(
      expect.arrayContaining([
        'unshare',
        'setns',
        'clone3',
        'io_uring_setup',
        'userfaultfd',
        'perf_event_open',
        'bpf',
        'keyctl',
      ]),
    );
    expect(hc.Memory).toBe(512 * 1024 ** 2);
    expect(hc.MemorySwap).toBe(hc.Memory);
    expect(hc.NanoCpus).toBe(500_000_000);
    expect(hc.PidsLimit).toBe(32);
    expect(hc.Ulimits).toEqual([{ Name: 'nofile', Soft: 1024, Hard: 1024 }]);
    expect(hc.Tmpfs['/tmp']).toMatch(/size=67108864/);
    expect(hc.Tmpfs['/sys/fs/cgroup']).toMatch(/^ro,/);
    expect(hc.NetworkMode).toBe('none');
    expect(info!.Config.Labels).toEqual(
      expect.objectContaining({
        [LABELS.managed]: 'true',
        [LABELS.session]: expect.any(String),
        [LABELS.owner]: expect.any(String),
        [LABELS.expires]: expect.any(String),
      }),
    );
  });

  it('runs as uid 1001 with no capabilities, a read-only root and no interface but lo', async () => {
    const r = await exec([
      'sh',
      '-c',
      'id -u; grep CapEff /proc/self/status; ls /sys/class/net; touch /probe 2>&1 || echo write-denied; unshare -Ur true 2>&1 || echo unshare-denied',
    ]);
    expect(r.status).toBe('succeeded');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('1001');
    expect(lines[1]).toMatch(/^CapEff:\s+0+$/);
    expect(lines[2]).toBe('lo');
    expect(r.stdout).toContain('Read-only file system');
    expect(r.stdout).toContain('write-denied');
    expect(r.stdout).toContain('unshare-denied');
  });

  it('shows an empty read-only cgroup tree, so Node sizes its heap as on the host (the OOM test below: the limit holds)', async () => {
    const script =
      'ls -A /sys/fs/cgroup | wc -l; touch /sys/fs/cgroup/x 2>&1; node -p "v8.getHeapStatistics().heap_size_limit"';
    const r = await exec(['sh', '-c', script], { memoryBytes: 256 * 1024 ** 2 });
    expect(r.status).toBe('succeeded');
    const [entries, touch, heap] = r.stdout.trim().split('\n');
    expect(entries).toBe('0');
    expect(touch).toContain('Read-only file system');
    // Node sizes its heap at about half the cgroup limit when it sees one; above the limit itself, it did not.
    expect(Number(heap)).toBeGreaterThan(256 * 1024 ** 2);
  });

  it('reports OOM_KILLED when the command passes its memory limit', async () => {
    const r = await exec(['node', '-e', 'const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))'], {
      memoryBytes: 64 * 1024 ** 2,
    });
    expect(r.status).toBe('failed');
    expect(r.error?.code).toBe('OOM_KILLED');
    expect(r.execution?.oomKilled).toBe(true);
  });

  it('kills the command and reports TIMEOUT within 3 s when the deadline passes, container gone', async () => {
    const t0 = Date.now();
    const r = await exec(['sleep', '600'], { timeoutMs: 2000 });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(r.error?.code).toBe('TIMEOUT');
    expect(r.execution?.timedOut).toBe(true);
    await expect(docker.getContainer(r.execution!.containerId!).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('reports a non-zero exit as COMMAND_FAILED with the exit code', async () => {
    const r = await exec(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r.status).toBe('failed');
    expect(r.error?.code).toBe('COMMAND_FAILED');
    expect(r.execution?.exitCode).toBe(7);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
  });

  it('reports a sandbox killed from outside Bastion as a retryable SANDBOX_UNAVAILABLE, not a command failure', async () => {
    const running = exec(['sleep', '30']);
    let id: string | undefined;
    for (let i = 0; i < 50 && !id; i++) {
      const [c] = await docker.listContainers({ filters: { label: ours() } });
      if (c) id = c.Id;
      else await new Promise((r) => setTimeout(r, 100));
    }
    await docker.getContainer(id!).kill({ signal: 'SIGKILL' });
    const r = await running;
    expect(r.error).toMatchObject({ code: 'SANDBOX_UNAVAILABLE', retryable: true });
  });

  it('reports a full scratch tmpfs as RESOURCE_EXHAUSTED', async () => {
    const r = await exec(['sh', '-c', 'head -c 100000000 /dev/zero > /tmp/fill'], { tmpfsBytes: 8 * 1024 * 1024 });
    expect(r.error).toMatchObject({ code: 'RESOURCE_EXHAUSTED', details: { resource: 'tmpfs' } });
  });
});
