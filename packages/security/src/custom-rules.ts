import { BastionError } from '@bastion/core';
import { RE2JS } from 're2js';
import type { Rule, Span } from './rules/rule';
import type { CustomRuleInput, Severity } from './types';

const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];
const ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
const MAX_PATTERN = 2000;

export interface CustomRuleProblem {
  id: string;
  reason: string;
}

/**
 * Compiles policy-file rules with RE2 (re2js), which matches in time linear in the input, so no
 * policy can make the sanitizer hang. Constructs RE2 cannot run in linear time (backreferences,
 * lookaround) fail to compile and are reported; all problems are collected into one error.
 */
export function compileCustomRules(inputs: readonly CustomRuleInput[], reservedIds: ReadonlySet<string>): Rule[] {
  const problems: CustomRuleProblem[] = [];
  const seen = new Set<string>();
  const rules: Rule[] = [];
  inputs.forEach((input, i) => {
    const id = typeof input?.id === 'string' ? input.id : `#${i}`;
    const fail = (reason: string): void => {
      problems.push({ id, reason });
    };
    if (!ID.test(id)) return fail('id must be kebab-case (a-z, 0-9, -), 2–63 characters');
    if (reservedIds.has(id)) return fail('id collides with a built-in rule');
    if (seen.has(id)) return fail('id is used twice');
    seen.add(id);
    if (typeof input.pattern !== 'string' || input.pattern.length === 0)
      return fail('pattern must be a non-empty string');
    if (input.pattern.length > MAX_PATTERN) return fail(`pattern is longer than ${MAX_PATTERN} characters`);
    if (input.severity !== undefined && !SEVERITIES.includes(input.severity))
      return fail(`severity must be one of ${SEVERITIES.join(', ')}`);
    let flags = 0;
    for (const f of input.flags ?? '') {
      if (f === 'i') flags |= RE2JS.CASE_INSENSITIVE;
      else if (f === 's') flags |= RE2JS.DOTALL;
      else if (f === 'm') flags |= RE2JS.MULTILINE;
      else if (f !== 'g' && f !== 'u') return fail(`flag '${f}' is not supported (use i, s, m)`);
    }
    let re: RE2JS;
    try {
      re = RE2JS.compile(input.pattern, flags);
    } catch (error) {
      return fail(`not a linear-time (RE2) pattern: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (re.matches('')) return fail('pattern matches the empty string');
    rules.push({
      id,
      severity: input.severity ?? 'high',
      description: input.description ?? `Custom rule ${id} from the policy file.`,
      before: 0,
      after: 0,
      find(text: string, from: number, to: number, index: number, out: Span[]) {
        const m = re.matcher(text.slice(from, to));
        while (m.find()) {
          const s = m.start();
          const e = m.end();
          if (e > s) out.push({ start: from + s, end: from + e, rule: index });
        }
      },
    });
  });
  if (problems.length > 0) {
    throw new BastionError(
      'INVALID_INPUT',
      `${problems.length} custom sanitizer rule(s) rejected: ${problems.map((p) => p.id).join(', ')}`,
      {
        details: { rules: problems },
      },
    );
  }
  return rules;
}
