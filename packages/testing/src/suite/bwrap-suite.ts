import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bwrapAvailability, listCallGroups, listCallTmpfs, resolveRootfs, type BwrapExecutor } from '@bastion/sandbox';

const REPO = join(__dirname, '../../../..');

/**
 * Why the bwrap backend cannot run `images` here (no bubblewrap or cgroups, a root filesystem that
 * cannot be unpacked), or undefined. ops/docker/rootfs.sh runs for every image, present or not: it
 * keeps the cache keyed by the image's recipe (~80 ms when up to date), so a suite never runs a
 * tree unpacked from an older build of the image it names.
 */
export function bwrapProblem(images: readonly string[]): string | undefined {
  const available = bwrapAvailability();
  if (!available.ok) return available.reason;
  for (const image of images) {
    try {
      execFileSync('bash', [join(REPO, 'ops/docker/rootfs.sh'), image], {
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 600_000,
      });
      resolveRootfs(image);
    } catch (err) {
      return `ops/docker/rootfs.sh ${image} failed: ${String((err as { stderr?: Buffer }).stderr ?? err)
        .trim()
        .split('\n')
        .pop()}`;
    }
  }
  return undefined;
}

/** Per-call /tmp mounts this executor's session still has on the host: a leak if non-empty. */
export function leftoverTmpfs(executor: BwrapExecutor): string[] {
  if (executor.tmpfsRoot === null) return [];
  return listCallTmpfs(executor.tmpfsRoot)
    .filter((t) => t.sessionId === executor.identity.sessionId)
    .map((t) => t.dir);
}

/** Per-call cgroups this executor's session still has, in any hierarchy: a leak if non-empty. */
export function leftoverCgroups(executor: BwrapExecutor): string[] {
  if (!executor.cgroups) return [];
  return listCallGroups(executor.cgroups)
    .filter((g) => g.sessionId === executor.identity.sessionId)
    .map((g) => g.name);
}

/**
 * bubblewrap processes still alive. (A sandboxed process that outlived its call would also keep
 * its call cgroup, which cannot be removed while it has members, so leftoverCgroups sees it too.)
 */
export function bwrapProcesses(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'bwrap') out.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}
