import { spawn } from 'node:child_process';
import { stat, utimes, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, dirname, join } from 'node:path';
import { BastionError } from '@bastion/core';
import { scanTree, type TreeEntry, type TreeScan } from './tree-scan';

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
  /**
   * Entries of the source left out of the copy because other users may not read them (files
   * without o+r, directories without o+rx, with everything under them) or because they are not
   * files, directories or symlinks. The agent never sees them; a change at or under one is refused.
   */
  readonly hidden: ReadonlySet<string>;
}

export interface CopyOptions {
  /** chown the copy to this owner (needs root); when the runtime is not root the copy is made group/other-writable instead. */
  owner?: { uid: number; gid: number } | null;
  /** The source's scan, when the caller already has it (to size the copy's filesystem). */
  snapshot?: TreeScan;
}

function run(command: string, args: string[], stdin?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} exited ${code}: ${stderr.trim().slice(0, 300)}`));
    });
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

/**
 * Would a user who is neither the owner nor in the group read this entry on the host? That is
 * what the sandbox user is to the caller's files, so it is all the copy may show (the runtime
 * copies as root and would otherwise hand root-only files, /etc/shadow or a 0600 key, to the agent).
 */
export function readableByOthers(entry: Pick<TreeEntry, 'type' | 'mode'>): boolean {
  if (entry.type === 'dir') return (entry.mode & 0o005) === 0o005;
  if (entry.type === 'file') return (entry.mode & 0o004) !== 0;
  // A symlink's text is readable by whoever may list its directory; fifos, sockets and devices
  // are never handed to the sandbox.
  return entry.type === 'symlink';
}

/** The topmost entries of a scan that the copy leaves out (see WorkspaceCopyInfo.hidden). */
export function hiddenEntries(snapshot: TreeScan): Set<string> {
  const hidden = new Set<string>();
  // A scan lists a directory before its entries, so a hidden parent is always seen first.
  for (const [path, entry] of snapshot) {
    if (readableByOthers(entry)) continue;
    if (isUnder(path, hidden)) continue;
    hidden.add(path);
  }
  return hidden;
}

/** Is `path` one of `hidden` or inside one of them? */
export function isUnder(path: string, hidden: ReadonlySet<string>): boolean {
  if (hidden.size === 0) return false;
  if (hidden.has(path)) return true;
  for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) if (hidden.has(path.slice(0, i))) return true;
  return false;
}

/**
 * Copies `source` to `target` (which must not exist) for the sandbox: `cp -a --reflink=auto`
 * (one process, copy-on-write clones where the filesystem has them), then removes what other
 * users could not read (before the sandbox exists, so the agent never sees it) and hands the rest
 * to the sandbox user. The source is scanned first, so the diff knows what the agent started from.
 */
export async function copyWorkspace(
  source: string,
  target: string,
  options: CopyOptions = {},
): Promise<WorkspaceCopyInfo> {
  const owner = options.owner === undefined ? SANDBOX_OWNER : options.owner;
  const snapshot = options.snapshot ?? (await scanTree(source));
  const root = await stat(source);
  // An unreadable root hides everything in it.
  const hidden = readableByOthers({ type: 'dir', mode: root.mode })
    ? hiddenEntries(snapshot)
    : new Set([...snapshot.keys()].filter((p) => !p.includes('/')));
  try {
    await run('cp', ['-a', '--reflink=auto', '--no-target-directory', '--', source, target]);
    if (hidden.size > 0) {
      // NUL-separated on stdin: names may hold newlines. `--` and absolute paths: never options.
      await run('xargs', ['-0', 'rm', '-rf', '--'], [...hidden].map((p) => `${join(target, p)}\0`).join(''));
    }
    if (owner) {
      if (process.getuid?.() === 0) await run('chown', ['-R', '-h', '--', `${owner.uid}:${owner.gid}`, target]);
      else await run('chmod', ['-R', 'go+rwX', '--', target]);
    }
  } catch (err) {
    throw new BastionError('SANDBOX_UNAVAILABLE', `could not copy the workspace: ${(err as Error).message}`, {
      cause: err,
    });
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
  return { source, copyDir: target, snapshot, copiedCtimeNs, hidden };
}
