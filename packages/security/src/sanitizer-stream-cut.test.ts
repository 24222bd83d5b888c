import fc from 'fast-check';
import { createOutputSanitizer } from './output-sanitizer';
import { CUT_LOOKAHEAD, MAX_HELD_LINE } from './sanitizer-stream';

const KNOWN = 'kq8-Zr2vTn5wXb7yLm3c-held-by-runtime';
const sanitizer = createOutputSanitizer({ knownSecrets: [KNOWN] });

const TOKENS: Record<string, string> = {
  aws: 'AKIA' + 'QWERTYUIOPASDFGH',
  github: 'ghp_' + 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A',
  stripe: 'sk_live_' + 'a1B2c3D4e5F6g7H8i9J0k1L2',
  known: KNOWN,
  escaped: 'gh\\u0070_' + 'Zz9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD8',
};
/** What the token reveals if any of it leaks: every 8-character piece of its random part. */
const pieces = (token: string): string[] => {
  const body = token.replace(/^(?:AKIA|ghp_|sk_live_|gh\\u0070_)/, '');
  return Array.from({ length: body.length - 7 }, (_, i) => body.slice(i, i + 8));
};

// The cut falls on the last `,` `;` `}` or space in the 4 KiB before MAX_HELD_LINE, else exactly
// there: fillers without those characters put it at the cap, a filler of words just before it.
const FILLERS: Record<string, (n: number) => string> = {
  letters: (n) => 'x'.repeat(n),
  words: (n) => 'word '.repeat(Math.ceil(n / 5)).slice(0, n),
  json: (n) => ('{"k":"v"},'.repeat(Math.ceil(n / 10)) + 'x').slice(0, n),
};
const CONTEXTS: [string, string][] = [
  ['"', '"'],
  [' ', ' '],
  ['=', ';'],
  ['', ''],
];

/** Streams `text` in chunks of the given sizes (cycled) and returns the whole output. */
function streamed(text: string, sizes: number[]): string {
  const bytes = Buffer.from(text);
  const stream = sanitizer.createStream();
  let out = '';
  for (let p = 0, i = 0; p < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    out += stream.write(bytes.subarray(p, p + n));
    p += n;
  }
  return out + stream.end();
}

describe('a forced cut in a long line', () => {
  it('never lets a token through, whatever its offset around the cut, its context and the chunking', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(TOKENS)),
        fc.constantFrom(...Object.keys(FILLERS)),
        fc.constantFrom(...CONTEXTS),
        fc.integer({ min: -48, max: 8 }),
        fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 4 }),
        (name, fillerName, [open, close], shift, sizes) => {
          const token = TOKENS[name];
          // The token starts `shift` characters after the cap: from wholly before to wholly after.
          const at = MAX_HELD_LINE + shift - open.length;
          const text =
            FILLERS[fillerName](at) + open + token + close + FILLERS[fillerName](CUT_LOOKAHEAD + 20_000) + '\ntail\n';
          // Where the one-shot call sees no token (`xAKIA…` after letters has no boundary) there is
          // nothing to keep; everywhere else no piece of it may come out of the stream.
          const oneShot = sanitizer.sanitize(text).text;
          const leaks = (out: string): string[] => pieces(token).filter((piece) => out.includes(piece));
          if (leaks(oneShot).length > 0) return;
          const out = streamed(text, sizes);
          expect(leaks(out)).toEqual([]);
          expect(out.endsWith('\ntail\n')).toBe(true);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('releases a line longer than the cap before it ends, and the output keeps every character that is not secret', () => {
    const line = 'y'.repeat(MAX_HELD_LINE + CUT_LOOKAHEAD + 1000);
    const stream = sanitizer.createStream();
    const first = stream.write(line);
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThanOrEqual(MAX_HELD_LINE);
    expect(first + stream.write('\n') + stream.end()).toBe(line + '\n');
  });

  it('sees the text before the cut as context: a letter before AKIA is no boundary there either', () => {
    const text = 'x'.repeat(MAX_HELD_LINE) + 'xAKIAQWERTYUIOPASDFGH' + 'x'.repeat(CUT_LOOKAHEAD + 100) + '\n';
    const out = streamed(text, [65536]);
    expect(out === sanitizer.sanitize(text).text).toBe(true);
    expect(out.includes('REDACTED')).toBe(false);
  });

  it('redacts a token that straddles the cut whole, once', () => {
    for (const shift of [-10, -4, -1, 0, 1, 3]) {
      const token = TOKENS.github;
      const text = 'x'.repeat(MAX_HELD_LINE + shift - 1) + ' ' + token + ' ' + 'x'.repeat(CUT_LOOKAHEAD + 100) + '\n';
      const out = streamed(text, [4096]);
      expect(out.split('[REDACTED:github-pat]').length).toBe(2);
      expect(out.length).toBe(text.length - token.length + '[REDACTED:github-pat]'.length);
    }
  });
});
