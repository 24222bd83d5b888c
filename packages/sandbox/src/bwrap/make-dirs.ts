import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * mkdir -p where every directory it creates gets `mode` whatever the umask (a root runtime under
 * umask 077 would otherwise make them 0700, and the sandbox user could not reach what is inside).
 */
export function makeDirs(dir: string, mode: number): void {
  const created = mkdirSync(dir, { recursive: true });
  if (created === undefined) return;
  for (let d = dir; d.length >= created.length; d = dirname(d)) chmodSync(d, mode);
}
