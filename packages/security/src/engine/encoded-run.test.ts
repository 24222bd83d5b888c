import fc from 'fast-check';
import { createOutputSanitizer } from '../output-sanitizer';
import { encodedRunAround } from './encoded-run';
import { sanitizeInCuts } from '../test-support/sanitize-in-cuts';

const KNOWN = 'sk-live-known-0123456789abcdefABCDEF';
const GH = 'ghp_' + 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A';
const sanitizer = createOutputSanitizer({ knownSecrets: [KNOWN] });
const wrap = (b64: string, width: number): string => b64.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n');
const env = (value: string, pad: number): string =>
  `HOME=/root\n${'X'.repeat(pad)}=1\nAPI_KEY=${value}\nPATH=/usr/local/bin:/usr/bin:/bin\nLANG=C.UTF-8\n`;

describe('wrapped base64', () => {
  it('follows a run over full-width lines, not into an ordinary next line', () => {
    const text = `${'Ab'.repeat(38)}\n${'Cd'.repeat(38)}\nEf==\nNext line`;
    expect(encodedRunAround(text, 80, 4096)).toEqual([0, text.indexOf('\nNext')]);
    expect(encodedRunAround('short\nline', 2, 4096)).toEqual([0, 5]);
    // Padding ends a blob; a rule of dashes is no blob's first line.
    expect(encodedRunAround(`${'Ab'.repeat(38)}==\nNext`, 3, 4096)).toEqual([0, 78]);
    const rule = `${'-'.repeat(60)}\n${'Ab'.repeat(30)}`;
    expect(encodedRunAround(rule, 70, 4096)).toEqual([61, rule.length]);
  });

  // Every shift of the secret inside the blob moves the line breaks through its encoding.
  it.each([0, 1, 2, 3, 17, 40, 57, 75])(
    'redacts a known secret in `env | base64` wrapped at 76 columns (shift %i)',
    (pad) => {
      const blob = wrap(Buffer.from(env(KNOWN, pad)).toString('base64'), 76);
      const { text, redactions } = sanitizer.sanitize(`$ env | base64\n${blob}\n$ echo done`);
      expect(text).toBe('$ env | base64\n[REDACTED:known-secret]\n$ echo done');
      expect(redactions).toEqual([{ ruleId: 'known-secret', severity: 'critical', count: 1 }]);
    },
  );

  it('redacts a token in a wrapped base64 blob as base64-encoded-secret, wherever the wraps fall (also inside its prefix)', () => {
    const missed: number[] = [];
    for (let pad = 0; pad < 76 * 3; pad++) {
      const blob = wrap(Buffer.from(env(GH, pad)).toString('base64'), 76);
      if (sanitizer.sanitize(`${blob}\nok`).text !== '[REDACTED:base64-encoded-secret]\nok') missed.push(pad);
    }
    expect(missed).toEqual([]);
  });

  it('streams wrapped blobs exactly as the one-shot call, for any chunking', () => {
    const input =
      [0, 7, 21].map((pad) => wrap(Buffer.from(env(KNOWN, pad)).toString('base64'), 76)).join('\nsep\n') + '\nend\n';
    const bytes = Buffer.from(input);
    const expected = sanitizer.sanitize(input).text;
    expect(expected).toBe('[REDACTED:known-secret]\nsep\n[REDACTED:known-secret]\nsep\n[REDACTED:known-secret]\nend\n');
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 10 }), (cuts) => {
        expect(sanitizeInCuts(sanitizer, bytes, cuts)).toBe(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('leaves wrapped base64 without a secret alone', () => {
    const blob = wrap(Buffer.from('just some harmless text '.repeat(20)).toString('base64'), 76);
    expect(sanitizer.sanitize(blob)).toEqual({ text: blob, redactions: [] });
  });
});
