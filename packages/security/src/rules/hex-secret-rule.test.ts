import { createOutputSanitizer } from '../output-sanitizer';

const GH = 'ghp_' + 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z5A';
const AWS = 'AKIA' + 'QWERTYUIOPASDFGH';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJ\n-----END RSA PRIVATE KEY-----\n';
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

  it('leaves hex that decodes to nothing secret alone: digests, ids, a lone prefix', () => {
    for (const input of [`sha256 ${'ab12'.repeat(16)}`, `commit ${hex('ghp_')}00aa11bb22cc`, hex('hello world, nothing here')]) {
      expect(sanitizer.sanitize(input).redactions).toEqual([]);
    }
  });
});
