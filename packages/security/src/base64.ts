/**
 * The parts of base64(x) that do not depend on what surrounds x, for each of the three byte
 * alignments x can have inside a larger encoded blob, in the standard and URL-safe alphabets. A
 * part keeps the characters at its ends that take all their bits from x (the ones an unknown
 * neighbouring byte shares bits with are dropped), so four bytes of x give a part of at least
 * four characters at every alignment.
 */
export function stableBase64Parts(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const parts = new Set<string>();
  for (let k = 0; k < 3; k++) {
    // A character is stable when it reads the same with all-zero and all-one neighbours: x after
    // k filler bytes, then two more (one buffer, refilled: a cold CLI builds ~200 of these).
    const framed = Buffer.allocUnsafe(k + bytes.length + 2);
    bytes.copy(framed, k);
    const encode = (fill: number): string =>
      framed
        .fill(fill, 0, k)
        .fill(fill, k + bytes.length)
        .toString('base64');
    const low = encode(0);
    const high = encode(0xff);
    let best = '';
    for (let i = 0; i < low.length;) {
      if (low[i] !== high[i]) {
        i++;
        continue;
      }
      let j = i;
      while (j < low.length && low[j] === high[j]) j++;
      if (j - i > best.length) best = low.slice(i, j);
      i = j;
    }
    if (best.length > 0) {
      parts.add(best);
      parts.add(best.replace(/\+/g, '-').replace(/\//g, '_'));
    }
    if (k === 0) {
      const enc = bytes.toString('base64');
      parts.add(enc);
      parts.add(enc.replace(/=+$/, ''));
    }
  }
  return [...parts];
}
