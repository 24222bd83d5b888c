import fc from 'fast-check';
import { hasDigitAndLetter, isKnownLookAlike } from './secret-value';

/** The definitions the character-code versions must agree with. */
const reference = {
  isKnownLookAlike(value: string): boolean {
    const n = value.length;
    if ((n === 40 || n === 64) && /^[0-9a-f]+$/i.test(value)) return true;
    if (n === 36 && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return true;
    return /^sha(?:1|256|384|512)[-:]/.test(value);
  },
  hasDigitAndLetter: (value: string): boolean => /\d/.test(value) && /[A-Za-z]/.test(value),
};

// Hex digits of both cases, their neighbours in the code table, the UUID hyphen, and characters
// whose code | 32 would land on a hex letter or a letter if the range checks were loose.
const char = fc.constantFrom(...'0123456789abcdefABCDEFgGzZ-/:@[`{\u00c1\u0130\u0661'.split(''));
const uuidLike = fc.array(char, { minLength: 36, maxLength: 36 }).map((cs) => cs.join(''));
const hexish = (n: number): fc.Arbitrary<string> =>
  fc
    .array(fc.constantFrom(...'0123456789abcdefABCDEF'.split('')), { minLength: n, maxLength: n })
    .chain((cs) =>
      fc
        .tuple(fc.boolean(), fc.nat(n - 1), char)
        .map(([keep, at, c]) => (keep ? cs.join('') : [...cs.slice(0, at), c, ...cs.slice(at + 1)].join(''))),
    );

describe('secret-value checks by character codes', () => {
  it('isKnownLookAlike agrees with its regex definition', () => {
    const value = fc.oneof(
      fc.uuid(),
      fc.uuid().map((u) => u.toUpperCase()),
      uuidLike,
      hexish(36),
      hexish(40),
      hexish(64),
      fc.constantFrom('sha256-abc', 'sha1:x', 'sha512-', 'sha3-x', 'sha'),
      fc.string({ maxLength: 70 }),
    );
    fc.assert(
      fc.property(value, (v) => isKnownLookAlike(v) === reference.isKnownLookAlike(v)),
      { numRuns: 3000 },
    );
  });

  it('hasDigitAndLetter agrees with /\\d/ and /[A-Za-z]/', () => {
    const value = fc.oneof(
      fc.array(char, { maxLength: 40 }).map((cs) => cs.join('')),
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
    );
    fc.assert(
      fc.property(value, (v) => hasDigitAndLetter(v) === reference.hasDigitAndLetter(v)),
      { numRuns: 3000 },
    );
  });

  it('knows the look-alikes by shape', () => {
    expect(isKnownLookAlike('d2233c08-5811-4b44-a947-62e4c7add5c9')).toBe(true);
    expect(isKnownLookAlike('D2233C08-5811-4B44-A947-62E4C7ADD5C9')).toBe(true);
    expect(isKnownLookAlike('d2233c08-5811-4b44-a947-62e4c7add5cg')).toBe(false);
    expect(isKnownLookAlike('d2233c0805811-4b44-a947-62e4c7add5c9')).toBe(false);
    expect(isKnownLookAlike('9786a9d13d1d5a5c3f1e0b2a7c6d5e4f3a2b1c0d')).toBe(true);
    expect(isKnownLookAlike('9786a9d13d1d5a5c3f1e0b2a7c6d5e4f3a2b1c0z')).toBe(false);
    expect(hasDigitAndLetter('abc1')).toBe(true);
    expect(hasDigitAndLetter('abc-def')).toBe(false);
    expect(hasDigitAndLetter('123\u0661')).toBe(false);
  });
});
