import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { BastionError } from '@bastion/core';

/** Reads the service token; a missing, unreadable or too-short file stops the service from starting. */
export async function readTokenFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BastionError('INVALID_INPUT', `cannot read token file ${file}`, { cause: err });
  }
  const token = text.trim();
  if (token.length < 16)
    throw new BastionError('INVALID_INPUT', `token file ${file} must hold a token of at least 16 characters`);
  if (/\s/.test(token))
    throw new BastionError('INVALID_INPUT', `token file ${file} must hold one token with no whitespace`);
  return token;
}

/**
 * Checks `Authorization: Bearer <token>` in constant time: both sides are hashed first, so the
 * comparison neither leaks the length nor short-circuits on the first differing byte.
 */
export function createBearerCheck(token: string): (header: string | undefined) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (header) => {
    const m = header === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    const given = createHash('sha256')
      .update(m ? m[1] : '')
      .digest();
    return timingSafeEqual(given, expected) && m !== null;
  };
}
