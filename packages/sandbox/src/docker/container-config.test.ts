import { containerCreateOptions } from './container-config';
import { SANDBOX_IMAGE } from '../images';

const limits = {
  memoryBytes: 256 * 1024 ** 2,
  cpus: 0.5,
  pids: 32,
  nofile: 1024,
  tmpfsBytes: 64 * 1024 ** 2,
  timeoutMs: 1000,
  outputBytes: 1024,
};

describe('hardened container definition', () => {
  const opts = containerCreateOptions(
    {
      correlationId: 'c',
      image: SANDBOX_IMAGE,
      command: ['true'],
      env: { A: 'b' },
      limits,
      mounts: [{ hostPath: '/w', containerPath: '/workspace', readOnly: true }],
    },
    { 'dev.bastion.managed': 'true' },
  );

  it('runs as 1001 with no capabilities, no privilege gain, a read-only root and no network', () => {
    expect(opts.User).toBe('1001:1001');
    expect(opts.HostConfig?.CapDrop).toEqual(['ALL']);
    expect(opts.HostConfig?.ReadonlyRootfs).toBe(true);
    expect(opts.HostConfig?.NetworkMode).toBe('none');
    expect(opts.NetworkDisabled).toBe(true);
    expect(opts.HostConfig?.SecurityOpt?.[0]).toBe('no-new-privileges:true');
    expect(opts.HostConfig?.Privileged).toBe(false);
  });

  it('sets memory and memory+swap equal, CPU quota, pids, nofile, a capped noexec tmpfs and hides the cgroup tree', () => {
    expect(opts.HostConfig?.Memory).toBe(limits.memoryBytes);
    expect(opts.HostConfig?.MemorySwap).toBe(limits.memoryBytes);
    expect(opts.HostConfig?.NanoCpus).toBe(5e8);
    expect(opts.HostConfig?.PidsLimit).toBe(32);
    expect(opts.HostConfig?.Ulimits).toEqual([{ Name: 'nofile', Soft: 1024, Hard: 1024 }]);
    expect(opts.HostConfig?.Tmpfs?.['/tmp']).toBe('rw,nosuid,nodev,noexec,size=67108864,mode=1777');
    expect(opts.HostConfig?.Tmpfs?.['/sys/fs/cgroup']).toBe('ro,nosuid,nodev,noexec,size=4k');
    expect(opts.HostConfig?.Binds).toEqual(['/w:/workspace:ro']);
  });

  it('embeds our seccomp profile that denies namespaces, io_uring, bpf, keyrings and clone3 (ENOSYS)', () => {
    const raw = opts.HostConfig!.SecurityOpt!.find((o: string) => o.startsWith('seccomp='))!;
    const profile = JSON.parse(raw.slice('seccomp='.length)) as {
      syscalls: { names: string[]; action: string; errnoRet?: number; args?: unknown[] }[];
    };
    const allowed = new Set(
      profile.syscalls.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args?.length).flatMap((s) => s.names),
    );
    for (const name of [
      'unshare',
      'setns',
      'clone',
      'clone3',
      'io_uring_setup',
      'userfaultfd',
      'perf_event_open',
      'bpf',
      'keyctl',
      'add_key',
      'request_key',
      'mount',
      'ptrace',
    ]) {
      expect(allowed.has(name)).toBe(false);
    }
    expect(profile.syscalls.find((s) => s.names.includes('clone3'))).toMatchObject({
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 38,
    });
    expect(profile.syscalls.find((s) => s.names.includes('clone') && s.action === 'SCMP_ACT_ALLOW')?.args).toEqual([
      { index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' },
    ]);
  });
});
