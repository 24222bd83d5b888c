import { createOutputSanitizer } from '../output-sanitizer';
import { RULE_CATALOGUE } from './catalogue';
import { RULE_EXAMPLES } from '../test-support/rule-examples';

const sanitizer = createOutputSanitizer();

describe('rule catalogue', () => {
  it('has at least 40 rules with unique kebab-case ids, a severity and a description', () => {
    expect(RULE_CATALOGUE.length).toBeGreaterThanOrEqual(40);
    const ids = RULE_CATALOGUE.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of RULE_CATALOGUE) {
      expect(r.id).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
      expect(['low', 'medium', 'high', 'critical']).toContain(r.severity);
      expect(r.description.length).toBeGreaterThan(10);
    }
  });

  it('has positive and negative examples for every rule except known-secret (tested on its own)', () => {
    const covered = new Set(RULE_EXAMPLES.map((e) => e.id));
    const missing = RULE_CATALOGUE.map((r) => r.id).filter((id) => id !== 'known-secret' && !covered.has(id));
    expect(missing).toEqual([]);
  });

  describe.each(RULE_EXAMPLES)('$id', ({ id, positive, negative }) => {
    it.each(positive)('redacts %j', (input) => {
      const { text, redactions } = sanitizer.sanitize(input);
      expect(redactions.map((r) => r.ruleId)).toContain(id);
      expect(text).toContain(`[REDACTED:${id}]`);
    });
    it.each(negative)('leaves %j alone', (input) => {
      const { redactions } = sanitizer.sanitize(input);
      expect(redactions.map((r) => r.ruleId)).not.toContain(id);
    });
  });
});
