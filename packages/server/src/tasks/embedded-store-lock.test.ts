import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockEmbeddedStore } from './embedded-store-lock';

describe('the embedded task store lock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second process while the owner lives, naming its pid and the fix', async () => {
    const owner = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      await writeFile(join(dir, 'bastion.lock'), `${owner.pid}\n`);
      await expect(lockEmbeddedStore(dir)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringContaining(`pid ${owner.pid}`),
      });
    } finally {
      owner.kill('SIGKILL');
    }
  });

  it('takes over the lock of an owner that died (the restart after a crash)', async () => {
    const dead = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await new Promise((r) => dead.once('exit', r));
    await writeFile(join(dir, 'bastion.lock'), `${dead.pid}\n`);
    const lock = await lockEmbeddedStore(dir);
    expect((await readFile(join(dir, 'bastion.lock'), 'utf8')).trim()).toBe(String(process.pid));
    await lock.release();
    await lock.release();
    const again = await lockEmbeddedStore(dir);
    await again.release();
  });
});
