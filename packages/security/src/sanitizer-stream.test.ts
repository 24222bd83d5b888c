import fc from 'fast-check';
import { createOutputSanitizer } from './output-sanitizer';
import { RULE_EXAMPLES } from './test-support/rule-examples';
import { stripTerminalControls } from './terminal-controls';
import type { OutputSanitizer, Redaction } from './types';

const sanitizer = createOutputSanitizer({ knownSecrets: ['runtime-held-key-0123456789'] });
const positives = RULE_EXAMPLES.flatMap((e) => e.positive);
const HELD_B64 = Buffer.from('export HELD=runtime-held-key-0123456789 and more text to wrap over two lines').toString(
  'base64',
);
const ENCODED_PIECES = [
  '\\u0067hp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A',
  '\\u00',
  '\\\\u0041KIA',
  '\\/',
  '%67%68%70%5F',
  '%6',
  '%E2%80%8B',
  '\u200b',
  '\u00ad',
  '\u2060',
  '\ufeff',
  HELD_B64.slice(0, 76) + '\n' + HELD_B64.slice(76),
  HELD_B64.slice(0, 40),
  'Ab'.repeat(30) + '\n',
  '-'.repeat(50) + '\n',
  'MIIEowIBAAKCAQEA' + 'q1w2e3r4'.repeat(8),
  'MC4CAQAwBQYDK2VwBCIEI' + 'z'.repeat(43),
  Buffer.from('ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A').toString('hex'),
  '----BEGIN RSA PRIVATE KEY----\nMIIEowIBAAKCAQEA' + 'x'.repeat(40) + '\n----END RSA PRIVATE KEY----',
];
const negatives = RULE_EXAMPLES.flatMap((e) => e.negative);

function streamThrough(s: OutputSanitizer, chunks: (Uint8Array | string)[]): { text: string; redactions: Redaction[] } {
  const stream = s.createStream();
  let text = '';
  for (const c of chunks) text += stream.write(c);
  text += stream.end();
  return { text, redactions: stream.redactions() };
}

function splitBytes(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

const fragment = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 3, arbitrary: fc.constantFrom(...positives) },
  { weight: 2, arbitrary: fc.constantFrom(...negatives) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '\n',
      '\r\n',
      ' ',
      '"',
      '=',
      ': ',
      '\\n',
      '\x1b[31m',
      '\x1b[0m',
      '\x1b]8;;http://x\x07',
      '\x1b]52;c;aGk=\x07',
      'é',
      '日本',
      '🔑',
      '\t',
    ),
  },
  // Characters above U+00FF whose low byte is an ASCII letter, digit or control: the scan image
  // made while decoding must not take them for one.
  { weight: 1, arbitrary: fc.constantFrom('\u0141KIA', '\u0167oken=', 'gh\u0170_', '\u011b', '\u1b1b', '\u0140') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'runtime-held-key-0123456789',
      Buffer.from('runtime-held-key-0123456789').toString('base64'),
    ),
  },
  // Encodings the decoded view, the wrapped-blob rules and the key-body rule read, and pieces of them.
  { weight: 2, arbitrary: fc.constantFrom(...ENCODED_PIECES) },
);
const document = fc.array(fragment, { maxLength: 40 }).map((parts) => parts.join(''));

