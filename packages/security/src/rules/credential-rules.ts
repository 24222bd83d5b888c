import { shannonEntropy } from '../validators/entropy';
import { hasDigitAndLetter, isKnownLookAlike, looksLikeCode, looksLikePath } from '../validators/secret-value';
import { opensshKeyBodyRule, privateKeyBodyRule } from './private-key-body-rule';
import { leftAnchored, regexRule, type Rule } from './rule';

/** PEM bodies may be raw lines or JSON/shell-escaped (`\n`, `\\n`) on one line. */
const PEM_BODY = String.raw`(?:\\{1,4}[nr]|[\sA-Za-z0-9+/=:,.-]){16,16000}?`;

/** The whole block a PEM rule redacts, for a label pattern. */
export const pemPattern = (label: string): RegExp =>
  new RegExp(`-{4,5}BEGIN ${label}-{4,5}${PEM_BODY}-{4,5}END ${label}-{4,5}`);

/** The PEM rules' ids and label patterns. */
export const PEM_LABELS: readonly { id: string; label: string; description: string }[] = [
  {
    id: 'private-key',
    label: '(?!OPENSSH )(?:[A-Z0-9]+ ){0,3}PRIVATE KEY',
    description: 'PEM private key block (RSA, EC, DSA, PKCS#8, encrypted).',
  },
  { id: 'openssh-private-key', label: 'OPENSSH PRIVATE KEY', description: 'OpenSSH private key block.' },
  { id: 'pgp-private-key', label: 'PGP PRIVATE KEY BLOCK', description: 'PGP private key block.' },
];

function pem(id: string, description: string, label: string): Rule {
  const rule = regexRule({
    id,
    severity: 'critical',
    description,
    // Four dashes or five: the anchor is the last four before BEGIN.
    anchors: ['----BEGIN'],
    after: 16384,
    multiline: true,
    stickyCapable: true,
    head: new RegExp(`----BEGIN ${label}-{4,5}`),
    pattern: pemPattern(label),
  });
  const matchAt = rule.matchAt!;
  // A block starts at its BEGIN: match there only, once per BEGIN (usesAnchor) that is not inside
  // the block before it, instead of searching the rest of a 16 KiB window after every block (on
  // the bench corpus 5–7 µs per BEGIN before, 1.8–3.5 µs after). Returns where the block ends.
  const find: Rule['find'] = (text, _from, _to, index, out, anchor) => {
    const n = out.length;
    matchAt(text, anchor, index, out);
    if (out.length === n) return undefined;
    if (anchor > 0 && text.charCodeAt(anchor - 1) === 45) out[n].start--;
    return out[n].end;
  };
  return { ...rule, usesAnchor: true, find };
}

function secretValue(value: string): boolean {
  return !looksLikeCode(value) && !isKnownLookAlike(value);
}

