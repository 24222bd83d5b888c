import fc from 'fast-check';
import { base64SecretRule } from '../rules/base64-secret-rule';
import { PII_RULES, SECRET_RULES } from '../rules/catalogue';
import { DEFAULT_HOME_PREFIXES, hostPathRule } from '../rules/host-path-rules';
import type { Rule } from '../rules/rule';
import { RULE_EXAMPLES } from '../rules/rule-examples';
import { Detector } from './detector';

const RULES: Rule[] = [...SECRET_RULES, ...PII_RULES, hostPathRule(DEFAULT_HOME_PREFIXES), base64SecretRule(SECRET_RULES)];
/** The same rules without any prefilter: every anchor reaches the rule. */
const UNFILTERED: Rule[] = RULES.map((rule) => ({ ...rule, anchorBefore: undefined, anchorAfter: undefined, anchorFollow: undefined, startsAt: undefined }));

// Text around the anchors the prefilters look at: each filter must only skip anchors at which its
// rule cannot match.
const fragment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...RULE_EXAMPLES.flatMap((e) => [...e.positive, ...e.negative])) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'password', 'PASSWORD', 'passwordHash', 'passwd', 'passphrase', 'token', 'tokens', 'Tokens:', 'secret', 'SECRET_KEY',
      'secret-key', 'secret_access_key', 'SecretAccessKey', 'credential', 'credentials', '@', '@@', 'a@b', 'x.y@', '://', 'http://',
      'u:p@', 'SK', 'AC', '-----BEGIN ', '-----BEGIN RSA PRIVATE KEY-----', '-----BEGIN OPENSSH PRIVATE KEY-----', '-----END ',
    ),
  },
  { weight: 3, arbitrary: fc.constantFrom(' ', '=', ': ', '"', "'", '\t', '\n', '_', '-', 'é', 'ŀ', 'Ł', '\u0153', '\\n', 'abc123XYZ789def456', '0f1e2d3c4b5a6978') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

describe('Detector prefilters', () => {
  const filtered = new Detector(RULES);
  const unfiltered = new Detector(UNFILTERED);

  it('find exactly what the rules find without them (anchor classes, follow classes, PEM labels)', () => {
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 30 }), (parts) => {
        const text = parts.join('');
        expect(filtered.detect(text, text.length, true).spans).toEqual(unfiltered.detect(text, text.length, true).spans);
      }),
      { numRuns: 1500 },
    );
  });
});
