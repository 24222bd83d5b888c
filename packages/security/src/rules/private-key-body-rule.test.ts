import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { createOutputSanitizer } from '../output-sanitizer';
import { derPrivateKeyLength } from './private-key-body-rule';
import { sanitizeInCuts } from '../test-support/sanitize-in-cuts';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const KEYS: Record<string, string> = {
  'PKCS#1 RSA': rsa.export({ type: 'pkcs1', format: 'pem' }) as string,
  'PKCS#8 RSA': rsa.export({ type: 'pkcs8', format: 'pem' }) as string,
  'SEC1 EC P-256': generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    type: 'sec1',
    format: 'pem',
  }) as string,
  'PKCS#8 EC P-384': generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string,
  'PKCS#8 Ed25519': generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
};
/** The base64 body of a PEM block, as the lines inside its armour. */
const bodyLines = (pem: string): string[] => pem.split('\n').filter((l) => l.length > 0 && !l.startsWith('-----'));
const wrap = (b64: string, width: number): string => b64.match(new RegExp(`.{1,${width}}`, 'g'))!.join('\n');

const sanitizer = createOutputSanitizer();
const KEY_SHAPES = Object.entries(KEYS).flatMap(([name, pem]) => {
  const body = bodyLines(pem).join('');
  return [
    [`${name}, armour removed, wrapped at 64`, bodyLines(pem).join('\n')],
    [`${name}, one DER base64 line`, body],
    [`${name}, wrapped at 76`, wrap(body, 76)],
    [`${name}, JSON-escaped lines`, `{"key":"${bodyLines(pem).join('\\n')}"}`],
    [`${name}, with four-dash armour`, pem.replace(/-----/g, '----')],
    [`${name}, with armour, percent-encoded`, encodeURIComponent(pem)],
  ];
});

describe('private keys without armour', () => {
  it.each(KEY_SHAPES)('redacts %s, leaving no line of the body', (_name, shape) => {
    const { text, redactions } = sanitizer.sanitize(`before\n${shape}\nafter`);
    expect(redactions.map((r) => r.ruleId)).toEqual(['private-key']);
    expect(text.startsWith('before\n')).toBe(true);
    expect(text.endsWith('\nafter')).toBe(true);
    for (const line of bodyLines(KEYS['PKCS#1 RSA'])) expect(text).not.toContain(line.slice(0, 24));
    expect(text).not.toMatch(/[A-Za-z0-9+/]{24}/);
  });

  it('streams a wrapped body in any chunking exactly as the one-shot call', () => {
    const input = `key:\n${bodyLines(KEYS['PKCS#8 RSA']).join('\n')}\ndone\n`;
    const bytes = Buffer.from(input);
    const expected = sanitizer.sanitize(input).text;
    expect(expected).toBe('key:\n[REDACTED:private-key]\ndone\n');
    fc.assert(
      fc.property(fc.array(fc.nat(bytes.length), { maxLength: 10 }), (cuts) => {
        expect(sanitizeInCuts(sanitizer, bytes, cuts)).toBe(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('redacts an OpenSSH key body without its armour, wrapped at 70 columns or on one line', () => {
    // What ssh-keygen writes for an Ed25519 key inside its BEGIN/END lines (a test key).
    const body = [
      'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
      'QyNTUxOQAAACBWkkke/savsdheut+oGfVntnQi9imEk+eCMBeqVnWzpwAAAJCHamRBh2pk',
      'QQAAAAtzc2gtZWQyNTUxOQAAACBWkkke/savsdheut+oGfVntnQi9imEk+eCMBeqVnWzpw',
      'AAAEDeadbeefcafe0123456789abcdefABCDEFghijklmnopqrstuvwxyz012345678901',
    ];
    expect(sanitizer.sanitize(`key:\n${body.join('\n')}\ndone`).text).toBe(
      'key:\n[REDACTED:openssh-private-key]\ndone',
    );
    expect(sanitizer.sanitize(`"${body.join('')}"`).text).toBe('"[REDACTED:openssh-private-key]"');
  });

  it('reads the DER header: a SEQUENCE with version 0 or 1 and the fields a private key has', () => {
    const der = (hex: string): string => Buffer.from(hex.replace(/ /g, ''), 'hex').toString('base64');
    expect(derPrivateKeyLength(der('30 82 04 a4 02 01 00 02 82 01 01 00'), 0)).toBe(0x4a4 + 4);
    expect(derPrivateKeyLength(der('30 77 02 01 01 04 20 00 00 00 00 00'), 0)).toBe(0x77 + 2);
    // A certificate (SEQUENCE of SEQUENCE), a public key, an INTEGER version 2: no private key.
    expect(derPrivateKeyLength(der('30 82 03 00 30 82 02 a8 a0 03 02 01'), 0)).toBe(-1);
    expect(derPrivateKeyLength(der('30 59 30 13 06 07 2a 86 48 ce 3d 02'), 0)).toBe(-1);
    expect(derPrivateKeyLength(der('30 82 04 a4 02 01 02 02 82 01 01 00'), 0)).toBe(-1);
  });

  it('leaves certificates, public keys and words that start like a key body alone', () => {
    const cert = 'MIIDazCCAlOgAwIBAgIUYwBvq1o2bB8f5n1vF2yFq2vSxYcwDQYJKoZIhvcNAQELBQAwRTELMAkGA1UEBhMCQVUx';
    const pub = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqkEwP0rRXr0Ry3MaAuC8cQWYo9LzgGRr6bGi5N0uJ5oZ2cO3kZp4nNBjX3HhYf7s';
    for (const input of [
      cert,
      pub,
      'MIGRATION complete, MIIS loaded, MHcC is not a key',
      '----BEGIN CERTIFICATE----\nMIIB\n----END CERTIFICATE----',
    ]) {
      expect(sanitizer.sanitize(input).redactions).toEqual([]);
    }
  });
});
