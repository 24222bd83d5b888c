/**
 * Streams the bench corpus through one SanitizerStream in the bench's random chunk sizes, several
 * times, printing wall-clock and CPU throughput per repetition (and, with HASH=1, a digest of the
 * output and the redaction count, to check that an optimisation changed nothing). For profiling:
 *
 *   npx esbuild packages/security/bench/stream-profile.ts --bundle --platform=node --format=esm \
 *     --outfile=/tmp/stream-profile.mjs && MB=100 REPS=4 node --cpu-prof /tmp/stream-profile.mjs
 */
import { createHash } from 'node:crypto';
import { createOutputSanitizer } from '../src/index';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { generateSecretCorpus } from '@bastion/testing';

const sizeMB = Number(process.env.MB ?? 100);
const reps = Number(process.env.REPS ?? 3);
const bytes = Buffer.from(generateSecretCorpus({ seed: 7, sizeBytes: sizeMB * 1e6 }).text, 'utf8');
let a = 7;
const rng = (): number => {
  a = (a + 0x6d2b79f5) >>> 0;
  let t = Math.imul(a ^ (a >>> 15), a | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const sanitizer = createOutputSanitizer();
for (let rep = 0; rep < reps; rep++) {
  const stream = sanitizer.createStream();
  const hash = createHash('sha1');
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let chars = 0;
  for (let p = 0; p < bytes.length;) {
    const n = Math.max(1, Math.floor(Math.exp(rng() * Math.log(65536))));
    const out = stream.write(bytes.subarray(p, p + n));
    chars += out.length;
    if (process.env.HASH) hash.update(out);
    p += n;
  }
  const tail = stream.end();
  chars += tail.length;
  if (process.env.HASH) hash.update(tail);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  const mbps = (t: number): string => (bytes.length / 1e6 / (t / 1000)).toFixed(1);
  const count = stream.redactions().reduce((n, r) => n + r.count, 0);
  console.log(
    `rep ${rep}: ${mbps(ms)} MB/s wall, ${mbps((cpu.user + cpu.system) / 1000)} MB/s cpu, ${chars} chars, ${count} redactions${process.env.HASH ? ' ' + hash.digest('hex') : ''}`,
  );
}
