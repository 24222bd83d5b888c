import { expandRanges, type Rule, type Span } from '../rules/rule';
import { composeViews, decodeView, sourceSpan } from './decoded-view';
import { encodedLines } from './encoded-lines';
import { endsInEncodedLine } from './encoded-run';
import { LiteralScanner, type LiteralPattern, type ShortAnchor } from './literal-scanner';
import type { ImageRef } from './scan-module';

/** Twilio SIDs: SK or AC, then 32 lowercase hex digits; found as short anchors, checked by the rules' sticky regexes. */
const TWILIO_PREFIXES = ['SK', 'AC'];
const isLowerHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
const BLOCK_END = '----END';
const MIN_FOLDED = 4;

export interface DetectResult {
  /** Merged, sorted, non-overlapping spans, all starting before `limit`. */
  spans: Span[];
  /** Everything before `limit` is final; equal to the input limit unless a span or a multi-line window needed more text. */
  limit: number;
}

/**
 * Finds every redaction in a text. Cheap anchors come first (one compiled multi-literal pass that
 * also finds digit runs, and one for anchors of one to three characters with the byte classes
 * their rules need around them); each rule's regex then runs only on a window around its anchors,
 * clipped to the anchor's line. Because every single-line rule sees
 * nothing beyond its line, a text can be processed in any batches of whole lines with the same
 * result, which is what makes streaming equal to one-shot sanitizing.
 */
export class Detector {
  readonly rules: readonly Rule[];
  private readonly scanner: LiteralScanner;
  private readonly literalRules: number[][] = [];
  /** Per literal pattern and rule (as in literalRules): the class the character after the anchor must be in. */
  private readonly literalFollow: (Uint8Array | undefined)[][] = [];
  private readonly literalLength: number[] = [];
  private readonly shortAnchors: { text: string; rules: number[] }[] = [];
  private readonly multiline: { text: string; key: string; offset: number; rules: number[] }[] = [];
  /** Whether the compiled scan finds the short anchors (else they are searched with indexOf). */
  private readonly compiledShorts: boolean;
  private readonly twilioRules: number[] = [];
  private readonly digitRules: number[] = [];
  private readonly lineRules: number[] = [];
  /** The longest literal anchor, plus one: how far past a forced cut anchors are looked for. */
  private readonly longestAnchor: number;

  /** Per-rule de-duplication state (four views of `dedup`, reset with one fill per call). */
  private readonly dedup: Int32Array;
  private readonly lastWs: Int32Array;
  private readonly lastWe: Int32Array;
  private readonly coveredFrom: Int32Array;
  private readonly coveredUntil: Int32Array;

  constructor(rules: readonly Rule[]) {
    this.rules = rules;
    const n = rules.length;
    this.dedup = new Int32Array(4 * n);
    this.lastWs = this.dedup.subarray(0, n);
    this.lastWe = this.dedup.subarray(n, 2 * n);
    this.coveredFrom = this.dedup.subarray(2 * n, 3 * n);
    this.coveredUntil = this.dedup.subarray(3 * n);
    const literals = new Map<string, number>();
    const patterns: LiteralPattern[] = [];
    const short = new Map<string, number[]>();
    const multi = new Map<string, number[]>();
    const addLiteral = (text: string, caseSensitive: boolean, rule: number, afterAny = false): void => {
      const key = (afterAny ? 'a:' : caseSensitive ? 's:' : 'i:') + (caseSensitive ? text : text.toLowerCase());
      let idx = literals.get(key);
      if (idx === undefined) {
        idx = patterns.length;
        literals.set(key, idx);
        patterns.push({ text, caseSensitive, afterAny });
        this.literalRules.push([]);
        this.literalFollow.push([]);
        this.literalLength.push(text.length);
      }
      if (!this.literalRules[idx].includes(rule)) {
        this.literalRules[idx].push(rule);
        const follow = rules[rule].anchorFollow?.[text];
        this.literalFollow[idx].push(follow === undefined ? undefined : byteClass([follow]));
      }
    };
    const addTo = (map: Map<string, number[]>, text: string, rule: number): void => {
      const list = map.get(text) ?? [];
      if (!list.includes(rule)) list.push(rule);
      map.set(text, list);
    };
    rules.forEach((rule, r) => {
      if (rule.scan === 'digits') this.digitRules.push(r);
      if (rule.scan === 'twilio') this.twilioRules.push(r);
      if (rule.scan === undefined && rule.anchors === undefined && rule.foldedAnchors === undefined)
        this.lineRules.push(r);
      for (const a of rule.anchors ?? []) {
        if (rule.multiline) addTo(multi, a, r);
        else if (a.length >= MIN_FOLDED) addLiteral(a, true, r);
        else if (a.length === MIN_FOLDED - 1 && /^[A-Za-z]/.test(a)) {
          // A three-letter token prefix joins the one-pass scanner (as "any character, then the
          // prefix") instead of costing a separate indexOf pass over the text.
          addLiteral(a, true, r, true);
        } else addTo(short, a, r);
      }
      for (const a of rule.foldedAnchors ?? []) {
        if (a.length >= MIN_FOLDED) addLiteral(a, false, r);
        else {
          addTo(short, a.toLowerCase(), r);
          addTo(short, a.toUpperCase(), r);
        }
      }
    });
    this.scanner = new LiteralScanner(patterns);
    this.longestAnchor = patterns.reduce((n, p) => Math.max(n, p.text.length + 1), 4);
    for (const [text, list] of short) this.shortAnchors.push({ text, rules: list });
    for (const [text, list] of multi) {
      // Searched by the part from the first letter on: V8 finds 'BEGIN' about four times faster
      // than '-----BEGIN' (0.10 against 0.39 ms/MB on the bench corpus).
      const offset = Math.max(0, text.search(/[A-Za-z0-9]/));
      const key = text.length - offset >= 4 ? text.slice(offset) : text;
      this.multiline.push({ text, key, offset: key === text ? 0 : offset, rules: list });
    }
    // Short anchors go to the compiled scan with the classes their rules require around them;
    // several rules on one anchor share the loosest (any class missing: none).
    const shorts: ShortAnchor[] = this.shortAnchors.map(({ text, rules: list }) => ({
      text,
      before: sharedClass(list.map((r) => rules[r].anchorBefore)),
      after: sharedClass(list.map((r) => rules[r].anchorAfter)),
    }));
    // The Twilio prefixes come after them, with the hex digit their SIDs continue with.
    if (this.twilioRules.length > 0)
      for (const text of TWILIO_PREFIXES) shorts.push({ text, after: byteClass(['0-9a-f']) });
    this.compiledShorts = this.scanner.setShorts(shorts);
  }

