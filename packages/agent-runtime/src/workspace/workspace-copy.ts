import { spawn } from 'node:child_process';
import { stat, utimes, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, dirname, join } from 'node:path';
import { BastionError } from '@bastion/core';
import { scanTree, type TreeScan } from './tree-scan';

/** The sandbox user (see ops/docker and SANDBOX_USER): the copy must be writable by it. */
export const SANDBOX_OWNER = { uid: 1001, gid: 1001 } as const;

/** What the diff needs to know about a throwaway copy: where it came from and how things stood. */
export interface WorkspaceCopyInfo {
  /** The caller's workspace. */
  readonly source: string;
  readonly copyDir: string;
  /** lstat of every entry of the source, taken just before the copy (ctime and inode included). */
  readonly snapshot: TreeScan;
  /**
   * ctime of a marker written after the copy was finished and chowned. An entry of the copy with a
   * later ctime was touched afterwards, whatever its size and mtime claim (ctime cannot be set).
   */
  readonly copiedCtimeNs: bigint;
}

export interface CopyOptions {
  /** chown the copy to this owner (needs root); when the runtime is not root the copy is made group/other-writable instead. */
  owner?: { uid: number; gid: number } | null;
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} exited ${code}: ${stderr.trim().slice(0, 300)}`));
    });
  });
}

/**
 * Copies `source` to `target` (which must not exist) for the sandbox: `cp -a --reflink=auto`
 * (one process, copy-on-write clones where the filesystem has them), then hands the copy to the
 * sandbox user. The source is scanned first, so the diff knows what the agent started from.
 */
export async function copyWorkspace(source: string, target: string, options: CopyOptions = {}): Promise<WorkspaceCopyInfo> {
  const owner = options.owner === undefined ? SANDBOX_OWNER : options.owner;
  const snapshot = await scanTree(source);
  try {
    await run('cp', ['-a', '--reflink=auto', '--no-target-directory', '--', source, target]);
    if (owner) {
      if (process.getuid?.() === 0) await run('chown', ['-R', '-h', '--', `${owner.uid}:${owner.gid}`, target]);
      else await run('chmod', ['-R', 'go+rwX', '--', target]);
    }
  } catch (err) {
    throw new BastionError('SANDBOX_UNAVAILABLE', `could not copy the workspace: ${(err as Error).message}`, { cause: err });
  }
  // Outside the copy, so the agent can neither see nor touch it.
  const marker = join(dirname(target), `.${basename(target)}.copied`);
  await writeFile(marker, '');
  const copiedCtimeNs = (await stat(marker, { bigint: true })).ctimeNs;
  // File times come from a coarse clock (one tick, a few ms). Wait until it has moved past the
  // marker, so that any later write gets a strictly later ctime, however soon it follows.
  for (let i = 0; i < 200; i++) {
    const now = new Date();
    await utimes(marker, now, now);
    if ((await stat(marker, { bigint: true })).ctimeNs > copiedCtimeNs) break;
    await sleep(1);
  }
  return { source, copyDir: target, snapshot, copiedCtimeNs };
}
