import type * as Crypto from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';

let loaded: typeof Crypto | undefined;

/**
 * node:crypto, loaded on first use. Loading it runs ~20 of node's internal modules, ~6 ms of a
 * one-shot CLI call, and a plain `bastion exec` uses none of it: modules on that path call this
 * where they need a hash or a MAC instead of importing node:crypto at the top.
 */
export function nodeCrypto(): typeof Crypto {
  return (loaded ??= createRequire('/')('node:crypto') as typeof Crypto);
}

/**
 * A random version 4 UUID, as crypto.randomUUID makes, from the kernel's random source
 * (/dev/urandom, checked to be a character device) without loading node:crypto; where that
 * cannot be read, crypto.randomUUID itself. `source` is for tests.
 */
export function randomUuid(source = '/dev/urandom'): string {
  const bytes = Buffer.alloc(16);
  if (!readKernelRandom(source, bytes)) return nodeCrypto().randomUUID();
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // the RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function readKernelRandom(source: string, into: Buffer): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(source, 'r');
    if (!fstatSync(fd).isCharacterDevice()) return false;
    for (let got = 0; got < into.length;) {
      const n = readSync(fd, into, got, into.length - got, null);
      if (n <= 0) return false;
      got += n;
    }
    return true;
  } catch {
    // No /dev (a bare chroot) or no permission: crypto's own source instead.
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
