import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BastionError } from '@bastion/core';
import type { ExecutorRequest } from '../executor';
import { CallMounts, reachableBy } from './call-mounts';
import type { TmpfsMounter } from './call-tmpfs';

/** Records what the mounter was asked to do; the mounts themselves need root and are covered by the int suites. */
function recordingMounter(fail?: (dir: string) => Error | undefined) {
  const calls: string[] = [];
  const mounter: TmpfsMounter = {
    mount: async (dir, size) => {
      calls.push(`mount ${dir} ${size}`);
      const err = fail?.(dir);
      if (err) throw err;
    },
    bind: async (source, dir) => void calls.push(`bind ${source} ${dir}`),
    unmount: async (dir) => {
      calls.push(`unmount ${dir}`);
      const err = fail?.(`unmount ${dir}`);
      if (err) throw err;
    },
    warm: () => void calls.push('warm'),
    close: () => void calls.push('close'),
  };
  return { mounter, calls };
}

const request = (mounts: ExecutorRequest['mounts'] = []) =>
  ({ mounts, limits: { tmpfsBytes: 1024 } }) as unknown as ExecutorRequest;

describe('call mounts', () => {
  let scratch: string;
  beforeEach(() => (scratch = mkdtempSync(join(tmpdir(), 'call-mounts-'))));
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it("mounts the call's /tmp and /dev/shm under names carrying its expiry, and unmounts them on release", async () => {
    const { mounter, calls } = recordingMounter();
    const m = new CallMounts('/run/t', 'sess', () => undefined, mounter);
    const staged = m.stage(7, 5000, request());
    expect(staged.tmpDir).toBe('/run/t/sess/7-5000');
    expect(staged.shmDir).toBe('/run/t/sess/7s-5000');
    expect(await staged.ready).toBeUndefined();
    await staged.release();
    expect(calls).toEqual([
      'mount /run/t/sess/7-5000 1024',
      'mount /run/t/sess/7s-5000 1024',
      'unmount /run/t/sess/7-5000',
      'unmount /run/t/sess/7s-5000',
    ]);
  });

  it('stages a mounted directory the sandbox user cannot reach, and passes a reachable one as is', async () => {
    const hidden = join(scratch, 'private');
    mkdirSync(join(hidden, 'inner'), { recursive: true });
    chmodSync(hidden, 0o700);
    const open = join(scratch, 'open');
    mkdirSync(open);
    chmodSync(scratch, 0o755);
    const { mounter, calls } = recordingMounter();
    const m = new CallMounts('/run/t', 'sess', () => undefined, mounter);
    const staged = m.stage(
      1,
      9,
      request([
        { hostPath: join(hidden, 'inner'), containerPath: '/a', readOnly: true },
        { hostPath: open, containerPath: '/b', readOnly: true },
      ]),
    );
    await staged.ready;
    expect(staged.mounts.map((x) => x.hostPath)).toEqual(['/run/t/sess/1m0-9', open]);
    expect(calls).toContain(`bind ${join(hidden, 'inner')} /run/t/sess/1m0-9`);
  });

  it('hands a failed mount back as data so the call can clean up before it fails', async () => {
    const boom = new Error('mount: permission denied\nmore');
    const { mounter } = recordingMounter((dir) => (dir.endsWith('s-1') ? boom : undefined));
    const staged = new CallMounts('/run/t', 'sess', () => undefined, mounter).stage(2, 1, request());
    expect(await staged.ready).toBe(boom);
  });

  it('stages nothing for a runtime that cannot mount: bwrap makes its own /tmp', async () => {
    const { mounter, calls } = recordingMounter();
    const reqMounts = [{ hostPath: '/nonexistent', containerPath: '/a', readOnly: true }];
    const staged = new CallMounts(null, 'sess', () => undefined, mounter).stage(1, 1, request(reqMounts));
    expect(staged.tmpDir).toBeUndefined();
    expect(staged.mounts).toBe(reqMounts);
    expect(await staged.ready).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it('warm() starts the mount helper ahead of the first call, and only where the runtime can mount', () => {
    const can = recordingMounter();
    new CallMounts(scratch, 'sess', () => undefined, can.mounter).warm();
    expect(can.calls).toEqual(['warm']);
    const cannot = recordingMounter();
    new CallMounts(null, 'sess', () => undefined, cannot.mounter).warm();
    expect(cannot.calls).toEqual([]);
  });

  it('close() retries what a failed release left mounted, and removes the empty session directory', async () => {
    let busy = true;
    const { mounter, calls } = recordingMounter((what) =>
      busy && what === `unmount ${join(scratch, 'sess', '3-1')}` ? new Error('busy') : undefined,
    );
    const reported: string[] = [];
    const m = new CallMounts(scratch, 'sess', (e: BastionError, id) => reported.push(`${e.code} ${id}`), mounter);
    mkdirSync(join(scratch, 'sess'));
    const staged = m.stage(3, 1, request());
    await staged.ready;
    await staged.release();
    expect(reported).toEqual([`SANDBOX_UNAVAILABLE ${join(scratch, 'sess', '3-1')}`]);
    busy = false;
    calls.length = 0;
    await m.close();
    expect(calls).toEqual([`unmount ${join(scratch, 'sess', '3-1')}`, 'close']);
    expect(existsSync(join(scratch, 'sess'))).toBe(false);
  });

  it('reachableBy follows the search bit of every directory above the path', () => {
    const hidden = join(scratch, 'h');
    mkdirSync(join(hidden, 'x'), { recursive: true });
    chmodSync(scratch, 0o755);
    chmodSync(hidden, 0o700);
    expect(reachableBy(join(hidden, 'x', 'y'), 54321, 54321)).toBe(false);
    chmodSync(hidden, 0o711);
    expect(reachableBy(join(hidden, 'x', 'y'), 54321, 54321)).toBe(true);
  });
});
