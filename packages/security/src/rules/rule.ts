import type { RuleInfo, Severity } from '../types';

/** A redaction found in a text: [start, end) is replaced by `[REDACTED:<rule id>]`. */
export interface Span {
  start: number;
  end: number;
  rule: number;
}

/**
 * A detection rule. The engine finds cheap anchors first (literal strings, or a shared scan such as
 * digit runs) and only calls `find` on a window around each anchor, clipped to the anchor's line
 * (or, for multi-line rules, to `after` characters), so the expensive part runs only near hits.
 */
export interface Rule extends RuleInfo {
  /** Literal anchors, matched case-sensitively. */
  anchors?: readonly string[];
  /** ASCII anchors matched case-insensitively; at least 4 characters. */
  foldedAnchors?: readonly string[];
  /** A shared scan instead of literals. */
  scan?: 'digits' | 'twilio';
  /** How far before the anchor a match may start, and after the anchor start it may end. */
  before: number;
  after: number;
  /** True when a match may cross line breaks (PEM blocks). */
  multiline?: boolean;
  /** True when `find` looks at the anchor position, not only the window; turns off window de-duplication. */
  usesAnchor?: boolean;
  /** Appends the spans found in text[from, to) to `out`, tagging them with `index`; `anchor` is the hit. */
  find(text: string, from: number, to: number, index: number, out: Span[], anchor: number): void;
}

export interface RegexRuleSpec {
  id: string;
  severity: Severity;
  description: string;
  anchors?: readonly string[];
  foldedAnchors?: readonly string[];
  scan?: Rule['scan'];
  before?: number;
  after: number;
  multiline?: boolean;
  /** Compiled once; `g` is added. When it has a capture group 1, only that group is redacted and it must end the match. */
  pattern: RegExp;
  /** Extra check on the redacted value (Luhn, mod-97, entropy, not-code). */
  validate?: (value: string) => boolean;
}

/** Builds a rule from a regex: the common case. */
export function regexRule(spec: RegexRuleSpec): Rule {
  const flags = spec.pattern.flags.includes('g') ? spec.pattern.flags : spec.pattern.flags + 'g';
  const re = new RegExp(spec.pattern.source, flags);
  const validate = spec.validate;
  return {
    id: spec.id,
    severity: spec.severity,
    description: spec.description,
    anchors: spec.anchors,
    foldedAnchors: spec.foldedAnchors,
    scan: spec.scan,
    before: spec.before ?? 0,
    after: spec.after,
    multiline: spec.multiline,
    find(text, from, to, index, out) {
      const window = text.slice(from, to);
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(window)) !== null) {
        const whole = m[0];
        if (whole.length === 0) {
          re.lastIndex++;
          continue;
        }
        const value = m[1] ?? whole;
        const end = m.index + whole.length;
        if (validate !== undefined && !validate(value)) {
          // A rejected candidate must not hide a valid one that starts inside it.
          re.lastIndex = m.index + 1;
          continue;
        }
        out.push({ start: from + end - value.length, end: from + end, rule: index });
      }
    },
  };
}
