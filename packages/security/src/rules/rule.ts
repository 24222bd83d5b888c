import type { RuleInfo, Severity } from '../types';

/**
 * What the compiled scan tells about each digit run besides its digit count (the bits of runShape
 * in assembly/scan.ts, which must match these).
 */
export const RUN_SHAPE = {
  /** Digit groups of 3 or 4, 3 and 4 digits in a row: every North-American phone number has them. */
  phoneGroups: 1,
  /** Groups of 3, 2 and 4 digits joined by single hyphens: an SSN. */
  ssnGroups: 2,
  /** Two capital letters then two digits, starting in the 16 characters before the run and ending by its second: where an IBAN starts. */
  ibanPrefix: 4,
} as const;

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
  /**
   * For digit-run rules: a cheap test on the run [start, end) (with `digits` digits and the
   * RUN_SHAPE bits `shape`, which the compiled scan works out) that must pass before the regex
   * runs. Must depend only on the run's line.
   */
  digitRunFilter?(text: string, start: number, end: number, digits: number, shape: number): boolean;
  /**
   * ASCII classes ('A-Za-z0-9._') the character right before a short anchor, and right after it,
   * must be in for the rule to match there: prefilters the compiled scan applies, so they must
   * follow from the rule itself. (The scan's image reads every character above U+00FF as 0xFF,
   * which is in no ASCII class.)
   */
  anchorBefore?: string;
  anchorAfter?: string;
  /**
   * For literal anchors at which every match of the rule starts: an ASCII class ('sS"\' \t:=')
   * the character right after the anchor must be in, per anchor as written. Checked on the text
   * before the rule runs, so 'password' in 'passwordHash' costs no regex.
   */
  anchorFollow?: Readonly<Record<string, string>>;
  /**
   * For multi-line rules: whether a match can start at this anchor. Every match starts at one of
   * the rule's anchors, so an anchor that fails is skipped (a PEM rule checks its label here
   * instead of running its block regex over up to 16 KiB).
   */
  startsAt?(text: string, anchor: number): boolean;
  /** True when `find` looks at the anchor position, not only the window; turns off window de-duplication. */
  usesAnchor?: boolean;
  /**
   * For rules whose match always starts exactly at the anchor: checks that one position with a
   * sticky regex on the whole text, no window, no copy. The match may not cross a line end.
   */
  findAt?(text: string, anchor: number, index: number, out: Span[]): void;
  /** Tries the rule's regex at exactly `start` (sticky); present when the rule is sticky-capable. */
  matchAt?(text: string, start: number, index: number, out: Span[]): void;
  /**
   * Appends the spans found in text[from, to) to `out`, tagging them with `index`; `anchor` is the
   * hit. An anchor-dependent rule may return how far its work covered: later anchors of the same
   * rule before that position (and after this anchor) are skipped, since they would find the same.
   */
  find(text: string, from: number, to: number, index: number, out: Span[], anchor: number): number | void;
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
  /** The match starts exactly at the anchor (a lookbehind may look one character before it). */
  sticky?: boolean;
  /** Build the sticky form (for wrappers such as leftAnchored) without making the rule sticky. */
  stickyCapable?: boolean;
  digitRunFilter?: Rule['digitRunFilter'];
  anchorAfter?: Rule['anchorAfter'];
  anchorFollow?: Rule['anchorFollow'];
  /** A regex every match starts with, tried at the anchor (see Rule.startsAt). */
  head?: RegExp;
  /** Extra check on the redacted value (Luhn, mod-97, entropy, not-code). */
  validate?: (value: string) => boolean;
}

/** Builds a rule from a regex: the common case. */
/**
 * `(?<![…])` becomes `(?<!(?<!\\)[…])`: a letter right after a backslash belongs to an escape
 * (`\n` in a JSON string), so a token that follows an escaped newline still has a boundary.
 */
export function escapeAwareLookbehinds(source: string): string {
  return source.replace(/\(\?<!\[((?:\\.|[^\]\\])*)\]\)/g, '(?<!(?<!\\\\)[$1])');
}

export function regexRule(spec: RegexRuleSpec): Rule {
  const flags = spec.pattern.flags.includes('g') ? spec.pattern.flags : spec.pattern.flags + 'g';
  const source = escapeAwareLookbehinds(spec.pattern.source);
  const re = new RegExp(source, flags);
  const validate = spec.validate;
  const stickyRe = spec.sticky || spec.stickyCapable ? new RegExp(source, flags.replace('g', '') + 'y') : undefined;
  const findAt: Rule['findAt'] =
    stickyRe === undefined
      ? undefined
      : (text, anchor, index, out) => {
          stickyRe.lastIndex = anchor;
          const m = stickyRe.exec(text);
          if (m === null) return;
          const value = m[1] ?? m[0];
          if (value.length === 0 || (validate !== undefined && !validate(value))) return;
          const end = anchor + m[0].length;
          out.push({ start: end - value.length, end, rule: index });
        };
  return {
    findAt: spec.sticky ? findAt : undefined,
    matchAt: findAt,
    id: spec.id,
    severity: spec.severity,
    description: spec.description,
    anchors: spec.anchors,
    foldedAnchors: spec.foldedAnchors,
    scan: spec.scan,
    digitRunFilter: spec.digitRunFilter,
    anchorAfter: spec.anchorAfter,
    anchorFollow: spec.anchorFollow,
    startsAt: headTest(spec.head),
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

function headTest(head: RegExp | undefined): Rule['startsAt'] {
  if (head === undefined) return undefined;
  const sticky = new RegExp(head.source, head.flags.replace(/[gy]/g, '') + 'y');
  return (text, anchor) => {
    sticky.lastIndex = anchor;
    return sticky.test(text);
  };
}

/**
 * For rules whose anchor sits inside the match (the @ of an address, the :// of a URL): walk left
 * over the characters the match may start with, then try the rule once there. A lookbehind in the
 * pattern forbids any later start, so this finds exactly what a windowed search would.
 */
export function leftAnchored(
  rule: Rule,
  startChars: string,
  reach: number,
  skipIf?: (text: string, start: number) => boolean,
): Rule {
  const matchAt = rule.matchAt;
  if (matchAt === undefined) throw new Error(`${rule.id} needs stickyCapable`);
  const allowed = new Uint8Array(128);
  for (const ch of expandRanges(startChars)) allowed[ch.charCodeAt(0)] = 1;
  return {
    ...rule,
    // findAt returns at once unless the character before the anchor can start the match.
    anchorBefore: startChars,
    findAt(text: string, anchor: number, index: number, out: Span[]) {
      let s = anchor;
      const stop = Math.max(0, anchor - reach);
      for (;;) {
        const c = s > stop ? text.charCodeAt(s - 1) : 128;
        if (c >= 128 || allowed[c] === 0) break;
        s--;
      }
      // Never start on the letter of an escape such as \n.
      if (s < anchor && s > 0 && text.charCodeAt(s - 1) === 92) s++;
      if (s === anchor || (skipIf !== undefined && skipIf(text, s))) return;
      matchAt(text, s, index, out);
    },
  };
}

/** 'A-Z0-9._' → every character it names. */
export function expandRanges(spec: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < spec.length; i++) {
    if (spec[i + 1] === '-' && i + 2 < spec.length) {
      for (let c = spec.charCodeAt(i); c <= spec.charCodeAt(i + 2); c++) out.push(String.fromCharCode(c));
      i += 2;
    } else out.push(spec[i]);
  }
  return out;
}
