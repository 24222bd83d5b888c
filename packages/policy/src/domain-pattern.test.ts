import fc from 'fast-check';
import { domainPatternProblem, matchDomain } from './domain-pattern';
import { Policy } from './policy-schema';
import { DEFAULT_POLICY_INPUT } from './default-policy';

describe('matchDomain', () => {
  it('lets an exact pattern match only that host, case- and trailing-dot-insensitively', () => {
    expect(matchDomain('API.Example.com.', ['api.example.com'], []).allow).toBe(true);
    expect(matchDomain('x.api.example.com', ['api.example.com'], []).allow).toBe(false);
    expect(matchDomain('example.com', ['api.example.com'], []).allow).toBe(false);
  });

  it('lets *.example.com match subdomains at any depth but never example.com itself', () => {
    expect(matchDomain('a.example.com', ['*.example.com'], []).allow).toBe(true);
    expect(matchDomain('a.b.example.com', ['*.example.com'], []).allow).toBe(true);
    expect(matchDomain('example.com', ['*.example.com'], []).allow).toBe(false);
    expect(matchDomain('badexample.com', ['*.example.com'], []).allow).toBe(false);
  });

  it('refuses by default and says why', () => {
    expect(matchDomain('evil.test', [], [])).toEqual({
      allow: false,
      reason: "evil.test is not in the policy's allow list",
    });
  });

  it('lets deny win over allow and names the deny pattern', () => {
    const v = matchDomain('secret.example.com', ['*.example.com'], ['secret.example.com']);
    expect(v).toMatchObject({ allow: false, pattern: 'secret.example.com' });
    expect(v.reason).toContain('deny');
  });

  it('refuses hosts that are not host names', () => {
    for (const host of ['', '*', 'a b.com', 'evil.com/x.example.com', 'x.example.com\0']) {
      expect(matchDomain(host, ['*.example.com'], []).allow).toBe(false);
    }
  });

  it('accepts IP literals as exact patterns', () => {
    expect(matchDomain('127.0.0.1', ['127.0.0.1'], []).allow).toBe(true);
    expect(matchDomain('[::1]', ['::1'], []).allow).toBe(true);
    expect(domainPatternProblem('*.0.0.1')).toBeDefined();
  });
});

describe('domain patterns in the schema', () => {
  it.each([
    '*',
    '**',
    '*.com',
    '**.example.com',
    'foo*.example.com',
    '*.*.example.com',
    'https://example.com',
    'example.com:443',
  ])('rejects the over-broad or ambiguous pattern %s', (pattern) => {
    expect(domainPatternProblem(pattern)).toBeDefined();
    const parsed = Policy.safeParse({
      ...DEFAULT_POLICY_INPUT,
      network: { mode: 'gateway', allow: ['ok.example.com', pattern] },
    });
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(parsed.error.issues[0].path).toEqual(['network', 'allow', 1]);
  });
});

describe('wildcards against the Public Suffix List', () => {
  it.each([
    ['*.co.uk', 'co.uk'],
    ['*.com.au', 'com.au'],
    ['*.github.io', 'github.io'],
    ['*.s3.amazonaws.com', 's3.amazonaws.com'],
    ['*.CO.UK.', 'co.uk'],
  ])('rejects %s in policy check, naming the pattern and the public suffix %s it covers', (pattern, suffix) => {
    const problem = domainPatternProblem(pattern);
    expect(problem).toContain(`"${pattern}"`);
    expect(problem).toContain(`"${suffix}" is a public suffix`);
    const parsed = Policy.safeParse({
      ...DEFAULT_POLICY_INPUT,
      network: { mode: 'gateway', allow: ['ok.example.com', pattern] },
    });
    expect(parsed.success).toBe(false);
    if (!parsed.success) {
      expect(parsed.error.issues[0].path).toEqual(['network', 'allow', 1]);
      expect(parsed.error.issues[0].message).toContain(suffix);
    }
  });

  it.each([
    '*.example.co.uk',
    '*.octocat.github.io',
    '*.my-bucket.s3.amazonaws.com',
    '*.api.example.com',
    '*.corp.internal',
  ])('accepts %s, which sits under a registrable domain', (pattern) => {
    expect(domainPatternProblem(pattern)).toBeUndefined();
    expect(matchDomain(`a.${pattern.slice(2)}`, [pattern], []).allow).toBe(true);
  });

  it('keeps exact hosts, IP literals and localhost as they were, public suffix or not', () => {
    for (const host of ['co.uk', 'github.io', 'localhost', '127.0.0.1', '::1', '[::1]', 'example.co.uk']) {
      expect(domainPatternProblem(host)).toBeUndefined();
    }
    expect(matchDomain('localhost', ['localhost'], []).allow).toBe(true);
    expect(matchDomain('127.0.0.1', ['127.0.0.1'], []).allow).toBe(true);
  });

  it('never lets a rejected public-suffix wildcard allow anything', () => {
    expect(matchDomain('evil.co.uk', ['*.co.uk'], []).allow).toBe(false);
    expect(matchDomain('attacker.github.io', ['*.github.io'], []).allow).toBe(false);
  });
});

const label = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const hostArb = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
const patternArb = fc.oneof(
  hostArb,
  fc.array(label, { minLength: 2, maxLength: 3 }).map((ls) => '*.' + ls.join('.')),
);

describe('domain properties', () => {
  it('never allows a denied host, whatever wildcards the allow list holds (property)', () => {
    fc.assert(
      fc.property(
        hostArb,
        fc.array(patternArb, { maxLength: 6 }),
        fc.array(label, { maxLength: 3 }),
        (denied, allow, prefix) => {
          // The host itself denied exactly: never reachable, even with `*.<its parent>` allowed.
          const parent = denied.split('.').slice(1).join('.');
          const allowAll = parent.includes('.') ? [...allow, `*.${parent}`, denied] : [...allow, denied];
          expect(matchDomain(denied, allowAll, [denied]).allow).toBe(false);
          // A denied wildcard covers every subdomain, whatever is allowed.
          if (denied.includes('.')) {
            const sub = [...prefix, 'x', denied].join('.');
            expect(matchDomain(sub, [...allowAll, sub], [`*.${denied}`]).allow).toBe(false);
          }
        },
      ),
    );
  });

  it('allows a host only when some allow pattern matches it (deny by default, property)', () => {
    fc.assert(
      fc.property(hostArb, fc.array(patternArb, { maxLength: 6 }), (host, allow) => {
        const v = matchDomain(host, allow, []);
        if (v.allow) {
          expect(allow).toContain(v.pattern);
          const p = v.pattern as string;
          expect(p.startsWith('*.') ? host.endsWith(p.slice(1)) && host !== p.slice(2) : host === p).toBe(true);
        }
      }),
    );
  });
});