describe('SanitizerStream', () => {
  it('gives exactly the one-shot result for any input cut into any byte chunks', () => {
    fc.assert(
      fc.property(document, fc.array(fc.nat(), { maxLength: 20 }), (input, cuts) => {
        const bytes = Buffer.from(input, 'utf8');
        const oneShot = sanitizer.sanitize(bytes);
        const streamed = streamThrough(sanitizer, splitBytes(bytes, cuts));
        expect(streamed.text).toBe(oneShot.text);
        expect(streamed.redactions).toEqual(oneShot.redactions);
        // A string is scanned from an image made of the string itself, not while decoding.
        expect(sanitizer.sanitize(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes)).text).toBe(oneShot.text);
      }),
      { numRuns: 1000 },
    );
  });

  it('strips controls where the chunks are decoded exactly as the one-shot stripper does, also sequences longer than its first look', () => {
    // Bodies around 96 characters end near the edge of the stripper's first window; bodies near
    // 8,192 reach the bound of a string sequence.
    const body = (min: number, max: number): fc.Arbitrary<string> => fc.integer({ min, max }).map((n) => 'b'.repeat(n));
    const part = fc.oneof(
      fc.constantFrom(
        '\x1b[31m',
        '\x1b[0m',
        '\x1b[',
        '\x07',
        '\x00',
        '\x1b\\',
        '\x9c',
        '\x1b',
        '\n',
        'line\n',
        'é',
        '日本',
        ' text ',
        '\r\n',
      ),
      body(84, 100).map((b) => `\x1b]0;${b}`),
      body(84, 100).map((b) => `\x1b]8;;http://x/${b}\x07`),
      body(84, 100).map((b) => `\x1bP${b}\x1b\\`),
      body(84, 100).map((b) => `\x9d${b}\x9c`),
      body(8180, 8200).map((b) => `\x1b]0;${b}`),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 24 }), fc.array(fc.nat(), { maxLength: 12 }), (parts, cuts) => {
        const input = parts.join('');
        const bytes = Buffer.from(input, 'utf8');
        const expected = stripTerminalControls(new TextDecoder().decode(bytes));
        expect(streamThrough(sanitizer, splitBytes(bytes, cuts)).text).toBe(expected);
        expect(sanitizer.sanitize(bytes).text).toBe(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('sanitizes a write larger than its decoding piece (256 KiB) exactly as the same text given as a string or in small chunks', () => {
    const line = (k: number): string =>
      `${k} ${positives[k % positives.length]} naïve 日本 \x1b[31mred\x1b[0m ${negatives[k % negatives.length]}\n`;
    let text = '';
    for (let k = 0; text.length < 300_000; k++) text += line(k);
    // Put a three-byte character across the first piece boundary.
    const bytes = Buffer.from(text, 'utf8');
    const head = bytes
      .subarray(0, 262_143)
      .toString('utf8')
      .replace(/\uFFFD+$/, '');
    const pad = 262_143 - Buffer.byteLength(head);
    const input = Buffer.from(head + 'x'.repeat(pad) + '日' + text.slice(head.length), 'utf8');
    expect(input.subarray(262_143, 262_146).toString('utf8')).toBe('日');
    const whole = sanitizer.sanitize(input);
    expect(whole.text).toBe(sanitizer.sanitize(input.toString('utf8')).text);
    const chunked = streamThrough(
      sanitizer,
      splitBytes(
        input,
        Array.from({ length: 40 }, (_, i) => (i + 1) * 12_345),
      ),
    );
    expect(chunked.text).toBe(whole.text);
    expect(chunked.redactions).toEqual(whole.redactions);
    expect(whole.redactions.reduce((n, r) => n + r.count, 0)).toBeGreaterThan(1000);
  });

  it('catches every example secret fed one byte at a time', () => {
    for (const secret of positives) {
      const bytes = Buffer.from(`before ${secret} after\n`);
      const chunks = Array.from(bytes, (b) => Uint8Array.of(b));
      const streamed = streamThrough(sanitizer, chunks);
      expect(streamed.text).toBe(sanitizer.sanitize(bytes).text);
      expect(streamed.text).toContain('[REDACTED:');
    }
  });

  it('never splits a UTF-8 character, whatever the chunk boundaries', () => {
    const input = 'naïve café 日本語 🔑 emoji ✓\n'.repeat(20);
    const bytes = Buffer.from(input);
    const streamed = streamThrough(
      sanitizer,
      Array.from(bytes, (b) => Uint8Array.of(b)),
    );
    expect(streamed.text).toBe(input);
    expect(streamed.text).not.toContain('\ufffd');
  });

  it('decodes ASCII chunks after a cut or broken character exactly like one UTF-8 decode of the whole', () => {
    const e = Buffer.from('é');
    const cases: Uint8Array[][] = [
      [e.subarray(0, 1), e.subarray(1), Buffer.from('abc\n')],
      [e.subarray(0, 1), Buffer.from('abc\n')],
      [Buffer.from('x'), e.subarray(0, 1), Buffer.from('y'), Buffer.from('z\n')],
      [Buffer.from([0xf0, 0x9f]), Buffer.from([0x94, 0x91]), Buffer.from('ok\n')],
      [Buffer.from([0xf0, 0x9f]), Buffer.from('ok\n')],
    ];
    for (const chunks of cases) {
      const whole = Buffer.concat(chunks);
      expect(streamThrough(sanitizer, chunks).text).toBe(new TextDecoder().decode(whole));
    }
  });

  it('finds every example wherever it sits in a long line and a long text (the scan splits large texts in two)', () => {
    const filler = 'lorem ipsum dolor-sit amet, '.repeat(40);
    for (const secret of positives.filter((p) => !p.includes('\n'))) {
      // The scan splits a text of n characters at (3 + n) / 2: put the secret across that point.
      const mid = (3 + 2 * filler.length + secret.length + 4) >>> 1;
      const across = [-2, -1, 0, 1, 2].map((d) => mid - 1 - (secret.length >> 1) + d);
      for (const offset of [0, 1, 2, 3, mid - secret.length - 1, mid - 2, mid - 1, ...across]) {
        const line = filler.slice(0, offset) + ' ' + secret + ' ' + filler.slice(offset);
        const text = sanitizer.sanitize(line + '\n' + filler + '\n').text;
        expect(text).toContain('[REDACTED:');
        expect(text).not.toContain(secret);
      }
    }
  });

  it('passes text that is not secret through unchanged and releases whole lines as they complete', () => {
    const stream = sanitizer.createStream();
    expect(stream.write('hello ')).toBe('');
    expect(stream.write('world\nnext')).toBe('hello world\n');
    expect(stream.end()).toBe('next');
  });

  it('holds a PEM block back until its END line, then redacts it as one piece', () => {
    const pem = positives.find((p) => p.startsWith('-----BEGIN RSA'))!;
    const stream = sanitizer.createStream();
    let out = '';
    for (const line of `log line\n${pem}\nafter\n`.split(/(?<=\n)/)) out += stream.write(line);
    out += stream.end();
    expect(out).toBe('log line\n[REDACTED:private-key]\nafter\n');
  });

  it('refuses writes after end() with INVALID_INPUT and makes end() idempotent', () => {
    const stream = sanitizer.createStream();
    expect(stream.write('a')).toBe('');
    expect(stream.end()).toBe('a');
    expect(stream.end()).toBe('');
    expect(() => stream.write('b')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('keeps counting in redactions() across writes and reports no values', () => {
    const stream = sanitizer.createStream();
    stream.write('a ghp_' + 'a1B2c3D4e5'.repeat(4).slice(0, 36) + '\n');
    stream.write('b ghp_' + 'Z9y8X7w6V5'.repeat(4).slice(0, 36) + '\n');
    stream.end();
    expect(stream.redactions()).toEqual([{ ruleId: 'github-pat', severity: 'critical', count: 2 }]);
    expect(JSON.stringify(stream.redactions())).not.toContain('ghp_');
  });
});