export const credentialRules: Rule[] = [
  ...PEM_LABELS.map(({ id, description, label }) => pem(id, description, label)),
  privateKeyBodyRule(),
  opensshKeyBodyRule(),
  regexRule({
    id: 'jwt',
    sticky: true,
    severity: 'high',
    description: 'JSON Web Token (three base64url parts, header and payload starting with eyJ).',
    anchors: ['eyJ'],
    before: 1,
    after: 8192,
    pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,4000}\.eyJ[A-Za-z0-9_-]{8,4000}\.[A-Za-z0-9_-]{0,2000}/,
  }),
  leftAnchored(
    regexRule({
      id: 'url-credentials',
      stickyCapable: true,
      severity: 'critical',
      description: 'Password in a URL (scheme://user:password@host); only the password is redacted.',
      anchors: ['://'],
      before: 32,
      after: 420,
      pattern: /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,30}:\/\/[^\s:@/"'<>\\]{1,128}:([^\s@/"'<>\\]{1,256})(?=@)/,
      validate: secretValue,
    }),
    'A-Za-z0-9+.-',
    32,
  ),
  regexRule({
    id: 'authorization-bearer',
    sticky: true,
    severity: 'critical',
    description: 'Bearer token (Authorization: Bearer …).',
    foldedAnchors: ['bearer'],
    after: 4200,
    pattern: /bearer[ \t]+([A-Za-z0-9\-._~+/]{12,4096}=*)/i,
    validate: (v) => hasDigitAndLetter(v) && secretValue(v),
  }),
  regexRule({
    id: 'authorization-basic',
    sticky: true,
    severity: 'critical',
    description: 'HTTP Basic credentials (Authorization: Basic base64(user:password)).',
    foldedAnchors: ['authorization'],
    after: 1100,
    pattern: /authorization["']?[ \t]*[:=][ \t]*["']?basic[ \t]+([A-Za-z0-9+/]{6,1024}={0,2})/i,
  }),
  regexRule({
    id: 'password-assignment',
    sticky: true,
    severity: 'high',
    description: 'A value assigned to password/passwd/pwd (env, YAML, JSON, code) that is not code or a placeholder.',
    foldedAnchors: [
      'password',
      'passwd',
      'passphrase',
      'pass=',
      'pass:',
      'pass"',
      "pass'",
      'pwd=',
      'pwd:',
      'pwd"',
      "pwd'",
    ],
    // After the whole word: a quote, a blank, : or = (the pattern's next tokens).
    anchorFollow: { password: `"' \t:=`, passwd: `"' \t:=`, passphrase: `"' \t:=` },
    before: 1,
    after: 200,
    // A keyword right after a slash is a file name (`cat: /etc/passwd: Permission denied`), and a
    // path value says where a secret is kept (`PWD=/home/alice/src`, `DB_PASSWORD=/run/secrets/db`).
    pattern:
      /(?<![/\\])(?:password|passwd|passphrase|(?<![A-Za-z])pass|(?<![A-Za-z])pwd)["']?(?:[ \t]*[:=][ \t]*["'`]?|[ \t]+["'])([^\s"'`,;\\]{3,128})/i,
    validate: (v) => secretValue(v) && !looksLikePath(v),
  }),
  regexRule({
    id: 'secret-assignment',
    sticky: true,
    severity: 'high',
    description: 'A value assigned to secret/client_secret/secret_key that is not code or a placeholder.',
    foldedAnchors: ['secret'],
    anchorFollow: { secret: `_kK"' \t:=-` },
    after: 300,
    pattern: /secret(?:[_-]?key)?["']?[ \t]*[:=][ \t]*["'`]?([^\s"'`,;\\]{6,256})/i,
    validate: (v) => secretValue(v) && !looksLikePath(v),
  }),
  regexRule({
    id: 'generic-high-entropy-secret',
    sticky: true,
    severity: 'medium',
    description:
      'A high-entropy value (≥ 3.5 bits/char, letters and digits) assigned to a key/token/secret/credential-like name.',
    foldedAnchors: [
      'key=',
      'key:',
      'key"',
      "key'",
      'key =',
      'key :',
      'keys=',
      'keys:',
      'token',
      'secret',
      'credential',
    ],
    // After token/secret/credential: the plural s, a quote, a blank, : or =.
    anchorFollow: { token: `sS"' \t:=`, secret: `sS"' \t:=`, credential: `sS"' \t:=` },
    after: 600,
    pattern:
      /(?:keys?|tokens?|secrets?|credentials?)["']?[ \t]*[:=][ \t]*["'`]?([A-Za-z0-9+/_.~-]{16,512}={0,2})(?![A-Za-z0-9+/_.~=-])/i,
    // Look-alikes (UUIDs, hashes) are the common case, so they are tested first; entropy, which
    // counts every character (~7 ns each here), comes last.
    validate: (v) =>
      !isKnownLookAlike(v) &&
      hasDigitAndLetter(v) &&
      !/^[A-Za-z]+(?:[_.-][A-Za-z0-9]+)+$/.test(v) &&
      !looksLikeCode(v) &&
      shannonEntropy(v) >= 3.5,
  }),
];
