import { controlPositions, type StripPlan, type TextReader } from './engine/scan-module';

/**
 * Terminal control sequences an agent could use to rewrite a terminal, set the clipboard (OSC 52),
 * plant hyperlinks (OSC 8) or hide text: CSI, OSC, DCS/SOS/PM/APC strings, other ESC sequences,
 * their 8-bit C1 forms, and every C0/C1 control except \n, \r and \t. Bodies are bounded and never
 * contain another introducer or a line end, so a sequence always ends before the next one starts
 * and an unterminated string (OSC, DCS, APC, C1 U+009D, ...) is cut at its line's end: it cannot hide
 * the lines after it (a terminal would swallow them up to the next BEL). That is what
 * lets the streaming stripper hold back from the last introducer (when its sequence could still
 * change) and still equal the one-shot result.
 */
const INTRODUCERS = '\\x1b\\x90\\x98\\x9b\\x9d-\\x9f';
const BODY = `[^\\x07\\n${INTRODUCERS}]{0,8192}`;
const CONTROL_SEQUENCE = new RegExp(
  [
    `\\x1b\\[[0-?]{0,64}[ -/]{0,16}[@-~]`,
    `\\x9b[0-?]{0,64}[ -/]{0,16}[@-~]`,
    `\\x1b\\]${BODY}(?:\\x07|\\x1b\\\\|\\x9c)?`,
    `\\x9d${BODY}(?:\\x07|\\x1b\\\\|\\x9c)?`,
    `\\x1b[PX^_]${BODY}(?:\\x1b\\\\|\\x9c)?`,
    `[\\x90\\x98\\x9e\\x9f]${BODY}(?:\\x1b\\\\|\\x9c)?`,
    `\\x1b[ -/]{0,4}[0-~]`,
    `[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]`,
  ].join('|'),
  'g',
);
const NEXT_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;
const SEQUENCE_AT = new RegExp(CONTROL_SEQUENCE.source, 'y');
const MAX_SEQUENCE = 8192 + 8;