  /**
   * Detects in text[0, limit). Single-line windows never pass a line end; multi-line windows may
   * reach past `limit`. With `final` false, a multi-line window that the text does not yet cover,
   * or a span that crosses `limit`, pulls `limit` back to the start of its line. `image`, when
   * given, is the text's scan image (a byte per unit, 0xFF above U+00FF), already made. With
   * `decode`, lines that hold escapes, %XX or format characters are also matched as decoded.
   */
  detect(text: string, limit: number, final: boolean, image?: ImageRef, decode = true): DetectResult {
    const rules = this.rules;
    const spans: Span[] = [];
    // Per-rule de-duplication state, reused between calls (detect is not re-entrant per detector).
    this.dedup.fill(-1);
    const lastWs = this.lastWs;
    const lastWe = this.lastWe;
    const coveredFrom = this.coveredFrom;
    const coveredUntil = this.coveredUntil;
    let nextEnd = -1;
    const len = text.length;
    let lineStart = 0;
    let lineEnd = -1;
    // A limit inside a line (a stream's forced cut of a very long line): anchors are also looked for
    // a little past it, so one that straddles the cut is found and its span holds the cut back.
    const cut = !final && limit > 0 && limit < len && text.charCodeAt(limit - 1) !== 10;

    // Anchor searches stop at the limit: a view of the head keeps indexOf and regex scans from
    // running on through the rest of a large batch (windows still read the whole text).
    let head = limit === len ? text : text.slice(0, limit);
    for (const { text: anchor, key, offset, rules: list } of this.multiline) {
      for (let q = head.indexOf(key); q !== -1; q = q + 1 < limit ? head.indexOf(key, q + 1) : -1) {
        const p = q - offset;
        if (p < 0 || !text.startsWith(anchor, p)) continue;
        if (p >= limit) break;
        for (const r of list) {
          const rule = rules[r];
          if (!final && p + rule.after > len) {
            limit = cut ? Math.max(0, p - 1) : lineStartOf(text, p);
            break;
          }
          const ws = Math.max(0, p - rule.before);
          const we = Math.min(len, p + rule.after);
          // A block needs its END line: without one in the window the regex cannot match, and
          // running it anyway made a text full of BEGIN lines quadratic.
          if (nextEnd !== -2 && nextEnd < p) {
            nextEnd = text.indexOf(BLOCK_END, p);
            if (nextEnd === -1) nextEnd = -2;
          }
          if (nextEnd === -2 || nextEnd >= we) continue;
          if (rule.startsAt !== undefined && !rule.startsAt(text, p)) continue;
          // A rule that matches at its anchor skips the anchors inside its last match, as a search
          // of the whole text would; a windowed one skips windows inside its last window.
          if (rule.usesAnchor ? p < coveredUntil[r] : ws >= lastWs[r] && we <= lastWe[r]) continue;
          lastWs[r] = ws;
          lastWe[r] = we;
          const covered = rule.find(text, ws, we, r, spans, p);
          if (typeof covered === 'number') coveredUntil[r] = covered;
        }
      }
    }

    const onHit = (p: number, r: number): void => {
      const rule = rules[r];
      if (rule.findAt !== undefined) {
        rule.findAt(text, p, r, spans);
        return;
      }
      if (p < lineStart || p >= lineEnd) {
        lineStart = p === 0 ? 0 : text.lastIndexOf('\n', p - 1) + 1;
        lineEnd = text.indexOf('\n', p);
        if (lineEnd === -1) lineEnd = len;
      }
      const ws = Math.max(lineStart, p - rule.before);
      const we = Math.min(lineEnd, p + rule.after);
      if (rule.usesAnchor) {
        if (p >= coveredFrom[r] && p < coveredUntil[r]) return;
      } else if (ws >= lastWs[r] && we <= lastWe[r]) return;
      lastWs[r] = ws;
      lastWe[r] = we;
      const covered = rule.find(text, ws, we, r, spans, p);
      if (typeof covered === 'number') {
        coveredFrom[r] = p;
        coveredUntil[r] = covered;
      }
    };

    const literalRules = this.literalRules;
    const literalFollow = this.literalFollow;
    const literalLength = this.literalLength;
    const digitRules = this.digitRules;
    const scanner = this.scanner;
    // After the multi-line pass: a block that holds the limit back also stops the scan there (text
    // after it is scanned when it is released, not again on every write while the block waits).
    const scanEnd = cut ? Math.min(len, limit + this.longestAnchor) : limit;
    scanner.load(text, Math.min(text.length, scanEnd + 1), image);
    scanner.scan(text, scanEnd, digitRules.length > 0, (p, idx) => {
      if (idx === -1) {
        for (let k = 0; k < digitRules.length; k++) {
          const filter = rules[digitRules[k]].digitRunFilter;
          if (
            filter === undefined ||
            filter(text, scanner.runStart, scanner.runEnd, scanner.runDigits, scanner.runShape)
          )
            onHit(p, digitRules[k]);
        }
        return;
      }
      const list = literalRules[idx];
      const follow = literalFollow[idx];
      const next = text.charCodeAt(p + literalLength[idx]);
      for (let k = 0; k < list.length; k++) {
        const cls = follow[k];
        // NaN (the anchor ends the text) passes: what follows has not arrived.
        if (cls !== undefined && (next > 255 || cls[next] === 0)) continue;
        onHit(p, list[k]);
      }
    });
    if (head.length !== limit) head = text.slice(0, limit);
    const twilio = this.twilioRules;
    const shortHits = this.compiledShorts ? scanner.shorts(scanEnd) : undefined;
    if (shortHits !== undefined) {
      const shortAnchors = this.shortAnchors;
      for (let n = 0; n < shortHits.length; n += 2) {
        const p = shortHits[n];
        const which = shortHits[n + 1];
        if (which < shortAnchors.length) {
          const list = shortAnchors[which].rules;
          for (let k = 0; k < list.length; k++) onHit(p, list[k]);
        } else if (p + 34 <= scanEnd && isLowerHex(text.charCodeAt(p + 2)) && isLowerHex(text.charCodeAt(p + 33))) {
          for (let k = 0; k < twilio.length; k++) onHit(p, twilio[k]);
        }
      }
    } else {
      // More short anchors than the compiled scan takes, or more hits in this text than it lists.
      for (const { text: anchor, rules: list } of this.shortAnchors) {
        let p = head.indexOf(anchor);
        while (p !== -1 && p < limit) {
          for (let k = 0; k < list.length; k++) onHit(p, list[k]);
          p = head.indexOf(anchor, p + 1);
        }
      }
      if (twilio.length > 0) {
        for (const prefix of TWILIO_PREFIXES) {
          let p = head.indexOf(prefix);
          while (p !== -1) {
            if (p + 34 <= limit && isLowerHex(text.charCodeAt(p + 2)) && isLowerHex(text.charCodeAt(p + 33))) {
              for (let k = 0; k < twilio.length; k++) onHit(p, twilio[k]);
            }
            p = head.indexOf(prefix, p + 1);
          }
        }
      }
    }
    for (const r of this.lineRules) {
      // Rules without anchors (custom rules) see each line on its own.
      let s = 0;
      while (s < limit) {
        let e = text.indexOf('\n', s);
        if (e === -1) e = len;
        if (e > s) rules[r].find(text, s, e, r, spans, s);
        s = e + 1;
      }
    }

    if (decode) {
      // The lines to decode reach past the limit only when it cuts a line: the whole rest of that
      // line is read, so a token that an escape splits across the cut is still seen.
      const end = cut ? lineEndOf(text, limit) : limit;
      const lines = encodedLines(text, end, scanner.loadedImage(Math.min(len, scanEnd + 1)));
      for (let i = 0; i < lines.length; i += 2) this.detectDecoded(text, lines[i], lines[i + 1], spans);
    }
    const merged = mergeSpans(spans, text);
    if (final) return { spans: merged, limit };
    // A last line that ends in a long base64 run may be part of a wrapped blob (`base64` output, a
    // key body): it waits for the next line, and so does every encoded line right before it, so the
    // rules see the blob whole, as a one-shot scan joins it (holding only the last line let a cut
    // emit the blob's first lines unjoined). The forced cut still bounds what is held.
    while (limit > 0 && endsInEncodedLine(text, limit)) limit = lineStartOf(text, limit - 1);
    // A span that crosses the limit is only final once the text after it has arrived. At a forced
    // cut the text after it is there (the stream holds a look-ahead): the cut moves to the span.
    for (let i = merged.length - 1; i >= 0; i--) {
      const s = merged[i];
      if (s.start >= limit) continue;
      if (s.end > limit) limit = cut ? s.start : lineStartOf(text, s.start);
      else break;
    }
    let n = merged.length;
    while (n > 0 && merged[n - 1].start >= limit) n--;
    if (n !== merged.length) merged.length = n;
    return { spans: merged, limit };
  }

