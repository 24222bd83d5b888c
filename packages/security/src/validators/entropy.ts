/** Counts of ASCII characters, and which ones a value has: reused, and left zeroed after each call. */
const counts = new Int32Array(128);
const present = new Int32Array(128);
/** c · log2(c) for the counts a value of up to 1 KiB can have: log2 is the costly part of entropy. */
const XLOGX_MAX = 1024;
const XLOGX = Float64Array.from({ length: XLOGX_MAX + 1 }, (_, c) => (c === 0 ? 0 : c * Math.log2(c)));
const xlogx = (c: number): number => (c <= XLOGX_MAX ? XLOGX[c] : c * Math.log2(c));

/**
 * Shannon entropy in bits per character: log2(n) − Σ c·log2(c) / n over the characters' counts c
 * (the same as −Σ p·log2(p) with p = c / n, with one logarithm per value instead of one per
 * distinct character). It runs for every value a keyword rule matches.
 */
export function shannonEntropy(value: string): number {
  const n = value.length;
  if (n === 0) return 0;
  // ASCII characters (nearly all of any value) are counted in the table; anything else in a map.
  let other: Map<number, number> | undefined;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 128) {
      if (counts[c]++ === 0) present[k++] = c;
    } else {
      other ??= new Map();
      other.set(c, (other.get(c) ?? 0) + 1);
    }
  }
  let sum = 0;
  for (let j = 0; j < k; j++) {
    const c = present[j];
    sum += xlogx(counts[c]);
    counts[c] = 0;
  }
  for (const count of other?.values() ?? []) sum += xlogx(count);
  return Math.log2(n) - sum / n;
}
