import { spawn } from 'node:child_process';
import { chmod, lstat, mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import {
  defaultRuntimeRoot,
  openRuntimeDir,
  processStartTime,
  sweepStaleCallDirs,
  verifyRuntimeRoot,
} from './runtime-dir';

const uid = process.getuid!();
let base: string;
beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'bastion-rtdir-test-'));
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown>): Promise<BastionError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(BastionError.isInstance(err)).toBe(true);
  return err as BastionError;
}

describe('runtime directory', () => {
  it('lives in $XDG_RUNTIME_DIR/bastion, /run/bastion for root, else a per-uid tmp directory', () => {
    expect(defaultRuntimeRoot(1000, '/run/user/1000')).toBe('/run/user/1000/bastion');
    expect(defaultRuntimeRoot(0, undefined)).toBe('/run/bastion');
    expect(defaultRuntimeRoot(1000, undefined)).toBe(join(tmpdir(), 'bastion-1000'));
    expect(defaultRuntimeRoot(1000, 'relative/dir')).toBe(join(tmpdir(), 'bastion-1000'));
  });

  it('creates the root 0700 and owned by the runtime user', async () => {
    const dir = await openRuntimeDir({ root: join(base, 'bastion') });
    const st = await stat(dir.root);
    expect(st.mode & 0o777).toBe(0o700);
    expect(st.uid).toBe(uid);
  });

  it('refuses a root that is a symbolic link, and says how to fix it', async () => {
    await mkdir(join(base, 'elsewhere'), { mode: 0o700 });
    await symlink(join(base, 'elsewhere'), join(base, 'bastion'));
    const err = await refusal(openRuntimeDir({ root: join(base, 'bastion') }));
    expect(err.code).toBe('SANDBOX_UNAVAILABLE');
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/symbolic link.*remove it/);
  });

  it('refuses a root that group or others can reach', async () => {
    await mkdir(join(base, 'bastion'));
    await chmod(join(base, 'bastion'), 0o750);
    const err = await refusal(openRuntimeDir({ root: join(base, 'bastion') }));
    expect(err.message).toMatch(/mode 0750.*must be 0700/);
  });

  it('refuses a root owned by another user', async () => {
    await mkdir(join(base, 'bastion'), { mode: 0o700 });
    const err = await refusal(verifyRuntimeRoot(join(base, 'bastion'), uid + 1));
    expect(err.message).toMatch(new RegExp(`owned by uid ${uid}, not by the runtime user \\(uid ${uid + 1}\\)`));
  });

  it('refuses a root that is a plain file', async () => {
    await writeFile(join(base, 'bastion'), '');
    const err = await refusal(openRuntimeDir({ root: join(base, 'bastion') }));
    expect(err.message).toMatch(/not a directory/);
  });

  it('gives each call its own directory, reachable by the sandbox user only, and removes it on close', async () => {
    const dir = await openRuntimeDir({ root: join(base, 'bastion'), sandboxOwner: { uid: 1001, gid: 1001 } });
    const a = await dir.createCallDir('gw');
    const b = await dir.createCallDir('gw');
    expect(a.path).not.toBe(b.path);
    expect(a.path.startsWith(dir.root + '/')).toBe(true);
    const st = await stat(a.path);
    if (uid === 0) {
      expect([st.uid, st.gid, st.mode & 0o777]).toEqual([1001, 1001, 0o700]);
    } else {
      expect(st.mode & 0o777).toBe(0o711);
    }
    const server = createServer();
    const sock = join(a.path, 'x.sock');
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    await a.secureSocket(sock);
    const sst = await lstat(sock);
    if (uid === 0) expect([sst.uid, sst.mode & 0o777]).toEqual([1001, 0o600]);
    else expect(sst.mode & 0o777).toBe(0o666);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await a.close();
    await a.close();
    await expect(stat(a.path)).rejects.toMatchObject({ code: 'ENOENT' });
    await b[Symbol.asyncDispose]();
  });

  it('sweeps the directories of a process that is gone and keeps a live process’s', async () => {
    const root = join(base, 'bastion');
    const dir = await openRuntimeDir({ root });
    const mine = await dir.createCallDir('ctl');
    // A process that has exited: its pid and start time no longer match a running process.
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    const start = processStartTime(pid) ?? 1;
    await new Promise((resolve) => child.on('exit', resolve));
    const dead = join(root, `gw-${pid}-${start}-abc123`);
    await mkdir(dead, { mode: 0o700 });
    await writeFile(join(dead, 'gateway.sock'), '');
    // Our own pid with another start time: a reused pid does not protect a dead process's files.
    const reused = join(root, `gw-${process.pid}-1-abc123`);
    await mkdir(reused);
    const unrelated = join(root, 'notes');
    await mkdir(unrelated);

    const removed = await sweepStaleCallDirs(root);
    expect(removed.sort()).toEqual([dead, reused].sort());
    await expect(stat(mine.path)).resolves.toBeDefined();
    await expect(stat(unrelated)).resolves.toBeDefined();
    await mine.close();
  });

  it('sweeping a runtime directory that does not exist yet removes nothing', async () => {
    await expect(sweepStaleCallDirs(join(base, 'absent'))).resolves.toEqual([]);
  });
});
