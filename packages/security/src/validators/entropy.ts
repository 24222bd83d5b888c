const ascii = new Uint32Array(128);

/** Shannon entropy in bits per character. */
export function shannonEntropy(value: string): number {
  const n = value.length;
  if (n === 0) return 0;
  // ASCII characters are counted in a reused table (values are nearly always ASCII); anything else in a map.
  let other: Map<number, number> | undefined;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c < 128) ascii[c]++;
    else {
      other ??= new Map();
      other.set(c, (other.get(c) ?? 0) + 1);
    }
  }
  let h = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || ascii[c] === 0) continue;
    const p = ascii[c] / n;
    ascii[c] = 0;
    h -= p * Math.log2(p);
  }
  for (const count of other?.values() ?? []) {
    const p = count / n;
    h -= p * Math.log2(p);
  }
  return h;
}
