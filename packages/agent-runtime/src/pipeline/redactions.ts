import type { Redaction } from '@bastion/providers';

/** One report entry per rule, counts summed, sorted by rule id (what `redactions[]` promises). */
export function mergeRedactions(...lists: { ruleId: string; severity?: string; count: number }[][]): Redaction[] {
  const byRule = new Map<string, Redaction>();
  for (const list of lists) {
    for (const r of list) {
      const prev = byRule.get(r.ruleId);
      byRule.set(r.ruleId, {
        ruleId: r.ruleId,
        ...(r.severity ? { severity: r.severity } : {}),
        count: (prev?.count ?? 0) + r.count,
      });
    }
  }
  return [...byRule.values()].sort((a, b) => a.ruleId.localeCompare(b.ruleId));
}
