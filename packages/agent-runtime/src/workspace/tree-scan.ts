import { spawn } from 'node:child_process';
import { lstat, opendir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

/** One entry of a directory tree, as lstat sees it (links are never followed). */
export interface TreeEntry {
  readonly type: EntryType;
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  /** Permission bits including setuid/setgid/sticky. */
  readonly mode: number;
  readonly ino: bigint;
  readonly uid: number;
  readonly gid: number;
  /** For symlinks: the target as written in the link. */
  readonly target?: string;
}

/** Paths relative to the root, with `/` separators, never the root itself. */
export type TreeScan = Map<string, TreeEntry>;

const FIND_FORMAT = '%y\\0%s\\0%T@\\0%C@\\0%m\\0%i\\0%U\\0%G\\0%P\\0%l\\0';
const FIELDS = 10;

/** `1700000000.1234567890` (find's %T@) → nanoseconds. */
export function secondsToNs(text: string): bigint {
  const dot = text.indexOf('.');
  if (dot < 0) return BigInt(text) * 1_000_000_000n;
  // One BigInt from "<seconds><9 fraction digits>" (GNU find prints 10): a scan makes two per entry.
  const frac = text.length - dot - 1 >= 9 ? text.slice(dot + 1, dot + 10) : text.slice(dot + 1).padEnd(9, '0');
  return text.charCodeAt(0) === 45
    ? BigInt(text.slice(0, dot)) * 1_000_000_000n - BigInt(frac)
    : BigInt(text.slice(0, dot) + frac);
}

function typeOf(letter: string): EntryType {
  if (letter === 'f') return 'file';
  if (letter === 'd') return 'dir';
  if (letter === 'l') return 'symlink';
  return 'other';
}

/**
 * Scans a tree with one `find -printf` process (fts in C: one lstat per entry, no thread-pool
 * round trips), falling back to a Node walk where GNU find is missing. Names that are not valid
 * UTF-8 come back as type `other`, which the apply step refuses.
 */
export async function scanTree(root: string): Promise<TreeScan> {
  try {
    return await scanWithFind(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as { noGnuFind?: boolean }).noGnuFind)
      return scanWithNode(root);
    throw err;
  }
}

function scanWithFind(root: string): Promise<TreeScan> {
  return new Promise((resolve, reject) => {
    const child = spawn('find', [root, '-mindepth', '1', '-printf', FIND_FORMAT], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        if (/unknown predicate|invalid predicate|-printf/.test(stderr))
          return reject(Object.assign(new Error('no GNU find'), { noGnuFind: true }));
        return reject(
          new BastionError(
            'SANDBOX_UNAVAILABLE',
            `could not scan ${root}: find exited ${code}: ${stderr.trim().slice(0, 200)}`,
          ),
        );
      }
      const fields = Buffer.concat(chunks).toString('utf8').split('\0');
      const scan: TreeScan = new Map();
      for (let i = 0; i + FIELDS <= fields.length; i += FIELDS) {
        const name = fields[i + 8];
        const type = name.includes('\ufffd') ? 'other' : typeOf(fields[i]);
        const entry: { -readonly [K in keyof TreeEntry]: TreeEntry[K] } = {
          type,
          size: Number(fields[i + 1]),
          mtimeNs: secondsToNs(fields[i + 2]),
          ctimeNs: secondsToNs(fields[i + 3]),
          mode: parseInt(fields[i + 4], 8),
          ino: BigInt(fields[i + 5]),
          uid: Number(fields[i + 6]),
          gid: Number(fields[i + 7]),
        };
        if (type === 'symlink') entry.target = fields[i + 9];
        scan.set(name, entry);
      }
      resolve(scan);
    });
  });
}

/** The same scan in Node (for hosts without GNU find). */
export async function scanWithNode(root: string): Promise<TreeScan> {
  const scan: TreeScan = new Map();
  async function walk(dir: string, prefix: string): Promise<void> {
    const handle = await opendir(dir);
    const subdirs: Promise<void>[] = [];
    const stats: Promise<void>[] = [];
    for await (const d of handle) {
      const rel = prefix ? `${prefix}/${d.name}` : d.name;
      const abs = join(dir, d.name);
      stats.push(
        (async () => {
          const entry = await statEntry(abs);
          if (entry === null) return;
          scan.set(rel, entry);
          if (entry.type === 'dir') subdirs.push(walk(abs, rel));
        })(),
      );
    }
    await Promise.all(stats);
    await Promise.all(subdirs);
  }
  await walk(root, '');
  return scan;
}

/** lstat of one path as a TreeEntry, or null when nothing is there. */
export async function statEntry(abs: string): Promise<TreeEntry | null> {
  let st;
  try {
    st = await lstat(abs, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR')
      return null;
    throw err;
  }
  const type: EntryType = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
  return {
    type,
    size: Number(st.size),
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    mode: Number(st.mode & 0o7777n),
    ino: st.ino,
    uid: Number(st.uid),
    gid: Number(st.gid),
    ...(type === 'symlink' ? { target: await readlink(abs) } : {}),
  };
}

/** Same object on disk, unchanged: what the conflict check compares. ctime cannot be set by a writer. */
export function sameState(a: TreeEntry | null | undefined, b: TreeEntry | null | undefined): boolean {
  if (!a || !b) return !a && !b;
  return (
    a.type === b.type &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.ino === b.ino &&
    a.mode === b.mode &&
    a.target === b.target
  );
}