  /**
   * Matches the decoded view of text[from, to) and adds what it finds, each span widened to the
   * whole encoded text it came from. Runs after the text's own pass: it reuses the per-call state.
   */
  private detectDecoded(text: string, from: number, to: number, spans: Span[]): void {
    let view = decodeView(text, from, to);
    if (view === undefined) return;
    // A second layer (`%5Cu0067`: a JSON escape, percent-encoded) is decoded too, mapped through the first.
    const inner = decodeView(view.text, 0, view.text.length);
    if (inner !== undefined) view = composeViews(view, inner);
    for (const s of this.detect(view.text, view.text.length, true, undefined, false).spans) {
      const [start, end] = sourceSpan(view, s.start, s.end);
      spans.push({ start, end, rule: s.rule });
    }
  }
}

function lineEndOf(text: string, p: number): number {
  const nl = text.indexOf('\n', p);
  return nl === -1 ? text.length : nl;
}

/** Character classes ('A-Z_'), united, as a table of the 256 byte values. */
function byteClass(specs: readonly string[]): Uint8Array {
  const bits = new Uint8Array(256);
  for (const spec of specs) for (const ch of expandRanges(spec)) if (ch.charCodeAt(0) < 256) bits[ch.charCodeAt(0)] = 1;
  return bits;
}

