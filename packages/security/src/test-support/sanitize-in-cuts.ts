import type { SanitizerStream } from '../types';

/** Streams `bytes` through a new sanitizer stream split at `cuts` (any order, repeats allowed) and returns all it wrote, end included. */
export function sanitizeInCuts(sanitizer: { createStream(): SanitizerStream }, bytes: Buffer, cuts: number[]): string {
  const stream = sanitizer.createStream();
  let out = '';
  let prev = 0;
  for (const p of [...new Set(cuts)].sort((a, b) => a - b)) {
    out += stream.write(bytes.subarray(prev, p));
    prev = p;
  }
  return out + stream.write(bytes.subarray(prev)) + stream.end();
}
