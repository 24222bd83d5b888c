import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';

export interface HeldLock {
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists under another user; only ESRCH means it is gone.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One process at a time on an embedded store: PGlite has no locking between processes, and two
 * writers would corrupt it. The lock file holds the owner's pid; a lock whose owner died (crash,
 * SIGKILL) is taken over, which is exactly the restart a durable store must allow.
 */
export async function lockEmbeddedStore(dir: string): Promise<HeldLock> {
  const path = join(dir, 'bastion.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          await rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new BastionError(
          'INVALID_INPUT',
          `the embedded task store ${dir} is in use by another bastion process (pid ${owner}): stop it, or give this one another directory (serve --data-dir DIR, or --database pglite:DIR), or use a PostgreSQL server (--database postgres://…) for several processes`,
        );
      }
      // Its owner is gone: the lock is stale.
      await rm(path, { force: true });
    }
  }
  throw new BastionError(
    'INVALID_INPUT',
    `could not lock the embedded task store ${dir}: another process keeps taking it`,
  );
}