/** The class several rules share on one anchor: the union, or none when any rule has none. */
function sharedClass(classes: (string | undefined)[]): Uint8Array | undefined {
  return classes.some((c) => c === undefined) ? undefined : byteClass(classes as string[]);
}

function lineStartOf(text: string, p: number): number {
  return p === 0 ? 0 : text.lastIndexOf('\n', p - 1) + 1;
}

/** Sorts spans and merges overlapping ones; the first-listed rule among them (secrets before PII) names the group. */
export function mergeSpans(spans: Span[], text?: string): Span[] {
  if (spans.length === 0) return spans;
  if (text !== undefined) {
    for (const s of spans) keepEscapesWhole(text, s);
    spans = spans.filter((s) => s.start < s.end);
    if (spans.length === 0) return spans;
  }
  spans.sort((a, b) => a.start - b.start || b.end - a.end || a.rule - b.rule);
  const out: Span[] = [];
  let cur = { ...spans[0] };
  for (let i = 1; i < spans.length; i++) {
    const s = spans[i];
    if (s.start < cur.end) {
      if (s.end > cur.end) cur.end = s.end;
      if (s.rule < cur.rule) cur.rule = s.rule;
    } else {
      out.push(cur);
      cur = { ...s };
    }
  }
  out.push(cur);
  return out;
}

/**
 * A replacement must not swallow half of a backslash escape: starting right after an escaping
 * backslash would turn `\n` into `\[`, ending on a backslash would escape the closing quote.
 * Either breaks a JSON string, so the span gives the escape back.
 */
function keepEscapesWhole(text: string, s: Span): void {
  let k = s.start - 1;
  while (k >= 0 && text.charCodeAt(k) === 92) k--;
  if ((s.start - 1 - k) % 2 === 1 && s.start < s.end) s.start++;
  let bs = 0;
  for (let i = s.end - 1; i >= s.start && text.charCodeAt(i) === 92; i--) bs++;
  if (bs % 2 === 1) s.end--;
}
