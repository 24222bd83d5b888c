import { controlPositions } from './engine/scan-module';

/**
 * Terminal control sequences an agent could use to rewrite a terminal, set the clipboard (OSC 52),
 * plant hyperlinks (OSC 8) or hide text: CSI, OSC, DCS/SOS/PM/APC strings, other ESC sequences,
 * their 8-bit C1 forms, and every C0/C1 control except \n, \r and \t. Bodies are bounded and never
 * contain another introducer, so a sequence always ends before the next one starts; that is what
 * lets the streaming stripper hold back from the last introducer (when its sequence could still
 * change) and still equal the one-shot result.
 */
const INTRODUCERS = '\\x1b\\x90\\x98\\x9b\\x9d-\\x9f';
const BODY = `[^\\x07${INTRODUCERS}]{0,8192}`;
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
const INTRODUCER = new RegExp(`^[${INTRODUCERS}]$`);
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
  const string = c === 0x1b ? next === 0x5d || next === 0x50 || next === 0x58 || next === 0x5e || next === 0x5f : c !== 0x1b;
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
    const found = controls !== undefined && raw === text ? controls : controlPositions(raw);
    if (found === undefined) {
      NEXT_CONTROL.lastIndex = 0;
      const m = NEXT_CONTROL.exec(raw);
      if (m === null) {
        this.pending = '';
        return raw;
      }
      return this.strip(raw, m.index, nextControl);
    }
    // Both lists are exact; each index is still checked against the text, which costs nothing
    // at ~300 controls per MB and keeps a wrong list from stripping text.
    let q = 0;
    const next = (_: string, from: number): number => {
      while (q < found.length && (found[q] < from || !isControl(raw.charCodeAt(found[q])))) q++;
      return q < found.length ? found[q] : -1;
    };
    const first = next(raw, 0);
    if (first === -1) {
      this.pending = '';
      return raw;
    }
    return this.strip(raw, first, next);
  }

  /**
   * Strips from `first`, the first control in `raw`; `next` finds the next control at or after an
   * index. One walk strips them and remembers the last introducer, so no second scan of the tail
   * is needed. Pieces are concatenated (a rope, flattened once later by the consumer) rather than
   * joined, which would copy the whole chunk once more.
   */
  private strip(raw: string, first: number, next: (raw: string, from: number) => number): string {
    let out = '';
    let pos = 0;
    let cut = -1;
    let cutEnd = -1;
    let outAtCut = '';
    let at = first;
    while (at !== -1) {
      out += raw.slice(pos, at);
      SEQUENCE_AT.lastIndex = at;
      SEQUENCE_AT.exec(raw);
      if (INTRODUCER.test(raw[at])) {
        cut = at;
        cutEnd = SEQUENCE_AT.lastIndex;
        outAtCut = out;
      }
      pos = SEQUENCE_AT.lastIndex;
      at = next(raw, pos);
    }
    if (cut !== -1 && cut >= raw.length - MAX_SEQUENCE && !settled(raw, cut, cutEnd)) {
      this.pending = raw.slice(cut);
      return outAtCut;
    }
    this.pending = '';
    return out + raw.slice(pos);
  }

  end(): string {
    const rest = this.pending;
    this.pending = '';
    return stripTerminalControls(rest);
  }
}
