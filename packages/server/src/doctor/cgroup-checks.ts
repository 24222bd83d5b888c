import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createCallCgroup,
  detectCgroupLayout,
  ensureSessionCgroup,
  removeSessionDirs,
  type CgroupLayout,
} from '@bastion/sandbox';
import type { DoctorCheck } from './doctor-check';

/** What the engine says it can enforce (docker info); a false one means a limit Bastion sets is silently ignored. */
export interface EngineCgroupInfo {
  CgroupVersion?: string;
  CgroupDriver?: string;
  MemoryLimit?: boolean;
  SwapLimit?: boolean;
  PidsLimit?: boolean;
  CpuCfsQuota?: boolean;
}

/**
 * The engine's cgroup support, limit by limit: the Docker backend sets memory = memory+swap,
 * a pids limit and a CPU quota on every sandbox, and an engine without one of them accepts the
 * setting and enforces nothing.
 */
export function engineCgroupCheck(info: EngineCgroupInfo): DoctorCheck {
  const missing = (
    [
      ['memory limit', info.MemoryLimit],
      ['swap limit', info.SwapLimit],
      ['pids limit', info.PidsLimit],
      ['CPU quota', info.CpuCfsQuota],
    ] as const
  )
    .filter(([, supported]) => supported !== true)
    .map(([name]) => name);
  const where = `cgroup v${info.CgroupVersion ?? '?'} via ${info.CgroupDriver ?? '?'}`;
  if (missing.length === 0)
    return { name: 'cgroups (engine)', status: 'ok', detail: `${where}; enforces memory, swap, pids and CPU limits` };
  return {
    name: 'cgroups (engine)',
    status: 'fail',
    detail: `${where}; the engine cannot enforce: ${missing.join(', ')}`,
    fix: missing.includes('swap limit')
      ? 'boot the host with cgroup v2 (systemd.unified_cgroup_hierarchy=1), or on cgroup v1 add swapaccount=1 to the kernel command line, then restart dockerd'
      : 'run dockerd on a host with the memory, pids and cpu cgroup controllers enabled (cgroup v2 recommended), then restart it',
  };
}

/**
 * The bubblewrap backend's cgroups, tried for real: a probe group below this process's own cgroup
 * with the limits a call gets, read back and removed. Passing means `--backend bwrap` can bound a call.
 */
export async function hostCgroupCheck(
  detect: () => CgroupLayout | { unavailable: string } = detectCgroupLayout,
): Promise<DoctorCheck> {
  const name = 'cgroups (bwrap backend)';
  const layout = detect();
  if ('unavailable' in layout) {
    return {
      name,
      status: 'warn',
      detail: `${layout.unavailable}; --backend bwrap cannot limit memory, pids or CPU`,
      fix: 'mount cgroup v2 at /sys/fs/cgroup with the memory, pids and cpu controllers, or the v1 hierarchies',
    };
  }
  const session = `doctor-${process.pid}-${randomBytes(3).toString('hex')}`;
  const memoryBytes = 64 * 1024 * 1024;
  try {
    ensureSessionCgroup(layout, session);
    // The expiry in the name lets the reaper remove the probe if this process dies before it does.
    const group = createCallCgroup(layout, session, `1-${Date.now() + 60_000}`, { memoryBytes, pids: 16, cpus: 0.5 });
    try {
      const file = layout.version === 2 ? 'memory.max' : 'memory.limit_in_bytes';
      const readBack = Number(readFileSync(join(layout.roots.memory, group.name, file), 'utf8').trim());
      if (readBack !== memoryBytes) {
        return {
          name,
          status: 'warn',
          detail: `a probe group's memory limit reads back as ${readBack}, not ${memoryBytes}`,
          fix: 'check that the memory controller is enabled in this cgroup subtree (cgroup.subtree_control)',
        };
      }
    } finally {
      await group.remove();
    }
    return {
      name,
      status: 'ok',
      detail: `cgroup v${layout.version}: created a probe group under ${layout.roots.memory} with memory, pids and CPU limits and removed it`,
    };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return {
      name,
      status: 'warn',
      detail: `cannot create a limited cgroup under ${layout.roots.memory} (${code}); --backend bwrap would fail its calls`,
      fix: 'run bastion as root, or delegate a writable cgroup subtree to its user (systemd: Delegate=yes, or `systemd-run --user --scope -p Delegate=yes bastion …`)',
    };
  } finally {
    try {
      removeSessionDirs(layout, session);
    } catch (err) {
      // Left for the reaper (the name carries its expiry); the check's verdict stands.
      process.emitWarning(`doctor: could not remove probe cgroup ${session}: ${(err as Error).message}`);
    }
  }
}
