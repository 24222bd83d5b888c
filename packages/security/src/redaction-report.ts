import type { Rule, Span } from './rules/rule';
import type { Redaction } from './types';

/** Counts redactions per rule; reports name rules and counts, never values. */
export class RedactionTally {
  private readonly counts = new Map<number, number>();

  constructor(private readonly rules: readonly Rule[]) {}

  add(rule: number): void {
    this.counts.set(rule, (this.counts.get(rule) ?? 0) + 1);
  }

  report(): Redaction[] {
    // Several rules may share an id (base64 and hex blobs, PEM blocks and bare key bodies): one line each.
    const byId = new Map<string, Redaction>();
    for (const [r, count] of [...this.counts].sort((a, b) => a[0] - b[0])) {
      const line = byId.get(this.rules[r].id);
      if (line === undefined)
        byId.set(this.rules[r].id, { ruleId: this.rules[r].id, severity: this.rules[r].severity, count });
      else line.count += count;
    }
    return [...byId.values()];
  }
}

/** text[0, limit) with each span replaced by `[REDACTED:<rule id>]`. */
export function applySpans(
  text: string,
  spans: readonly Span[],
  limit: number,
  rules: readonly Rule[],
  tally: RedactionTally,
): string {
  if (spans.length === 0) return limit === text.length ? text : text.slice(0, limit);
  let out = '';
  let pos = 0;
  for (const s of spans) {
    out += text.slice(pos, s.start) + `[REDACTED:${rules[s.rule].id}]`;
    pos = s.end;
    tally.add(s.rule);
  }
  return out + text.slice(pos, limit);
}
