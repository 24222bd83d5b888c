/**
 * The parts of base64(x) that do not depend on what surrounds x, for each of the three byte
 * alignments x can have inside a larger encoded blob, in the standard and URL-safe alphabets.
 */
export function stableBase64Parts(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const parts = new Set<string>();
  for (let k = 0; k < 3; k++) {
    const padded = Buffer.concat([Buffer.alloc(k), bytes]);
    const full = Math.floor(padded.length / 3) * 4;
    const enc = padded.toString('base64');
    const part = enc.slice(k > 0 ? 4 : 0, full);
    if (part.length > 0) {
      parts.add(part);
      parts.add(part.replace(/\+/g, '-').replace(/\//g, '_'));
    }
    if (k === 0) {
      parts.add(enc);
      parts.add(enc.replace(/=+$/, ''));
    }
  }
  return [...parts];
}
