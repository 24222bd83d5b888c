import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bwrapAvailability } from '../bwrap/bwrap-executor';
import type { CgroupLayout } from '../bwrap/cgroups';
import { describeWhenAvailable } from './docker-suite';
import { SANDBOX_IMAGE } from '../images';

const REPO = join(__dirname, '../../../..');

/**
 * Brings the image's rootfs up to date (ops/docker/rootfs.sh, keyed by the image's recipe; ~80 ms
 * when it already is), so a suite never runs a tree unpacked from an older build; returns why not.
 */
export function ensureRootfs(image = SANDBOX_IMAGE): string | null {
  try {
    execFileSync('bash', [join(REPO, 'ops/docker/rootfs.sh'), image], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 600_000,
    });
    return null;
  } catch (err) {
    return `ops/docker/rootfs.sh ${image} failed: ${String((err as { stderr?: Buffer }).stderr ?? err)
      .trim()
      .split('\n')
      .pop()}`;
  }
}

/** The bwrap suites need bubblewrap, cgroups and the unpacked sandbox rootfs (see describeWhenAvailable). */
export function describeWithBwrap(name: string, body: () => void): void {
  const available = bwrapAvailability();
  describeWhenAvailable(name, available.ok ? ensureRootfs() : available.reason, body);
}

/** Call cgroups a session still has, in any hierarchy: what "nothing leaked" means for bwrap. */
export function sessionCgroups(layout: CgroupLayout, sessionId: string): string[] {
  const out = new Set<string>();
  for (const root of Object.values(layout.roots)) {
    const dir = join(root, sessionId);
    if (!existsSync(dir)) continue;
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.add(e.name);
  }
  return [...out];
}