const CSI_AT = /\x1b\[[0-?]{0,64}[ -/]{0,16}[@-~]|\x9b[0-?]{0,64}[ -/]{0,16}[@-~]/y;

/**
 * Whether the sequence matched at `at` (ending at `end`) is stripped the same whatever text comes
 * after `raw`: true when every character the match attempt looked at is in `raw`. Earlier
 * sequences need no check: an attempt never reads past the next introducer and the character
 * after it. Holding back only what is unsettled keeps a stream from re-reading (and delaying) up
 * to 8 KiB after every chunk that has a color code near its end.
 */
function settled(raw: string, at: number, end: number): boolean {
  const n = raw.length;
  if (end >= n) return false;
  const c = raw.charCodeAt(at);
  const next = raw.charCodeAt(at + 1);
  if (c === 0x9b || (c === 0x1b && next === 0x5b)) {
    // CSI: a complete one read nothing past its end; a failed attempt read at most 83 characters.
    CSI_AT.lastIndex = at;
    return (CSI_AT.test(raw) && CSI_AT.lastIndex === end) || at + 83 < n;
  }
  const string =
    c === 0x1b ? next === 0x5d || next === 0x50 || next === 0x58 || next === 0x5e || next === 0x5f : c !== 0x1b;
  if (string) {
    // OSC, DCS, SOS, PM, APC (all C1 introducers but CSI): the body stopped at a character in
    // `raw`, then the terminator check read it, and the one after it when it is an ESC.
    return raw.charCodeAt(end) !== 0x1b || end + 1 < n;
  }
  // Any other ESC sequence reads at most five characters after the ESC.
  return at + 6 < n;
}

/** The characters NEXT_CONTROL matches. */
function isControl(c: number): boolean {
  return c < 0x20 ? c !== 9 && c !== 10 && c !== 13 : c >= 0x7f && c <= 0x9f;
}

/** Walks a sorted list of indexes: the first one at or after `from`, or -1 (calls must not go back). */
function listCursor(list: Int32Array): (from: number) => number {
  let q = 0;
  return (from) => {
    while (q < list.length && list[q] < from) q++;
    return q < list.length ? list[q] : -1;
  };
}

function nextControl(raw: string, from: number): number {
  NEXT_CONTROL.lastIndex = from;
  const m = NEXT_CONTROL.exec(raw);
  return m === null ? -1 : m.index;
}

/** Removes terminal control sequences and controls other than \n, \r, \t. */
export function stripTerminalControls(text: string): string {
  NEXT_CONTROL.lastIndex = 0;
  const m = NEXT_CONTROL.exec(text);
  return m === null ? text : stripFrom(text, m.index);
}

/** Strips starting at `first`, the index of the first control character in `text`. */
function stripFrom(text: string, first: number): string {
  const out: string[] = [];
  let pos = 0;
  let at = first;
  while (at !== -1) {
    // Every control character starts some alternative, so the sticky match always succeeds.
    SEQUENCE_AT.lastIndex = at;
    SEQUENCE_AT.exec(text);
    out.push(text.slice(pos, at));
    pos = SEQUENCE_AT.lastIndex;
    NEXT_CONTROL.lastIndex = pos;
    const m = NEXT_CONTROL.exec(text);
    at = m === null ? -1 : m.index;
  }
  out.push(text.slice(pos));
  return out.join('');
}

/** The cut list planStrip fills: reused, doubled when full (a plan can have one cut per character). */
let cutBuffer = new Int32Array(256);

/**
 * A first look at a control through a reader reads this far: more than any CSI attempt reads (83
 * characters) and than a terminator check needs beyond a string's body. Only a string body that
 * reaches the edge is read again, to its bound.
 */
const WINDOW = 96;
const SHORT_TEXT = 256;

/** 1 for the characters of INTRODUCERS (ESC and the C1 controls that open a sequence), by code. */
const INTRODUCER_CODES = Uint8Array.from({ length: 256 }, (_, c) =>
  new RegExp(`[${INTRODUCERS}]`).test(String.fromCharCode(c)) ? 1 : 0,
);
const isIntroducer = (c: number): boolean => c < 256 && INTRODUCER_CODES[c] === 1;

/**
 * Plans the stripping of a text of n characters: `first` is the first listed control and `next`
 * finds the next one at or after an index (-1: none); a listed index that is not a control is
 * passed over. `source` is the text itself, or a reader of a text that exists only as bytes so
 * far, which is read in windows around the controls. Matching in a window gives the match the
 * whole text gives: a window reaches the text's end, or holds every character the attempt read
 * (its CSI reads at most 83, and a string's body stopped two characters or more before the
 * window's edge).
 */
function planStrip(n: number, first: number, next: (from: number) => number, source: string | TextReader): StripPlan {
  let cuts = cutBuffer;
  let k = 0;
  // The last introducer: where its sequence starts and ends, and the text it was matched in.
  let cut = -1;
  let cutEnd = -1;
  let cutsAtCut = 0;
  let cutText = '';
  let cutBase = 0;
  let cutEdge = n;
  let at = first;
  while (at !== -1) {
    // What the match runs on: the whole text, or a window of it from `at` to `edge`.
    let text: string;
    let base = 0;
    let edge = n;
    if (typeof source === 'string') text = source;
    else {
      edge = Math.min(n, at + WINDOW);
      text = source(at, edge);
      base = at;
    }
    const c = text.charCodeAt(at - base);
    // Control lists are exact; each index is still checked, so a wrong one cannot strip text.
    if (!isControl(c)) {
      at = next(at + 1);
      continue;
    }
    SEQUENCE_AT.lastIndex = at - base;
    // Every control character starts some alternative, so the sticky match always succeeds.
    SEQUENCE_AT.exec(text);
    if (edge < n && base + SEQUENCE_AT.lastIndex + 2 >= edge) {
      edge = Math.min(n, at + MAX_SEQUENCE + 2);
      text = (source as TextReader)(at, edge);
      SEQUENCE_AT.lastIndex = 0;
      SEQUENCE_AT.exec(text);
    }
    const end = base + SEQUENCE_AT.lastIndex;
    const introducer = isIntroducer(c);
    if (introducer) {
      cut = at;
      cutEnd = end;
      cutsAtCut = k;
      cutText = text;
      cutBase = base;
      cutEdge = edge;
    }
    if (!introducer && k > 0 && cuts[k - 1] === at) {
      // A run of single controls is one cut (an introducer's cut stays its own, see below).
      cuts[k - 1] = end;
    } else {
      if (k + 2 > cuts.length) {
        const grown = new Int32Array(2 * cuts.length);
        grown.set(cuts);
        cutBuffer = cuts = grown;
      }
      cuts[k++] = at;
      cuts[k++] = end;
    }
    at = next(end);
  }
  // A window that stops short of the text's end left room for everything settling reads.
  if (cut !== -1 && cut >= n - MAX_SEQUENCE && cutEdge === n && !settled(cutText, cut - cutBase, cutEnd - cutBase)) {
    return { cuts: cuts.subarray(0, cutsAtCut), keep: cut };
  }
  return { cuts: cuts.subarray(0, k), keep: n };
}

/** Streaming form: holds back from the last introducer while its sequence may still be incomplete. */
export class TerminalControlStripper {
  private pending = '';

  /** True while the tail of what was pushed is held back as a possibly incomplete sequence. */
  get holding(): boolean {
    return this.pending !== '';
  }

  /**
   * Strips what `text` completes; `controls`, when given, lists the exact index of every control
   * character in `text` (the stream's decoder finds them while decoding).
   */
  push(text: string, controls?: Int32Array): string {
    const raw = this.pending === '' ? text : this.pending + text;
    // A short text is searched by the regex: listing its controls in the module costs more.
    const found =
      controls !== undefined && raw === text ? controls : raw.length > SHORT_TEXT ? controlPositions(raw) : undefined;
    const next = found === undefined ? (from: number): number => nextControl(raw, from) : listCursor(found);
    const { cuts, keep } = planStrip(raw.length, next(0), next, raw);
    if (cuts.length === 0 && keep === raw.length) {
      this.pending = '';
      return raw;
    }
    this.pending = keep < raw.length ? raw.slice(keep) : '';
    // Pieces are concatenated (a rope, flattened once later by the consumer) rather than joined,
    // which would copy the whole chunk once more.
    let out = '';
    let pos = 0;
    for (let i = 0; i < cuts.length; i += 2) {
      out += raw.slice(pos, cuts[i]);
      pos = cuts[i + 1];
    }
    return out + raw.slice(pos, keep);
  }

  /**
   * Plans the stripping of a text that is still bytes (see joinAscii): the caller removes the
   * cuts and everything from `keep` on, which is held back here. Only while nothing is held.
   */
  readonly planInPlace = (n: number, controls: Int32Array, read: TextReader): StripPlan => {
    if (this.holding) throw new Error('planInPlace while a sequence is held back');
    const next = listCursor(controls);
    const plan = planStrip(n, next(0), next, read);
    if (plan.keep < n) this.pending = read(plan.keep, n);
    return plan;
  };

  end(): string {
    const rest = this.pending;
    this.pending = '';
    return stripTerminalControls(rest);
  }
}
