import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { TextDecoder } from 'node:util';

/** What the diff and apply steps need of a regular file, read once as a stream (never whole into memory). */
export interface FileDigest {
  readonly size: number;
  readonly sha256: string;
  /** git's blob id: sha1("blob <len>\0" + content). */
  readonly blobId: string;
  /** git's heuristic (a NUL in the first 8000 bytes) plus invalid UTF-8. */
  readonly binary: boolean;
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;
const CHUNK = 256 * 1024;

/**
 * Hashes a file in 256 KiB reads through one handle opened with O_NOFOLLOW (a symlink swapped in
 * is refused, not followed). The size is what was read, so a file growing under us is hashed as
 * read, and git's blob header, which needs the size first, is built from the fstat size and
 * checked against it: a mismatch means the file changed while read, and the caller treats the
 * result as stale.
 */
export async function digestFile(path: string): Promise<FileDigest> {
  const fh = await open(path, READ_FLAGS);
  try {
    const expected = Number((await fh.stat()).size);
    const sha = createHash('sha256');
    const blob = createHash('sha1').update(`blob ${expected}\0`);
    // fatal: invalid UTF-8 throws; stream: a sequence cut at a read boundary waits for the next read.
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const buf = Buffer.allocUnsafe(CHUNK);
    let size = 0;
    let binary = false;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, size);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      sha.update(chunk);
      blob.update(chunk);
      if (!binary && size < 8000 && chunk.subarray(0, 8000 - size).includes(0)) binary = true;
      if (!binary) binary = !decodes(decoder, chunk);
      size += bytesRead;
    }
    if (!binary) binary = !decodes(decoder);
    if (size !== expected) throw Object.assign(new Error(`"${path}" changed while it was read`), { code: 'ECHANGED' });
    return { size, sha256: sha.digest('hex'), blobId: blob.digest('hex'), binary };
  } finally {
    await fh.close();
  }
}

function decodes(decoder: TextDecoder, chunk?: Buffer): boolean {
  try {
    if (chunk) decoder.decode(chunk, { stream: true });
    else decoder.decode();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') return false;
    throw err;
  }
}
