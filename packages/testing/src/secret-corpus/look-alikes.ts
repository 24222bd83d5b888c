import { fillerLine, uuid } from './filler';
import { B64, DIGITS, HEX, Prng } from './prng';

export interface LookAlikeOptions {
  seed: number;
  count?: number;
}

/** Fixed strings that resemble secrets or PII and must never be redacted. */
export const FIXED_LOOK_ALIKES: readonly string[] = [
  'password: string;',
  'const secret = process.env.SECRET_NAME;',
  'Authorization: Bearer ${TOKEN}',
  'Bearer authentication is described in RFC 6750.',
  'http://localhost:8080/health',
  'git@github.com:bastion/bastion.git',
  'icon@2x.png and logo@3x.webp',
  'import x from "@bastion/core"; @Component({ selector: "app" })',
  'npm install lodash@4.17.21',
  '000-12-3456 666-12-3456 900-12-3456 123-00-4567 123-45-0000',
  '4111111111111112',
  '1234 5678 9012 3456',
  'DE00 3704 0044 0532 0130 00',
  'cd /home && ls /Users',
  'version 1.2.3.4 build 2026.11.24 epoch 1732443600',
  'sk-learn is not a key; sk-1 neither',
  'AKIA is a prefix; AKIAEXAMPLE is too short',
  'ghp_short and gho_ are not tokens',
  'const token = getToken();',
  'password = req.body.password',
  'secret: ${{ secrets.NPM_TOKEN }}',
  '-----BEGIN CERTIFICATE-----',
  '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----',
  'eyJhbGciOiJIUzI1NiJ9 alone is just a header',
  'The token expired; the key rotated; credentials are in the vault.',
  'api_key = "changeme"',
  '"key": "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"',
];

/**
 * Strings that look like secrets or PII but are not: git SHAs, UUIDs, sha512 integrity hashes,
 * sha256 image digests, ordinary code and the fixed cases above. A sanitizer must leave every one
 * untouched.
 */
export function generateLookAlikes(options: LookAlikeOptions): string[] {
  const r = new Prng(options.seed);
  const count = options.count ?? 200;
  const out: string[] = [...FIXED_LOOK_ALIKES];
  const makers: ((r: Prng) => string)[] = [
    (r) => r.chars(HEX, 40),
    (r) => `commit ${r.chars(HEX, 40)}`,
    (r) => uuid(r),
    (r) => `"integrity": "sha512-${r.chars(B64, 86)}=="`,
    (r) => `sha256:${r.chars(HEX, 64)}`,
    (r) => `image@sha256:${r.chars(HEX, 64)}`,
    (r) => `sha1-${r.chars(B64, 27)}=`,
    (r) => `"key": "${uuid(r)}"`,
    (r) => `token: ${r.chars(HEX, 40)}`,
    (r) => `elapsed ${r.chars(DIGITS, 13)} ms`,
    fillerLine,
  ];
  for (let i = 0; i < count; i++) out.push(r.pick(makers)(r));
  return out;
}
