import fc from 'fast-check';
import { base64SecretRule } from '../rules/base64-secret-rule';
import { PII_RULES, SECRET_RULES } from '../rules/catalogue';
import { PEM_LABELS, pemPattern } from '../rules/credential-rules';
import { DEFAULT_HOME_PREFIXES, hostPathRule } from '../rules/host-path-rules';
import type { Rule, Span } from '../rules/rule';
import { RULE_EXAMPLES } from '../test-support/rule-examples';
import { Detector, mergeSpans } from './detector';

const RULES: Rule[] = [
  ...SECRET_RULES,
  ...PII_RULES,
  hostPathRule(DEFAULT_HOME_PREFIXES),
  base64SecretRule(SECRET_RULES),
];
/** The same rules without any prefilter: every anchor reaches the rule. */
const UNFILTERED: Rule[] = RULES.map((rule) => ({
  ...rule,
  anchorBefore: undefined,
  anchorAfter: undefined,
  anchorFollow: undefined,
  startsAt: undefined,
}));

// Text around the anchors the prefilters look at: each filter must only skip anchors at which its
// rule cannot match.
const fragment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...RULE_EXAMPLES.flatMap((e) => [...e.positive, ...e.negative])) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'password',
      'PASSWORD',
      'passwordHash',
      'passwd',
      'passphrase',
      'token',
      'tokens',
      'Tokens:',
      'secret',
      'SECRET_KEY',
      'secret-key',
      'secret_access_key',
      'SecretAccessKey',
      'credential',
      'credentials',
      '@',
      '@@',
      'a@b',
      'x.y@',
      '://',
      'http://',
      'u:p@',
      'SK',
      'AC',
      '-----BEGIN ',
      '-----BEGIN RSA PRIVATE KEY-----',
      '-----BEGIN OPENSSH PRIVATE KEY-----',
      '-----END ',
    ),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      ' ',
      '=',
      ': ',
      '"',
      "'",
      '\t',
      '\n',
      '_',
      '-',
      'é',
      'ŀ',
      'Ł',
      '\u0153',
      '\\n',
      'abc123XYZ789def456',
      '0f1e2d3c4b5a6978',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

describe('Detector prefilters', () => {
  const filtered = new Detector(RULES);
  const unfiltered = new Detector(UNFILTERED);

  it('find exactly what the rules find without them (anchor classes, follow classes, PEM labels)', () => {
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 30 }), (parts) => {
        const text = parts.join('');
        expect(filtered.detect(text, text.length, true).spans).toEqual(
          unfiltered.detect(text, text.length, true).spans,
        );
      }),
      { numRuns: 1500 },
    );
  });
});

describe('digit-run filters', () => {
  // Digit groups joined by the characters a run may hold, and what can come before a phone number.
  const group = fc.oneof(
    fc.constantFrom('1', '12', '415', '555', '2671', '2026', '11', '24', '22', '+1', '0'),
    fc.stringMatching(/^[0-9]{1,5}$/),
  );
  const joint = fc.constantFrom(' ', '-', '.', '(', ')', ') ', '/', '', ':', ' (', '+', 'x');
  const shaped = fc.constantFrom(
    '1415-555-2671',
    '(415) 555-2671',
    '+1 415 555 2671',
    '415.555.2671',
    '1 (415) 555-2671',
    '+14155552671',
    '1(415)555-2671',
    '078-05-1120',
    '4111 1111 1111 1111',
    '2026-11-24 22:11:31',
    '12 415-555-2671 9',
    'DE89 3704 0044 0532 0130 00',
  );
  const runs = fc
    .array(
      fc.oneof(
        shaped,
        fc.tuple(joint, group).map(([j, g]) => j + g),
      ),
      { minLength: 1, maxLength: 8 },
    )
    .map((parts) => parts.join(''));

  it('never drop a run in which their rule matches', () => {
    for (const rule of PII_RULES.filter((r) => r.scan === 'digits')) {
      const detector = new Detector([rule]);
      fc.assert(
        fc.property(fc.array(runs, { maxLength: 4 }), (parts) => {
          const text = parts.join(' call ');
          // What the rule's regex finds in the whole text, with no windows and no filter.
          const expected: Span[] = [];
          rule.find(text, 0, text.length, 0, expected, 0);
          const found = detector.detect(text, text.length, true).spans;
          for (const span of expected) expect(found.some((f) => f.start <= span.start && f.end >= span.end)).toBe(true);
        }),
        { numRuns: 1500 },
      );
    }
  });
});

describe('PEM rules', () => {
  const ids = new Set(PEM_LABELS.map((l) => l.id));
  const rules = SECRET_RULES.filter((r) => ids.has(r.id) && r.multiline === true);
  const detector = new Detector(rules);
  // Headers, footers and body pieces of every label, raw and escaped line breaks, and text a body
  // may not hold, so that blocks nest, share footers, lack them and end at the text's end.
  const piece = fc.oneof(
    fc.constantFrom(
      ...[
        'RSA PRIVATE KEY',
        'PRIVATE KEY',
        'ENCRYPTED PRIVATE KEY',
        'OPENSSH PRIVATE KEY',
        'PGP PRIVATE KEY BLOCK',
      ].flatMap((l) => [`-----BEGIN ${l}-----`, `-----END ${l}-----`]),
    ),
    fc.constantFrom(
      'MIIEowIBAAKCAQEA',
      'b3BlbnNzaC1rZXk=',
      'x+y/z=',
      'QUJD'.repeat(4),
      '\n',
      '\\n',
      '\n',
      ' ',
      ':',
      ',',
      '-',
      '"',
      '!',
      '{"k":"',
    ),
  );

  it('find at each BEGIN exactly the blocks a search of the whole text finds', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        const expected: Span[] = [];
        rules.forEach((rule, r) => {
          const re = new RegExp(pemPattern(PEM_LABELS.find((l) => l.id === rule.id)!.label).source, 'g');
          for (let m = re.exec(text); m !== null; m = re.exec(text))
            expected.push({ start: m.index, end: m.index + m[0].length, rule: r });
        });
        expect(detector.detect(text, text.length, true).spans).toEqual(mergeSpans(expected, text));
      }),
      { numRuns: 1500 },
    );
  });
});
