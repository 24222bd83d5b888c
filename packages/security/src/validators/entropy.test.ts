import fc from 'fast-check';
import { shannonEntropy } from './entropy';

/** The textbook form, −Σ p·log2(p) over the distinct characters. */
function reference(value: string): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < value.length; i++) counts.set(value.charCodeAt(i), (counts.get(value.charCodeAt(i)) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) h -= (c / value.length) * Math.log2(c / value.length);
  return h;
}

describe('shannonEntropy', () => {
  it('gives the exact values of simple distributions', () => {
    expect(shannonEntropy('')).toBe(0);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('ab')).toBe(1);
    expect(shannonEntropy('abcd')).toBe(2);
    expect(shannonEntropy('0123456789abcdef')).toBe(4);
    // Four pairs and eight singles: 3.5 bits exactly, the generic rule's threshold.
    expect(shannonEntropy('aabbccdd01234567')).toBe(3.5);
    expect(shannonEntropy('日本日本')).toBe(1);
  });

  it('equals the textbook formula for any text, also non-ASCII, long and repeated ones, and leaves no state behind', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ maxLength: 2000 }),
      fc.constantFrom('x'.repeat(1500), 'ab'.repeat(700)),
    );
    fc.assert(
      fc.property(text, (value) => {
        expect(shannonEntropy(value)).toBeCloseTo(reference(value), 10);
        // A second call sees the same counts: the tables were left zeroed.
        expect(shannonEntropy(value)).toBe(shannonEntropy(value));
      }),
      { numRuns: 1000 },
    );
  });
});
