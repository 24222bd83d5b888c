import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A hash of a workspace's tree: every path (sorted), its type and mode, and its content (a link's
 * target). Two trees hash alike only when an apply would see the same files, which is what the
 * exactly-once apply needs to know: "is this still the tree the task was accepted against?".
 * `.git` is left out: a fetch or gc there changes no file an apply touches.
 */
export async function workspaceTreeHash(root: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string, rel: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      if (rel === '' && e.name === '.git') continue;
      const path = join(dir, e.name);
      const name = rel ? `${rel}/${e.name}` : e.name;
      const st = await lstat(path);
      if (st.isDirectory()) {
        hash.update(`d ${name}\0`);
        await walk(path, name);
      } else if (st.isSymbolicLink()) {
        hash.update(`l ${name}\0${await readlink(path)}\0`);
      } else if (st.isFile()) {
        hash.update(`f ${name} ${st.mode & 0o777} ${st.size}\0`);
        for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
      }
    }
  };
  await walk(root, '');
  return `sha256:${hash.digest('hex')}`;
}
