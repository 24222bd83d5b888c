import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesystemPolicy } from '@bastion/policy';
import { COPY_FS_SOURCE, sweepStaleCopies } from './copy-filesystem';
import { createWorkspaceProvisioner, workspaceCopyInfo } from './workspace-provisioner';

const isRoot = process.getuid?.() === 0;
const mounted = (dir: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === dir && l.includes(COPY_FS_SOURCE));
const caps = (over: Partial<FilesystemPolicy> = {}) => ({ ...FilesystemPolicy.parse({}), ...over });

describe('workspace copy provisioning', () => {
  let root: string;
  let ws: string;
  let scratch: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'bastion-prov-'));
    ws = join(root, 'ws');
    scratch = join(root, 'copies');
    mkdirSync(join(ws, 'src'), { recursive: true });
    mkdirSync(scratch, { mode: 0o700 });
    writeFileSync(join(ws, 'src/app.ts'), 'export {};\n', { mode: 0o644 });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('leaves out what other users may not read (a 0600 file of another user, a 0700 directory) before the agent exists', async () => {
    writeFileSync(join(ws, 'secret.key.txt'), 'root-only\n', { mode: 0o600 });
    mkdirSync(join(ws, 'private'), { mode: 0o700 });
    writeFileSync(join(ws, 'private/readable.txt'), 'inside a closed dir\n', { mode: 0o644 });
    writeFileSync(join(ws, 'group-only.txt'), 'group\n', { mode: 0o640 });
    if (isRoot) chownSync(join(ws, 'secret.key.txt'), 0, 0);
    const att = await createWorkspaceProvisioner({ scratchDir: scratch }).attach(
      { hostPath: ws, access: 'copy' },
      { correlationId: 'c1' },
    );
    try {
      const copy = att.copyDir!;
      expect(readdirSync(copy).sort()).toEqual(['src']);
      expect(readFileSync(join(copy, 'src/app.ts'), 'utf8')).toBe('export {};\n');
      expect([...workspaceCopyInfo(copy)!.hidden].sort()).toEqual(['group-only.txt', 'private', 'secret.key.txt']);
      if (isRoot) expect(lstatSync(join(copy, 'src/app.ts')).uid).toBe(1001);
    } finally {
      await att.close();
    }
  });

  it('puts the copy on its own filesystem sized by maxTotalBytes and maxFiles, and removes it on close', async () => {
    const att = await createWorkspaceProvisioner({ scratchDir: scratch }).attach(
      { hostPath: ws, access: 'copy' },
      { correlationId: 'c2', filesystem: caps({ maxTotalBytes: 4 * 1024 * 1024, maxFiles: 50 }) },
    );
    const callDir = join(att.copyDir!, '..');
    expect(mounted(callDir)).toBe(true);
    // Room for the cap plus a little slack, never more.
    expect(() => writeFileSync(join(att.copyDir!, 'big'), Buffer.alloc(8 * 1024 * 1024))).toThrow(/ENOSPC|no space/i);
    rmSync(join(att.copyDir!, 'big'), { force: true });
    let made = 0;
    expect(() => {
      for (; made < 1000; made++) writeFileSync(join(att.copyDir!, `f${made}`), '');
    }).toThrow(/ENOSPC|no space/i);
    expect(made).toBeGreaterThanOrEqual(50);
    expect(made).toBeLessThan(200);
    await att.close();
    await att.close();
    expect(mounted(callDir)).toBe(false);
    expect(existsSync(callDir)).toBe(false);
    expect(workspaceCopyInfo(att.copyDir!)).toBeUndefined();
  });

  it('sweeps copies whose process is gone, and keeps a live one', async () => {
    const live = await createWorkspaceProvisioner({ scratchDir: scratch }).attach(
      { hostPath: ws, access: 'copy' },
      { correlationId: 'c3' },
    );
    const stale = join(scratch, 'ws-999999999-1-abc123');
    mkdirSync(stale);
    if (isRoot) {
      // What a killed runtime leaves: a mounted copy nobody will close.
      const { mountCopyFs } = await import('./copy-filesystem');
      await mountCopyFs(stale, { bytes: 1 << 20, inodes: 100 }, { uid: 0, gid: 0 });
      writeFileSync(join(stale, 'left-behind'), 'x');
    }
    try {
      expect(await sweepStaleCopies(scratch)).toEqual([stale]);
      expect(existsSync(stale)).toBe(false);
      expect(mounted(stale)).toBe(false);
      expect(existsSync(live.copyDir!)).toBe(true);
    } finally {
      await live.close();
    }
  });

  it('mounts the workspace itself read-only for read-only access, without copying', async () => {
    const att = await createWorkspaceProvisioner({ scratchDir: scratch }).attach(
      { hostPath: ws, access: 'read-only' },
      { correlationId: 'c4' },
    );
    expect(att.mounts).toEqual([{ hostPath: ws, containerPath: '/workspace', readOnly: true }]);
    expect(readdirSync(scratch)).toEqual([]);
    chmodSync(ws, 0o755);
    await att.close();
  });
});
