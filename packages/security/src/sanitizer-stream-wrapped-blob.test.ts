import { createOutputSanitizer } from './output-sanitizer';

// Regression for 05bea8f (#20): a chunk that ended inside a wrapped base64 blob, after its second
// line, emitted the blob's first line on its own, because only the last encoded line was held back;
// the one-shot scan joins the lines and redacts the whole blob. fast-check found it; these are fixed
// inputs of that shape (a blob of three 76-column lines whose secret sits past the first line), so the
// case is checked on every run, not only when the generator happens to hit it.
const HELD = 'runtime-held-key-0123456789';
const TOKEN = 'ghp_' + 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A';
const sanitizer = createOutputSanitizer({ knownSecrets: [HELD] });

/** `base64` output of `plain`, wrapped at 76 columns as base64(1) and PEM bodies are. */
const wrappedBase64 = (plain: string): string[] =>
  Buffer.from(plain)
    .toString('base64')
    .match(/.{1,76}/g) ?? [];

const CASES = [
  {
    name: 'a runtime-held key',
    plain: 'x'.repeat(120) + ` export HELD=${HELD} and more text`,
    secret: HELD,
    redacted: 'log\n[REDACTED:known-secret]\ndone\n',
  },
  {
    name: 'a GitHub token',
    plain: ' pad'.repeat(30) + `token ${TOKEN}` + ' pad'.repeat(30),
    secret: TOKEN,
    redacted: 'log\n[REDACTED:base64-encoded-secret]\ndone\n',
  },
];

function streamed(bytes: Buffer, cuts: number[]): string {
  const stream = sanitizer.createStream();
  let out = '';
  let prev = 0;
  for (const cut of [...cuts, bytes.length]) {
    out += stream.write(bytes.subarray(prev, cut));
    prev = cut;
  }
  return out + stream.end();
}

describe.each(CASES)('a wrapped base64 blob holding $name', ({ plain, secret, redacted }) => {
  const lines = wrappedBase64(plain);
  const bytes = Buffer.from(`log\n${lines.join('\n')}\ndone\n`);

  it('is redacted whole by the one-shot scan', () => {
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(sanitizer.sanitize(bytes).text).toBe(redacted);
  });

  it('streamed in two chunks cut at every byte offset gives the one-shot result, with no line of the blob left', () => {
    const wrong: { cut: number; out: string }[] = [];
    for (let cut = 0; cut <= bytes.length; cut++) {
      const out = streamed(bytes, [cut]);
      if (out !== redacted) wrong.push({ cut, out });
      const left = [secret, Buffer.from(secret).toString('base64').slice(0, 16), ...lines].filter((form) =>
        out.includes(form),
      );
      if (left.length > 0) wrong.push({ cut, out: `left: ${left.join(', ')}` });
    }
    expect(wrong).toEqual([]);
  });

  it('streamed one byte at a time and one line at a time gives the one-shot result', () => {
    expect(
      streamed(
        bytes,
        Array.from({ length: bytes.length }, (_, i) => i),
      ),
    ).toBe(redacted);
    const lineEnds = [...bytes.toString().matchAll(/\n/g)].map((m) => (m.index ?? 0) + 1);
    expect(streamed(bytes, lineEnds)).toBe(redacted);
  });
});
