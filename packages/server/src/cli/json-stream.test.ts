import fc from 'fast-check';
import { writeJson } from './json-stream';

const streamed = (v: unknown) => {
  const parts: string[] = [];
  writeJson((t) => parts.push(t), v);
  return parts;
};

describe('writeJson', () => {
  it('writes exactly what JSON.stringify(value, null, 2) would (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(streamed(v).join('')).toBe(JSON.stringify(v, null, 2));
      }),
      { numRuns: 500 },
    );
  });

  it('drops undefined fields and nulls undefined array items, as JSON.stringify does', () => {
    const v = { a: undefined, b: [undefined, 1], c: { d: new Date(0) }, e: 'x' };
    expect(streamed(v).join('')).toBe(JSON.stringify(v, null, 2));
  });

  it('writes a string longer than one slice in slices that parse back to the same text, split surrogate pairs included', () => {
    const big = 'a"\n\\'.repeat(300_000) + '😀'.repeat(700_000);
    const parts = streamed({ stdout: big, stderr: '' });
    expect(Math.max(...parts.map((p) => p.length))).toBeLessThan(3 << 20);
    expect(JSON.parse(parts.join(''))).toEqual({ stdout: big, stderr: '' });
  });
});
