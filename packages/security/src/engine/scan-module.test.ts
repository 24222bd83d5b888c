import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import { controlPositions, StreamDecoder } from './scan-module';

const isControl = (c: number): boolean => (c < 0x20 && c !== 9 && c !== 10 && c !== 13) || (c >= 0x7f && c <= 0x9f);

// Bytes that make UTF-8 interesting: ASCII (controls too), continuation bytes, every kind of lead
// byte including the ones with narrowed ranges (E0, ED, F0, F4) and the never-valid ones.
const utf8ish = fc.oneof(
  fc.integer({ min: 0, max: 0x7f }),
  fc.integer({ min: 0x80, max: 0xbf }),
  fc.constantFrom(0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0x85, 0x9b, 0x9f, 0xa0),
);
const valid = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => [...Buffer.from(s, 'utf8')]);

describe('StreamDecoder', () => {
  it('decodes exactly as a streaming TextDecoder, for any bytes cut into any chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.array(utf8ish, { maxLength: 12 }), valid), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (parts, cuts) => {
          const bytes = Uint8Array.from(parts.flat());
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const reference = new TextDecoder();
          const ours = new StreamDecoder();
          let expected = '';
          let actual = '';
          let prev = 0;
          for (const p of [...points, bytes.length]) {
            const chunk = bytes.subarray(prev, p);
            expected += reference.decode(chunk, { stream: true });
            const { text, controls } = ours.decode(chunk);
            actual += text;
            // The listed controls are exactly the control characters of this chunk's text.
            const listed = [...(controls ?? [])];
            for (let i = 0; i < text.length; i++) expect(listed.includes(i)).toBe(isControl(text.charCodeAt(i)));
            prev = p;
          }
          expected += reference.decode();
          actual += ours.end();
          expect(actual).toBe(expected);
          expect(ours.clean).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('decodes long ASCII runs (the sixteen-byte path) and a chunk over the 1 MiB slice', () => {
    const text = 'plain ascii line with a \x1b[1m control\né ✓ 🔑\n'.repeat(30_000);
    const bytes = Buffer.from(text, 'utf8');
    expect(bytes.length).toBeGreaterThan(1 << 20);
    const decoder = new StreamDecoder();
    expect(decoder.decode(bytes).text + decoder.end()).toBe(text);
    const small = new StreamDecoder().decode(Buffer.from('0123456789abcdef\x1b0123456789abcde\x7f', 'latin1'));
    expect([...(small.controls ?? [])]).toEqual([16, 32]);
  });

  it('holds a split character until it completes, and ends an incomplete one with U+FFFD', () => {
    const decoder = new StreamDecoder();
    const key = Buffer.from('🔑', 'utf8');
    expect(decoder.decode(key.subarray(0, 2)).text).toBe('');
    expect(decoder.clean).toBe(false);
    expect(decoder.decode(key.subarray(2)).text).toBe('🔑');
    expect(decoder.decode(key.subarray(0, 3)).text).toBe('');
    expect(decoder.end()).toBe('\ufffd');
    expect(decoder.clean).toBe(true);
  });
});

describe('controlPositions', () => {
  it('lists every C0 (but \\t \\n \\r), DEL and C1 character, and no character whose low byte is one', () => {
    const text = 'a\x1b[31mb\tc\nd\re\x7ff\x85g\x9fh\u011bi\u0100j\u1b1b' + 'x'.repeat(40) + '\x07';
    const expected = [...text].flatMap((ch, i) => (isControl(ch.charCodeAt(0)) ? [i] : []));
    expect([...(controlPositions(text) ?? [])]).toEqual(expected);
    expect(expected).not.toContain(text.indexOf('\u011b'));
    expect(expected).toHaveLength(5);
  });

  it('leaves texts over 1 MiB to the caller', () => {
    expect(controlPositions('a'.repeat((1 << 20) + 1))).toBeUndefined();
  });
});

describe('without WebAssembly', () => {
  it('refuses to build a sanitizer, with a typed error that names the cause', () => {
    const saved = Object.getOwnPropertyDescriptor(globalThis, 'WebAssembly');
    Reflect.deleteProperty(globalThis, 'WebAssembly');
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { createOutputSanitizer } = require('../output-sanitizer') as typeof import('../output-sanitizer');
        expect(() =>
          createOutputSanitizer({ customRules: [{ id: 'isolated', pattern: 'x{3}', severity: 'low' }] }),
        ).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/WebAssembly/) }));
      });
    } finally {
      if (saved) Object.defineProperty(globalThis, 'WebAssembly', saved);
    }
  });
});

describe('the committed scan module', () => {
  it('is what assembly/scan.ts compiles to', () => {
    // Throws (exit 1, with the reason on stderr) when src/engine/scan-wasm.ts is stale.
    execFileSync(process.execPath, [join(__dirname, '../../scripts/build-wasm.mjs'), '--check'], { stdio: 'pipe' });
  }, 60_000);
});
