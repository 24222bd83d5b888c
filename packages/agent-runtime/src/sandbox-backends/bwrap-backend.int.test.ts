import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPolicyEngine } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import { createMemoryAuditLog } from '../audit/audit-log';
import { execCommand } from '../pipeline/exec-call';
import { itBehavesLikeEveryBackend } from '../test-support/backend-contract';
import { createRuntime, type Runtime } from '../runtime';
import { createBwrapExecutor, type BwrapExecutor, listCallTmpfs, SANDBOX_IMAGE } from '@bastion/sandbox';
import { describeWithBwrap, sessionCgroups } from '@bastion/sandbox/test-support';

const IMAGE = SANDBOX_IMAGE;

describeWithBwrap('bwrap executor through the pipeline (real bubblewrap and cgroups)', () => {
  let executor: BwrapExecutor;
  let runtime: Runtime;
  let audit: ReturnType<typeof createMemoryAuditLog>;

  beforeEach(() => {
    audit = createMemoryAuditLog();
    executor = createBwrapExecutor();
    const engine = createPolicyEngine();
    runtime = createRuntime({ policy: () => engine, audit, secrets: createSecretStore({ env: {} }), executor });
  });

  afterEach(async () => {
    await runtime.close();
    expect(sessionCgroups(executor.cgroups!, executor.identity.sessionId)).toEqual([]);
  });

  const exec = (command: string[], resources = {}, extra = {}) =>
    execCommand(runtime.pipeline, { provider: 'exec', image: IMAGE, command, resources, ...extra });

  itBehavesLikeEveryBackend(() => ({ exec, auditEvents: () => audit.events }));

  it('runs as uid 1001 with no capabilities, no_new_privs, seccomp, a read-only root and no interface but lo', async () => {
    const r = await exec([
      'sh',
      '-c',
      'id -u; grep CapEff /proc/self/status; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status | tr -d "\\t"; touch /probe 2>&1 || echo write-denied; unshare -Ur true 2>&1 || echo unshare-denied',
    ]);
    expect(r.status).toBe('succeeded');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('1001');
    expect(lines[1]).toMatch(/^CapEff:\s+0+$/);
    expect(lines[2]).toBe('lo');
    expect(lines[3]).toBe('NoNewPrivs:1');
    expect(lines[4]).toBe('Seccomp:2');
    expect(r.stdout).toContain('Read-only file system');
    expect(r.stdout).toContain('write-denied');
    // Denied by the seccomp filter (EPERM), not only by --disable-userns (ENOSPC).
    expect(r.stdout).toContain('unshare failed: Operation not permitted');
    expect(r.stdout).toContain('unshare-denied');
    expect(r.execution?.backend).toBe('bwrap');
  });

  it('gives the command a size-capped tmpfs /tmp, its own pid namespace and the image environment only', async () => {
    process.env.BASTION_LEAK_PROBE = 'host-only';
    try {
      const r = await exec(
        ['sh', '-c', 'df -k /tmp | tail -1 | tr -s " " | cut -d" " -f2; ps -eo pid= | wc -l; env | sort; ulimit -n'],
        { tmpfsBytes: 8 * 1024 * 1024 },
        { env: { FOO: 'bar' } },
      );
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe(String(8 * 1024));
      expect(Number(lines[1])).toBeLessThanOrEqual(5); // bwrap's init, sh, ps, wc (+ the pipe's subshell)
      expect(r.stdout).toContain('FOO=bar');
      expect(r.stdout).toContain('HOME=/tmp');
      expect(r.stdout).not.toContain('BASTION_LEAK_PROBE');
      expect(lines[lines.length - 1]).toBe('1024');
    } finally {
      delete process.env.BASTION_LEAK_PROBE;
    }
  });

  it("mounts the call's /tmp noexec,nosuid,nodev on the host, as Docker does, and unmounts it after the call", async () => {
    expect(executor.tmpfsRoot).not.toBeNull();
    const r = await exec([
      'sh',
      '-c',
      'grep " /tmp " /proc/self/mounts; cp /bin/true /tmp/dropped && /tmp/dropped 2>&1; echo "exec rc=$?"',
    ]);
    expect(r.error).toBeNull();
    expect(r.status).toBe('succeeded');
    expect(r.stdout).toMatch(/ \/tmp tmpfs [^ ]*\bnosuid\b[^ ]*\bnodev\b[^ ]*\bnoexec\b/);
    expect(r.stdout).toContain('Permission denied');
    expect(r.stdout).toContain('exec rc=126');
    await runtime.close();
    expect(listCallTmpfs(executor.tmpfsRoot!).filter((t) => t.sessionId === executor.identity.sessionId)).toEqual([]);
    expect(existsSync(join(executor.tmpfsRoot!, executor.identity.sessionId))).toBe(false);
  });

  it('fails SANDBOX_UNAVAILABLE, and leaves no cgroup, when the /tmp mount cannot be made', async () => {
    const broken = createBwrapExecutor({ tmpfsRoot: '/etc/hostname/not-a-directory' });
    const brokenRuntime = createRuntime({
      policy: () => createPolicyEngine(),
      audit,
      secrets: createSecretStore({ env: {} }),
      executor: broken,
    });
    try {
      const r = await execCommand(brokenRuntime.pipeline, { provider: 'exec', image: IMAGE, command: ['true'] });
      expect(r.status).toBe('failed');
      expect(r.error?.code).toBe('SANDBOX_UNAVAILABLE');
      expect(r.error?.message).toContain("cannot mount the call's /tmp");
    } finally {
      await brokenRuntime.close();
    }
    expect(sessionCgroups(broken.cgroups!, broken.identity.sessionId)).toEqual([]);
  });

  it('reports OOM_KILLED from the cgroup oom_kill counter when the command passes its memory limit', async () => {
    const r = await exec(['node', '-e', 'const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))'], {
      memoryBytes: 64 * 1024 ** 2,
    });
    expect(r.status).toBe('failed');
    expect(r.error?.code).toBe('OOM_KILLED');
    expect(r.execution?.oomKilled).toBe(true);
  });

  it('caps the number of processes (pids cgroup)', async () => {
    const r = await exec(['sh', '-c', 'for i in $(seq 40); do sleep 5 & done 2>&1 | head -1; echo done'], {
      pids: 16,
      timeoutMs: 20_000,
    });
    expect(r.stdout).toMatch(/Resource temporarily unavailable|Cannot fork/i);
  });

  it('kills the whole process tree and reports TIMEOUT within 3 s when the deadline passes', async () => {
    const t0 = Date.now();
    const r = await exec(['sh', '-c', '(sleep 600 &) ; sh -c "sleep 600" & sleep 600'], { timeoutMs: 2000 });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(r.error?.code).toBe('TIMEOUT');
    expect(r.execution?.timedOut).toBe(true);
  });

  it('reports a non-zero exit as COMMAND_FAILED with the exit code and both streams', async () => {
    const r = await exec(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r.status).toBe('failed');
    expect(r.error?.code).toBe('COMMAND_FAILED');
    expect(r.execution?.exitCode).toBe(7);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
  });

  it('mounts a host directory read-only or read-write as asked, files owned by the sandbox user', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-bwrap-'));
    try {
      // The sandbox runs as host uid 1001, as the Docker backend's containers do.
      chmodSync(dir, 0o755);
      writeFileSync(join(dir, 'in.txt'), 'hello\n');
      const roOut = collect();
      const ro = await executor.run(
        {
          correlationId: 'ro',
          image: IMAGE,
          command: ['sh', '-c', 'cat /workspace/in.txt; touch /workspace/x 2>&1 || true'],
          env: {},
          limits: limits(),
          mounts: [{ hostPath: dir, containerPath: '/workspace', readOnly: true }],
        },
        roOut,
      );
      expect(ro.exitCode).toBe(0);
      expect(text(roOut.stdout)).toMatch(/^hello\ntouch: cannot touch '\/workspace\/x': Read-only file system/);
      const out = collect();
      chmodSync(dir, 0o777);
      const rw = await executor.run(
        {
          correlationId: 'rw',
          image: IMAGE,
          command: ['sh', '-c', 'echo made > /workspace/out.txt'],
          env: {},
          limits: limits(),
          mounts: [{ hostPath: dir, containerPath: '/workspace', readOnly: false }],
        },
        out,
      );
      expect(rw.exitCode).toBe(0);
      expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('made\n');
      expect(statSync(join(dir, 'out.txt')).uid).toBe(1001);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('binds a per-call directory that sits in a private (0700, root) runtime directory, and only that directory', async () => {
    if (executor.tmpfsRoot === null) return; // a non-root runtime owns its runtime directory itself
    const privateDir = mkdtempSync(join(tmpdir(), 'bastion-private-'));
    try {
      chmodSync(privateDir, 0o700);
      const callDir = join(privateDir, 'gw-1');
      const sibling = join(privateDir, 'gw-2');
      for (const d of [callDir, sibling]) {
        mkdirSync(d, { mode: 0o700 });
        chownSync(d, 1001, 1001);
        writeFileSync(join(d, 'name'), `${d}\n`);
      }
      const out = collect();
      const r = await executor.run(
        {
          correlationId: 'private',
          image: IMAGE,
          command: ['sh', '-c', 'cat /run/bastion/name; ls /run/bastion'],
          env: {},
          limits: limits(),
          mounts: [{ hostPath: callDir, containerPath: '/run/bastion', readOnly: true }],
        },
        out,
      );
      expect(r.exitCode).toBe(0);
      expect(text(out.stdout)).toBe(`${callDir}\nname\n`);
      await executor.close();
      expect(listCallTmpfs(executor.tmpfsRoot)).toEqual([]);
    } finally {
      rmSync(privateDir, { recursive: true, force: true });
    }
  });
});

describeWithBwrap('bwrap executor: the launcher parked ahead of a call (real bubblewrap and cgroups)', () => {
  let executor: BwrapExecutor;
  beforeEach(() => (executor = createBwrapExecutor()));
  afterEach(async () => {
    await executor.close();
    expect(sessionCgroups(executor.cgroups!, executor.identity.sessionId)).toEqual([]);
  });

  /** Pids in the session's only group, with that group's name. */
  const parkedGroup = () => {
    const names = sessionCgroups(executor.cgroups!, executor.identity.sessionId);
    expect(names).toHaveLength(1);
    const procs = join(executor.cgroups!.roots.pids, executor.identity.sessionId, names[0]!, 'cgroup.procs');
    return { name: names[0]!, pids: readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number) };
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  /** The memory limit the group has while the call runs, read on the host. */
  let memoryLimit: string | undefined;
  const run = (timeoutMs = 10_000) => {
    const out = collect();
    const layout = executor.cgroups!;
    return executor
      .run(
        {
          correlationId: 'parked',
          image: IMAGE,
          command: ['sh', '-c', 'ulimit -n; ls /proc/self/fd'],
          env: {},
          limits: { ...limits(), timeoutMs },
          mounts: [],
        },
        {
          ...out,
          onStarted: () => {
            const dir = join(layout.roots.memory, executor.identity.sessionId, parkedGroup().name);
            memoryLimit = readFileSync(
              join(dir, layout.version === 1 ? 'memory.limit_in_bytes' : 'memory.max'),
              'utf8',
            ).trim();
          },
        },
      )
      .then((r) => ({ ...r, stdout: text(out.stdout) }));
  };

  it('parks the launcher in its own group before the call, and the call runs in that group with its limits', async () => {
    executor.prestart();
    executor.prestart(); // idempotent while one is parked
    const parked = parkedGroup();
    expect(parked.name).toMatch(/^1-\d+$/);
    // The launcher, and the cat it waits on, already joined: the join is done before the call.
    await waitFor(() => parkedGroup().pids.length >= 1);
    const r = await run();
    expect(r.exitCode).toBe(0);
    expect(r.sandboxId).toMatch(/-1$/);
    expect(memoryLimit).toBe(String(limits().memoryBytes));
    const [nofile, ...fds] = r.stdout.trim().split('\n');
    expect(nofile).toBe(String(limits().nofile));
    // The launcher's script fd (5) does not reach the command, nor bwrap's seccomp fd (4).
    expect(fds).toEqual(expect.arrayContaining(['0', '1', '2']));
    expect(fds).not.toContain('4');
    expect(fds).not.toContain('5');
  });

  it('close() without a call ends the parked launcher with nothing run and removes its group', async () => {
    executor.prestart();
    await waitFor(() => parkedGroup().pids.length >= 1);
    const { pids } = parkedGroup();
    await executor.close();
    expect(sessionCgroups(executor.cgroups!, executor.identity.sessionId)).toEqual([]);
    expect(pids.filter(alive)).toEqual([]);
  });

  it('gives a call whose deadline outlives the parked group its own group, and removes the parked one', async () => {
    executor.prestart();
    const r = await run(2 * 60 * 60_000);
    expect(r.exitCode).toBe(0);
    expect(r.sandboxId).toMatch(/-2$/);
  });

  it("a long-lived executor (keepParked) parks the next call's launcher after each call", async () => {
    await executor.close();
    executor = createBwrapExecutor({ keepParked: true });
    executor.prestart();
    expect((await run()).sandboxId).toMatch(/-1$/);
    const only = (re: RegExp) => {
      const names = sessionCgroups(executor.cgroups!, executor.identity.sessionId);
      return names.length === 1 && re.test(names[0]!);
    };
    // The call's group is removed and the next launcher sits joined in group 2 before any call asks.
    await waitFor(() => only(/^2-\d+$/) && parkedGroup().pids.length >= 1);
    const r = await run();
    expect(r.exitCode).toBe(0);
    expect(r.sandboxId).toMatch(/-2$/);
    expect(memoryLimit).toBe(String(limits().memoryBytes));
    await waitFor(() => only(/^3-\d+$/));
    // afterEach: close() ends the spare and leaves no group.
  });

  it('a one-shot executor parks nothing after its call', async () => {
    executor.prestart();
    expect((await run()).exitCode).toBe(0);
    await waitFor(() => sessionCgroups(executor.cgroups!, executor.identity.sessionId).length === 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(sessionCgroups(executor.cgroups!, executor.identity.sessionId)).toEqual([]);
  });

  it('replaces a parked launcher that died before its call', async () => {
    executor.prestart();
    await waitFor(() => parkedGroup().pids.length >= 1);
    for (const pid of parkedGroup().pids) process.kill(pid, 'SIGKILL');
    await waitFor(() => parkedGroup().pids.length === 0);
    await new Promise((r) => setTimeout(r, 50)); // the exit reaches the runtime
    const r = await run();
    expect(r.exitCode).toBe(0);
    expect(r.sandboxId).toMatch(/-2$/);
  });
});

async function waitFor(cond: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function limits() {
  return {
    memoryBytes: 256 * 1024 ** 2,
    cpus: 1,
    pids: 32,
    nofile: 1024,
    tmpfsBytes: 16 * 1024 ** 2,
    timeoutMs: 10_000,
    outputBytes: 1 << 20,
  };
}

function collect() {
  const out = { stdout: [] as Uint8Array[], stderr: [] as Uint8Array[] };
  return {
    ...out,
    onStdout: (c: Uint8Array) => void out.stdout.push(c),
    onStderr: (c: Uint8Array) => void out.stderr.push(c),
  };
}

function text(chunks: Uint8Array[] | string): string {
  return typeof chunks === 'string' ? chunks : Buffer.concat(chunks).toString('utf8');
}
