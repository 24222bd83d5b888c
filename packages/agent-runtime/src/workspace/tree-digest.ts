import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { scanTree } from './tree-scan';

/**
 * What a tree holds as git sees it: files (content and executable bit) and symlinks (target), by
 * path; directories only through the paths under them. Two trees with the same digest are the same
 * to the diff and apply steps.
 */
export async function treeDigest(root: string): Promise<Record<string, string>> {
  const scan = await scanTree(root);
  const out: Record<string, string> = {};
  for (const [path, entry] of [...scan].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (entry.type === 'file') {
      const data = await readFile(join(root, path), { flag: constants.O_RDONLY | constants.O_NOFOLLOW });
      out[path] = `${entry.mode & 0o100 ? 'x' : '-'}:${createHash('sha256').update(data).digest('hex')}`;
    } else if (entry.type === 'symlink') out[path] = `l:${entry.target}`;
    else if (entry.type === 'other') out[path] = 'other';
  }
  return out;
}
