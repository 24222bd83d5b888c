import { BastionError } from '@bastion/core';
import { createOutputSanitizer } from './output-sanitizer';

describe('custom rules from the policy file', () => {
  it('redacts what a valid RE2 rule matches, with its own id and severity', () => {
    const s = createOutputSanitizer({
      customRules: [{ id: 'acme-ticket', pattern: 'ACME-[0-9]{6}', severity: 'low' }],
    });
    const out = s.sanitize('see ACME-123456 and acme-654321');
    expect(out.text).toBe('see [REDACTED:acme-ticket] and acme-654321');
    expect(out.redactions).toEqual([{ ruleId: 'acme-ticket', severity: 'low', count: 1 }]);
    const ci = createOutputSanitizer({ customRules: [{ id: 'acme-ticket', pattern: 'acme-[0-9]{6}', flags: 'i' }] });
    expect(ci.sanitize('ACME-123456').text).toBe('[REDACTED:acme-ticket]');
  });

  it('rejects every bad rule in one INVALID_INPUT: backreferences, lookaround, bad ids, duplicates, empty matches', () => {
    let error: unknown;
    try {
      createOutputSanitizer({
        customRules: [
          { id: 'backref', pattern: '(a)\\1' },
          { id: 'lookahead', pattern: 'foo(?=bar)' },
          { id: 'lookbehind', pattern: '(?<!x)y' },
          { id: 'Bad Id', pattern: 'x' },
          { id: 'github-pat', pattern: 'x' },
          { id: 'empty', pattern: 'a*' },
          { id: 'flags', pattern: 'x', flags: 'y' },
          { id: 'fine', pattern: 'ok[0-9]+' },
          { id: 'fine', pattern: 'dup' },
        ],
      });
    } catch (e) {
      error = e;
    }
    expect(BastionError.isInstance(error)).toBe(true);
    const e = error as BastionError;
    expect(e.code).toBe('INVALID_INPUT');
    const ids = (e.details?.rules as { id: string }[]).map((r) => r.id);
    expect(ids).toEqual(['backref', 'lookahead', 'lookbehind', 'Bad Id', 'github-pat', 'empty', 'flags', 'fine']);
  });

  it('runs a pattern that backtracks catastrophically in V8, (a+)+$, in linear time', () => {
    const s = createOutputSanitizer({ customRules: [{ id: 'evil', pattern: '(a+)+$' }] });
    const input = 'a'.repeat(50_000) + '!';
    const started = performance.now();
    const out = s.sanitize(input);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(out.text).toBe(input);
    expect(s.sanitize('xx aaaa').text).toBe('xx [REDACTED:evil]');
  });

  it('applies custom rules line by line, the same in a stream as in one shot', () => {
    const s = createOutputSanitizer({
      customRules: [{ id: 'internal-host', pattern: '[a-z0-9-]+\\.corp\\.internal' }],
    });
    const input = 'db-1.corp.internal ok\nno host here\nweb.corp.internal';
    const stream = s.createStream();
    let out = '';
    for (const ch of input) out += stream.write(ch);
    out += stream.end();
    expect(out).toBe(s.sanitize(input).text);
    expect(out).toBe('[REDACTED:internal-host] ok\nno host here\n[REDACTED:internal-host]');
  });
});
