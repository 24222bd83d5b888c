import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithDocker } from '../test-support/docker-suite';
import { SANDBOX_IMAGE } from '../images';

const REPO = join(__dirname, '../../../..');

/** A cached tree as ops/docker/rootfs.sh leaves it: <recipe>/image.json and <recipe>/root/usr. */
function fakeTree(dir: string, recipe: string, retiredMinutesAgo?: number): string {
  const tree = join(dir, recipe);
  mkdirSync(join(tree, 'root/usr'), { recursive: true });
  writeFileSync(join(tree, 'image.json'), '{}');
  if (retiredMinutesAgo !== undefined) {
    writeFileSync(join(tree, 'retired'), '');
    const at = new Date(Date.now() - retiredMinutesAgo * 60_000);
    utimesSync(join(tree, 'retired'), at, at);
  }
  return tree;
}

describeWithDocker('ops/docker/rootfs.sh prunes trees no image uses any more', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-rootfs-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const rootfs = (env: Record<string, string> = {}) =>
    execFileSync('bash', [join(REPO, 'ops/docker/rootfs.sh'), SANDBOX_IMAGE], {
      env: { ...process.env, BASTION_ROOTFS_DIR: dir, ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 300_000,
    }).trim();

  it('marks a newly unused tree, removes one unused for longer than the grace, keeps linked ones', () => {
    const old = fakeTree(dir, 'aaaaaaaaaaaaaaaa', 120);
    const fresh = fakeTree(dir, 'bbbbbbbbbbbbbbbb');
    const linked = fakeTree(dir, 'cccccccccccccccc', 120);
    symlinkSync('cccccccccccccccc', join(dir, 'other_image_latest'));
    mkdirSync(join(dir, 'not-a-recipe'));

    const root = rootfs();
    expect(existsSync(join(root, 'usr/local/bin/node'))).toBe(true);
    const current = readlinkSync(join(dir, 'bastion_sandbox_latest'));
    expect(root).toBe(join(dir, current, 'root'));
    expect(existsSync(join(dir, current, 'retired'))).toBe(false);

    expect(existsSync(old)).toBe(false);
    expect(existsSync(join(fresh, 'retired'))).toBe(true);
    // Linked again (an image rebuilt back to that recipe): no longer retired.
    expect(existsSync(linked)).toBe(true);
    expect(existsSync(join(linked, 'retired'))).toBe(false);
    expect(existsSync(join(dir, 'not-a-recipe'))).toBe(true);
  });

  it('removes a retired tree on an up-to-date run once the grace has passed, not before', () => {
    const fresh = join(dir, 'bbbbbbbbbbbbbbbb');
    rootfs();
    expect(existsSync(fresh)).toBe(true);
    const at = new Date(Date.now() - 61 * 60_000);
    utimesSync(join(fresh, 'retired'), at, at);
    rootfs({ BASTION_ROOTFS_KEEP_MINUTES: '90' });
    expect(existsSync(fresh)).toBe(true);
    rootfs();
    expect(existsSync(fresh)).toBe(false);
    expect(existsSync(join(dir, 'cccccccccccccccc'))).toBe(true);
  });

  it('refuses a grace that is not a whole number of minutes', () => {
    expect(() => rootfs({ BASTION_ROOTFS_KEEP_MINUTES: '1h' })).toThrow(/whole number of minutes/);
  });
});
