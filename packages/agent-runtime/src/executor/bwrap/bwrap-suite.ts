import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bwrapAvailability } from './bwrap-executor';
import type { CgroupLayout } from './cgroups';
import { imageSlug, DEFAULT_ROOTFS_DIR } from './rootfs';

const REPO = join(__dirname, '../../../../..');

/** Unpacks the image's rootfs (via ops/docker/rootfs.sh) when it is not there yet; returns why not. */
export function ensureRootfs(image = 'bastion/sandbox:latest'): string | null {
  const dir = process.env.BASTION_ROOTFS_DIR ?? DEFAULT_ROOTFS_DIR;
  if (existsSync(join(dir, imageSlug(image), 'image.json'))) return null;
  try {
    execFileSync('bash', [join(REPO, 'ops/docker/rootfs.sh'), image], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 600_000 });
    return null;
  } catch (err) {
    return `ops/docker/rootfs.sh ${image} failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim().split('\n').pop()}`;
  }
}

/**
 * Like describeWithDocker: the bwrap suites need bubblewrap, cgroups and the unpacked sandbox
 * rootfs. Locally they skip with a loud notice; under CI=true a missing piece fails the suite.
 */
export function describeWithBwrap(name: string, body: () => void): void {
  const available = bwrapAvailability();
  const reason = available.ok ? ensureRootfs() : available.reason;
  if (reason === null) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs bubblewrap, cgroups and the sandbox rootfs (CI=true: missing is a failure, not a skip)', () => {
        throw new Error(reason);
      });
    });
    return;
  }
  console.warn(`\n!!! SKIPPING "${name}": ${reason}. Under CI=true this fails.\n`);
  describe.skip(name, body);
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
