import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Files a one-shot runtime keeps between processes to skip work (a compiled seccomp program, a
 * passed bwrap check). What they hold decides what a sandbox runs under, so a file is trusted only
 * when it and its directory belong to this user and nobody else can write them (no symlinks):
 * anything another user could replace would be an escape. A cache that cannot be read or written
 * only costs the next process the work again.
 */
function privateToUs(path: string): boolean {
  const st = lstatSync(path);
  return st.uid === process.getuid?.() && (st.mode & 0o022) === 0 && !st.isSymbolicLink();
}

/** The file's bytes when it and `dir` are private to this user; undefined when absent, unreadable or not private. */
function readPrivateCacheFile(dir: string, file: string): Buffer | undefined {
  try {
    if (privateToUs(dir) && privateToUs(file)) return readFileSync(file);
  } catch (err) {
    // Not there yet (ENOENT) or unreadable: the caller does the work. Only a file system error
    // means that; anything else is a bug and surfaces.
    if ((err as NodeJS.ErrnoException).code === undefined) throw err;
  }
  return undefined;
}

/** Writes `data` to `file` (0600, atomically by rename) in `dir` (created 0700); a file system error is ignored. */
function writePrivateCacheFile(dir: string, file: string, data: string | Buffer): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!privateToUs(dir)) return;
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
  } catch (err) {
    // A read-only, full or misshapen cache directory costs the next process the work, nothing
    // more: any file system error is that. Anything else is a bug and surfaces.
    if ((err as NodeJS.ErrnoException).code === undefined) throw err;
  }
}

/**
 * A keyed cache entry's path in `dir`, named by a 64-bit hash of the key (nameHash). The name only
 * spreads entries; the entry holds its whole key and is read back only for that key (see
 * readKeyedCacheFile), so a name collision is a miss, never another key's data. No node:crypto:
 * loading it costs a one-shot CLI call ~6 ms.
 */
export function keyedCacheFile(dir: string, key: string, ext: string): string {
  return join(dir, `${nameHash(key)}.${ext}`);
}

/** The data stored for exactly `key` (a private file, see readPrivateCacheFile); undefined otherwise. */
export function readKeyedCacheFile(dir: string, key: string, ext: string): Buffer | undefined {
  const entry = readPrivateCacheFile(dir, keyedCacheFile(dir, key, ext));
  if (entry === undefined) return undefined;
  const header = keyHeader(key);
  return entry.length >= header.length && entry.subarray(0, header.length).equals(header)
    ? entry.subarray(header.length)
    : undefined;
}

/**
 * Stores `data` for `key`: its byte length, a line break, the key, then the data. A write happens
 * on a miss only, so it also prunes `dir` (pruneKeyedCacheDir).
 */
export function writeKeyedCacheFile(dir: string, key: string, ext: string, data: Buffer = Buffer.alloc(0)): void {
  const file = keyedCacheFile(dir, key, ext);
  writePrivateCacheFile(dir, file, Buffer.concat([keyHeader(key), data]));
  pruneKeyedCacheDir(dir, ext, file);
}

/** How long an entry nobody wrote again is kept: a changed profile or bwrap leaves its old ones. */
const ENTRY_TTL_MS = 30 * 24 * 3600_000;
/** A writer's temporary file older than this was left by a process that died mid-write. */
const TMP_TTL_MS = 3600_000;

/**
 * Removes from `dir` (only when it is private to this user) this kind's entries that no read can
 * use any more: files named by the sha256 of their key (how entries were named before nameHash:
 * 32 or 64 hex digits), entries not written for 30 days, and a dead writer's temporary files. Other
 * files, and other users' files, are left alone. `keep` is the entry just written.
 */
export function pruneKeyedCacheDir(dir: string, ext: string, keep: string, now = Date.now()): void {
  try {
    if (!privateToUs(dir)) return;
    const current = new RegExp(`^[0-9a-f]{16}\\.${ext}$`);
    const old = new RegExp(`^(?:[0-9a-f]{32}|[0-9a-f]{64})\\.${ext}$`);
    const tmp = new RegExp(`^[0-9a-f]{16,64}\\.${ext}\\.\\d+\\.tmp$`);
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (path === keep || !(current.test(name) || old.test(name) || tmp.test(name))) continue;
      const st = lstatSync(path);
      if (!st.isFile() || st.uid !== process.getuid?.()) continue;
      const age = now - st.mtimeMs;
      if (old.test(name) || (current.test(name) && age > ENTRY_TTL_MS) || (tmp.test(name) && age > TMP_TTL_MS))
        rmSync(path, { force: true });
    }
  } catch (err) {
    // Pruning is housekeeping: a file system error leaves the rest for the next write.
    if ((err as NodeJS.ErrnoException).code === undefined) throw err;
  }
}

function keyHeader(key: string): Buffer {
  const bytes = Buffer.from(key, 'utf8');
  return Buffer.concat([Buffer.from(`${bytes.length}\n`, 'ascii'), bytes]);
}

/**
 * 16 hex digits from the key's UTF-8 bytes, read as 32-bit words (zero-padded, the byte length
 * mixed in): two FNV-1a-style lanes with different primes. Not a cryptographic hash: it names a
 * file whose content is checked. Word-wise because a cold process runs this loop in V8's
 * interpreter: over the ~11 KB seccomp key, a byte-wise loop took ~1.5 ms, this one ~0.4 ms.
 */
export function nameHash(key: string): string {
  const bytes = Buffer.from(key, 'utf8');
  const words = new Uint32Array(Math.ceil(bytes.length / 4));
  new Uint8Array(words.buffer).set(bytes);
  let a = (0x811c9dc5 ^ bytes.length) >>> 0;
  let b = 0x01000193;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    a = Math.imul(a ^ w, 0x01000193);
    b = Math.imul(b ^ w, 0x5bd1e995) ^ (b >>> 13);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
