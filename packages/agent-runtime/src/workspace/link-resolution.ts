import { join } from 'node:path';
import { statEntry, type EntryType } from './tree-scan';
import type { WorkspaceChange } from './workspace-diff';

/** What a path of the workspace holds (as lstat sees it), or nothing. */
export interface TreeNode {
  readonly type: EntryType | 'absent';
  readonly target?: string;
}

/** lstat-like view of a tree by relative path. Paths given to it never pass through a symlink. */
export type TreeLookup = (path: string) => Promise<TreeNode>;

/** As the kernel's ELOOP bound (MAXSYMLINKS): more links than this in one resolution is refused. */
export const MAX_LINK_HOPS = 40;

export type Resolution =
  { readonly inside: true; readonly path: string } | { readonly inside: false; readonly reason: string };

const parts = (p: string) => p.split('/').filter((s) => s !== '' && s !== '.');

/**
 * Resolves `path` (relative to the workspace root, its last component followed too) the way the
 * kernel walks it: component by component, each symlink replaced by its target relative to the
 * directory it sits in, `..` taken from the directory actually reached (not from the text). A
 * component that does not exist is treated as a plain directory, so a link that dangles today
 * cannot escape tomorrow when the caller creates that directory. Anything reaching above the root,
 * an absolute target outside `workspaceRoot`, or more than MAX_LINK_HOPS links is outside.
 */
export async function resolveInTree(path: string, lookup: TreeLookup, workspaceRoot: string): Promise<Resolution> {
  const root = workspaceRoot.replace(/\/+$/, '');
  let queue = parts(path);
  const resolved: string[] = [];
  let hops = 0;
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (name === '..') {
      if (resolved.length === 0) return { inside: false, reason: 'it climbs above the workspace root' };
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, name].join('/');
    const node = await lookup(candidate);
    if (node.type === 'symlink') {
      if (++hops > MAX_LINK_HOPS) return { inside: false, reason: `it follows more than ${MAX_LINK_HOPS} symlinks` };
      const target = node.target ?? '';
      if (target.startsWith('/')) {
        if (target !== root && !target.startsWith(`${root}/`))
          return { inside: false, reason: `"${candidate}" points at the absolute path ${target}` };
        resolved.length = 0;
        queue = [...parts(target.slice(root.length)), ...queue];
      } else {
        queue = [...parts(target), ...queue];
      }
      continue;
    }
    resolved.push(name);
    // A file in the middle of a path ends the walk (ENOTDIR): nothing beyond it can be reached.
    if ((node.type === 'file' || node.type === 'other') && queue.length > 0) break;
  }
  return { inside: true, path: resolved.join('/') };
}

/** The workspace on disk (lstat, never following a link). */
export function diskLookup(workspace: string): TreeLookup {
  return async (path) => {
    const e = await statEntry(join(workspace, path));
    return e ? { type: e.type, ...(e.target !== undefined ? { target: e.target } : {}) } : { type: 'absent' };
  };
}

/**
 * The workspace as it will be after `changes` are applied: a changed path holds the agent's
 * version (or nothing when deleted or renamed away), the parents of every written path are
 * directories, everything else is what is on disk now.
 */
export function postApplyLookup(workspace: string, changes: readonly WorkspaceChange[]): TreeLookup {
  const after = new Map<string, TreeNode>();
  const dirs = new Set<string>();
  for (const c of changes) {
    if (c.oldPath !== undefined && !after.has(c.oldPath)) after.set(c.oldPath, { type: 'absent' });
    after.set(
      c.path,
      c.after
        ? { type: c.after.type, ...(c.after.target !== undefined ? { target: c.after.target } : {}) }
        : { type: 'absent' },
    );
    if (c.after) {
      const p = c.path.split('/');
      for (let i = 1; i < p.length; i++) dirs.add(p.slice(0, i).join('/'));
    }
  }
  const disk = diskLookup(workspace);
  return async (path) => {
    const changed = after.get(path);
    if (changed) return changed;
    if (dirs.has(path)) {
      const now = await disk(path);
      // The apply refuses to write through an existing link (through-symlink), so a parent is a directory.
      return now.type === 'dir' || now.type === 'absent' ? { type: 'dir' } : now;
    }
    return disk(path);
  };
}
