import { execFile } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { WriteViolation } from '@bastion/policy';
import { statEntry, type TreeEntry } from './tree-scan';
import type { WorkspaceChange } from './workspace-diff';

const run = promisify(execFile);

/** The user an apply writes for: the workspace's owner, with the groups the host gives that uid. */
export interface Writer {
  readonly uid: number;
  /** Primary group first. */
  readonly gids: readonly number[];
}

/**
 * The workspace root's owner and that uid's groups (`id -G`; a uid without a passwd entry has only
 * the root directory's group). A root runtime applies changes for this user, never as root.
 */
export async function workspaceOwner(workspace: string): Promise<Writer> {
  const st = await lstat(workspace);
  let gids = [st.gid];
  try {
    const { stdout } = await run('id', ['-G', '--', String(st.uid)]);
    const listed = stdout.trim().split(/\s+/).map(Number).filter(Number.isInteger);
    if (listed.length > 0) gids = listed;
  } catch (err) {
    // No passwd entry for that uid: `id` says "no such user"; the directory's group stands in.
    if (!/no such user/i.test(String((err as { stderr?: string }).stderr ?? ''))) throw err;
  }
  return { uid: st.uid, gids };
}

/** POSIX permission check for `bits` (r=4, w=2, x=1) as `w` would get it on `entry`. */
export function mayAccess(entry: Pick<TreeEntry, 'uid' | 'gid' | 'mode'>, w: Writer, bits: number): boolean {
  if (w.uid === 0) return true;
  const granted =
    entry.uid === w.uid ? (entry.mode >> 6) & 7 : w.gids.includes(entry.gid) ? (entry.mode >> 3) & 7 : entry.mode & 7;
  return (granted & bits) === bits;
}

/** The uid/gid an object written for `w` gets: its uid, and the wanted group only when it is one of theirs. */
export function ownershipFor(w: Writer, wantedGid: number | undefined): { uid: number; gid: number } {
  return { uid: w.uid, gid: wantedGid !== undefined && w.gids.includes(wantedGid) ? wantedGid : w.gids[0] };
}

/**
 * What the workspace owner could not do themselves: create, replace or remove an entry in a
 * directory they may not write (the nearest existing one counts for new parents), or replace
 * another user's entry in a sticky directory. A root runtime checks this before writing anything.
 */
export async function ownerViolations(
  workspace: string,
  changes: readonly WorkspaceChange[],
  w: Writer,
): Promise<WriteViolation[]> {
  if (w.uid === 0) return [];
  const violations: WriteViolation[] = [];
  const cache = new Map<string, TreeEntry | null>();
  const stat = async (abs: string) => {
    if (!cache.has(abs)) cache.set(abs, await statEntry(abs));
    return cache.get(abs)!;
  };
  const check = async (path: string) => {
    const abs = join(workspace, path);
    let dir = dirname(abs);
    let d = await stat(dir);
    while (!d && dir.length > workspace.length) {
      dir = dirname(dir);
      d = await stat(dir);
    }
    if (!d) return;
    const mode = `0${(d.mode & 0o7777).toString(8)}`;
    if (!mayAccess(d, w, 3)) {
      violations.push({
        path,
        rule: 'owner-permission',
        message: `the workspace owner (uid ${w.uid}) may not write in "${dir.slice(workspace.length + 1) || '.'}" (owner uid ${d.uid}, mode ${mode}); fix its permissions or ownership`,
      });
      return;
    }
    const entry = await stat(abs);
    if (entry && d.mode & 0o1000 && entry.uid !== w.uid && d.uid !== w.uid) {
      violations.push({
        path,
        rule: 'owner-permission',
        message: `"${path}" belongs to uid ${entry.uid} in a sticky directory; the workspace owner (uid ${w.uid}) may not replace it`,
      });
    }
  };
  for (const c of changes) {
    await check(c.path);
    if (c.oldPath !== undefined) await check(c.oldPath);
  }
  return violations;
}
