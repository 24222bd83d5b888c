import { createOutputSanitizer } from '../output-sanitizer';

const GH = 'ghp_' + 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A';
const AWS = 'AKIA' + 'QWERTYUIOPASDFGH';
const PEM =
  '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJ\n-----END RSA PRIVATE KEY-----\n';
const hex = (s: string): string => Buffer.from(s).toString('hex');
const sanitizer = createOutputSanitizer();

describe('hex-encoded secrets', () => {
  it.each([
    ['a GitHub token', hex(GH)],
    ['an AWS key id, upper case, inside a longer blob', hex(`{"key":"${AWS}"}`).toUpperCase()],
    ['a PEM private key block', hex(PEM)],
    ['a token at an odd offset of a hex run', 'a' + hex(`x ${GH}`)],
  ])('redacts the whole hex run of %s as base64-encoded-secret', (_name, blob) => {
    const { text, redactions } = sanitizer.sanitize(`dump: ${blob} end`);
    expect(text).toBe('dump: [REDACTED:base64-encoded-secret] end');
    expect(redactions).toEqual([{ ruleId: 'base64-encoded-secret', severity: 'high', count: 1 }]);
  });

  it.each([0, 1, 7, 30])(
    'redacts a token and a known secret in `xxd -p` output (60 columns, shift %i) whole',
    (pad) => {
      const known = 'held-by-runtime-0123456789abcdefXYZ';
      const withKnown = createOutputSanitizer({ knownSecrets: [known] });
      const dump = (value: string): string =>
        hex(`${'#'.repeat(pad)}\nTOKEN=${value}\nPATH=/usr/local/bin:/usr/bin\n`)
          .match(/.{1,60}/g)!
          .join('\n');
      expect(withKnown.sanitize(`$ xxd -p env\n${dump(GH)}\n$ next`).text).toBe(
        '$ xxd -p env\n[REDACTED:base64-encoded-secret]\n$ next',
      );
      expect(withKnown.sanitize(`$ xxd -p env\n${dump(known)}\n$ next`).text).toBe(
        '$ xxd -p env\n[REDACTED:known-secret]\n$ next',
      );
    },
  );

  it('leaves hex that decodes to nothing secret alone: digests, ids, a lone prefix', () => {
    for (const input of [
      `sha256 ${'ab12'.repeat(16)}`,
      `commit ${hex('ghp_')}00aa11bb22cc`,
      hex('hello world, nothing here'),
    ]) {
      expect(sanitizer.sanitize(input).redactions).toEqual([]);
    }
  });
});
