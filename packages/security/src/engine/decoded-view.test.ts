import fc from 'fast-check';
import { createOutputSanitizer } from '../output-sanitizer';
import { decodeView, sourceSpan } from './decoded-view';
import { sanitizeInCuts } from '../test-support/sanitize-in-cuts';

const GH = 'ghp_' + 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A';
const AWS = 'AKIA' + 'QWERTYUIOPASDFGH';
const KNOWN = 'kq8-Zr2vTn5wXb7yLm3c';
const sanitizer = createOutputSanitizer({ knownSecrets: [KNOWN] });

const uEscape = (s: string): string =>
  [...s].map((c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')).join('');
const percentAll = (s: string): string =>
  [...Buffer.from(s)].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('');

describe('decodeView', () => {
  it('decodes escapes, %XX and format characters, and maps every view unit back to its source', () => {
    const src = 'a\\u0062c%64\u200be\\/f\\\\u0067\\x68';
    const view = decodeView(src, 0, src.length)!;
    expect(view.text).toBe('abcde/fgh');
    expect(sourceSpan(view, 1, 2)).toEqual([1, 7]);
    expect(sourceSpan(view, 3, 5)).toEqual([8, 13]);
    expect(src.slice(...sourceSpan(view, 0, view.text.length))).toBe(src);
  });

  it('leaves text without markers alone (undefined), and keeps other escapes as written', () => {
    expect(decodeView('plain \\n text 100%', 0, 18)).toBeUndefined();
    expect(decodeView('a\\nb\\u00', 0, 8)).toBeUndefined();
  });

  it('decodes %XX runs as UTF-8, and an escaped surrogate pair as one character', () => {
    expect(decodeView('%E2%82%AC%FF', 0, 12)!.text).toBe('€\u00ff');
    expect(decodeView('\\ud83d\\ude00!', 0, 13)!.text).toBe('😀!');
    expect(decodeView('x\\u200by%E2%80%8Bz', 0, 18)!.text).toBe('xyz');
  });
});

describe('sanitizing decoded text', () => {
  const cases: [string, string, string][] = [
    ['one JSON \\u escape', `{"result":"the key is gh\\u0070${GH.slice(3)}"}`, 'github-pat'],
    ['every character \\u-escaped', `"${uEscape(GH)}"`, 'github-pat'],
    ['a JSON string inside a JSON string (\\\\u)', `"k":"\\\\u0041KIA${AWS.slice(4)}"`, 'aws-access-key-id'],
    [
      'escaped slashes in a webhook URL',
      'https:\\/\\/hooks.slack.com\\/services\\/T0ABCDEFG\\/B0ABCDEFG\\/abcdefghijABCDEFGHIJ1234',
      'slack-webhook-url',
    ],
    ['\\x escapes', `b'\\x67\\x68\\x70${GH.slice(3)}'`, 'github-pat'],
    ['%XX on every byte', percentAll(GH), 'github-pat'],
    [
      '%xx, lower case, on part of it',
      `token=${AWS.slice(0, 6)}${percentAll(AWS.slice(6)).toLowerCase()}`,
      'aws-access-key-id',
    ],
    ['U+200B between every character', [...GH].join('\u200b'), 'github-pat'],
    [
      'U+00AD, U+2060, U+FEFF between characters',
      `${AWS.slice(0, 4)}\u00ad${AWS.slice(4, 9)}\u2060${AWS.slice(9, 12)}\ufeff${AWS.slice(12)}`,
      'aws-access-key-id',
    ],
    ['a Cf tag character (U+E0020)', `${GH.slice(0, 10)}\u{e0020}${GH.slice(10)}`, 'github-pat'],
    ['a JSON escape, percent-encoded (%5Cu0067)', `q=%5Cu0067hp_${GH.slice(4)}`, 'github-pat'],
    ['percent-encoding, JSON-escaped (\\u0025)', `"\\u002567hp_${GH.slice(4)}"`, 'github-pat'],
    ['a known secret, \\u-escaped', `"secret":"${uEscape(KNOWN)}"`, 'known-secret'],
    ['a known secret with zero-width joiners', [...KNOWN].join('\u200d'), 'known-secret'],
    ['a known secret, %XX on every byte', percentAll(KNOWN), 'known-secret'],
  ];

  it.each(cases)('redacts a token written with %s, over the whole encoded span', (_name, input, ruleId) => {
    const { text, redactions } = sanitizer.sanitize(`before ${input} after`);
    expect(redactions.map((r) => r.ruleId)).toContain(ruleId);
    expect(text).toMatch(/^before .*\[REDACTED:[a-z0-9-]+\].* after$/);
    // Nothing of the encoded token is left: no escape, no %XX, no invisible character.
    expect(text).not.toMatch(
      /\\u[0-9a-f]{4}|%[0-9A-F]{2}|\\x[0-9a-f]{2}|[\u00ad\u200b-\u200f\u2060\ufeff]|\u{e0020}/iu,
    );
  });

  it('streams decoded matches exactly as the one-shot call, for any chunking', () => {
    const input = cases.map(([, text]) => `line ${text} end`).join('\n') + '\n';
    const bytes = Buffer.from(input);
    const oneShot = sanitizer.sanitize(input).text;
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 12 }), (cuts) => {
        expect(sanitizeInCuts(sanitizer, bytes, cuts)).toBe(oneShot);
      }),
      { numRuns: 200 },
    );
  });

  it('leaves escapes, percent signs and format characters in ordinary text as they are', () => {
    for (const input of [
      '{"msg":"caf\\u00e9 \\u2014 ok"}',
      'GET /search?q=a%20b&lang=en 200',
      'emoji 👍🏽 and \u200bzero width',
      '100% done, C:\\\\x86\\\\bin',
    ]) {
      expect(sanitizer.sanitize(input)).toEqual({ text: input, redactions: [] });
    }
  });
});
