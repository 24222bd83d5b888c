import Dockerode from 'dockerode';
import { existsSync, readdirSync } from 'node:fs';
import { runDoctor } from './doctor';
import { engineCgroupCheck, hostCgroupCheck } from './cgroup-checks';
import { detectCgroupLayout } from '@bastion/sandbox';

describe('bastion doctor', () => {
  it('names the socket it tried when the engine is unreachable, with the fix', async () => {
    const docker = new Dockerode({ socketPath: '/tmp/bastion-doctor-no-such.sock' });
    const checks = await runDoctor({ docker });
    const engine = checks.find((c) => c.name === 'docker engine')!;
    expect(engine.status).toBe('fail');
    expect(engine.detail).toBe('unreachable at unix:///tmp/bastion-doctor-no-such.sock (ENOENT)');
    expect(engine.fix).toMatch(/ensure-engine\.sh.*DOCKER_HOST/);
  });

  it('fails the engine cgroup check when the engine cannot enforce a limit Bastion sets', () => {
    const ok = engineCgroupCheck({
      CgroupVersion: '2',
      CgroupDriver: 'systemd',
      MemoryLimit: true,
      SwapLimit: true,
      PidsLimit: true,
      CpuCfsQuota: true,
    });
    expect(ok.status).toBe('ok');
    const noSwap = engineCgroupCheck({
      CgroupVersion: '1',
      CgroupDriver: 'cgroupfs',
      MemoryLimit: true,
      SwapLimit: false,
      PidsLimit: true,
      CpuCfsQuota: true,
    });
    expect(noSwap).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('cannot enforce: swap limit'),
      fix: expect.stringContaining('swapaccount=1'),
    });
  });

  it('reports the bwrap backend cgroups as unusable when none can be found', async () => {
    const check = await hostCgroupCheck(() => ({ unavailable: 'no cgroup v2 mount offers memory, pids and cpu' }));
    expect(check).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('cannot limit memory'),
      fix: expect.stringContaining('cgroup'),
    });
  });

  it('creates a limited probe cgroup for the bwrap backend for real, and removes it', async () => {
    const layout = detectCgroupLayout();
    if ('unavailable' in layout) throw new Error(`this host has no usable cgroups: ${layout.unavailable}`);
    const before = existsSync(layout.roots.memory) ? readdirSync(layout.roots.memory) : [];
    const check = await hostCgroupCheck();
    // On this kind of host (root, a writable nested cgroup) the probe succeeds; elsewhere it must say why.
    if (check.status === 'ok') expect(check.detail).toMatch(/created a probe group .* and removed it/);
    else expect(check.fix).toMatch(/Delegate=yes|cgroup/);
    const after = existsSync(layout.roots.memory) ? readdirSync(layout.roots.memory) : [];
    expect(after.filter((d) => d.startsWith('doctor-'))).toEqual(before.filter((d) => d.startsWith('doctor-')));
  });
});
