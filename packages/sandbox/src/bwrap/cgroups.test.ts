import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSessionCgroup, resolveCgroupLayout } from './cgroups';

const V1_MOUNTS = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const V1_SELF = `8:pids:/
4:memory:/process_api/abc
1:cpu:/
0::/
`;

describe('cgroup layout', () => {
  it('puts bastion/ under the nested memory cgroup this process sits in (v1, hybrid host)', () => {
    expect(resolveCgroupLayout(V1_SELF, V1_MOUNTS, () => [])).toEqual({
      version: 1,
      roots: {
        memory: '/sys/fs/cgroup/memory/process_api/abc/bastion',
        pids: '/sys/fs/cgroup/pids/bastion',
        cpu: '/sys/fs/cgroup/cpu/bastion',
      },
    });
  });

  it('strips the mount root when the hierarchy is mounted from inside a container', () => {
    const mounts = V1_MOUNTS.replace(
      '35 31 0:32 / /sys/fs/cgroup/memory',
      '35 31 0:32 /process_api /sys/fs/cgroup/memory',
    );
    const layout = resolveCgroupLayout(V1_SELF, mounts, () => []);
    expect('roots' in layout && layout.roots.memory).toBe('/sys/fs/cgroup/memory/abc/bastion');
  });

  it('uses a unified hierarchy that delegates memory, pids and cpu', () => {
    const layout = resolveCgroupLayout(
      '0::/user.slice/app\n',
      '30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n',
      () => ['cpu', 'memory', 'pids'],
    );
    expect(layout).toEqual({
      version: 2,
      roots: {
        memory: '/sys/fs/cgroup/user.slice/app/bastion',
        pids: '/sys/fs/cgroup/user.slice/app/bastion',
        cpu: '/sys/fs/cgroup/user.slice/app/bastion',
      },
    });
  });

  it('says why when the controllers are missing', () => {
    expect(
      resolveCgroupLayout('0::/\n', '30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n', () => ['cpu']),
    ).toEqual({
      unavailable: expect.stringContaining('memory, pids'),
    });
  });
});

describe('cgroup directories', () => {
  it("are 0755 under a runtime's umask 077, so a launcher running as the sandbox user reaches cgroup.procs", () => {
    const base = mkdtempSync(join(tmpdir(), 'bastion-cg-'));
    const roots = {
      memory: join(base, 'memory/bastion'),
      pids: join(base, 'pids/bastion'),
      cpu: join(base, 'cpu/bastion'),
    };
    const old = process.umask(0o077);
    try {
      ensureSessionCgroup({ version: 1, roots }, 'session-1');
    } finally {
      process.umask(old);
    }
    try {
      for (const root of Object.values(roots)) {
        expect((statSync(root).mode & 0o777).toString(8)).toBe('755');
        expect((statSync(join(root, 'session-1')).mode & 0o777).toString(8)).toBe('755');
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
