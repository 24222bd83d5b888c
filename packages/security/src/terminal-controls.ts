/**
 * Terminal control sequences an agent could use to rewrite a terminal, set the clipboard (OSC 52),
 * plant hyperlinks (OSC 8) or hide text: CSI, OSC, DCS/SOS/PM/APC strings, other ESC sequences,
 * their 8-bit C1 forms, and every C0/C1 control except \n, \r and \t. Bodies are bounded and never
 * contain another introducer, so a sequence always ends before the next one starts; that is what
 * lets the streaming stripper cut at the last introducer and still equal the one-shot result.
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
const ANY_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/;
const NEXT_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;
const SEQUENCE_AT = new RegExp(CONTROL_SEQUENCE.source, 'y');
const LAST_INTRODUCER = new RegExp(`[${INTRODUCERS}]`, 'g');
const MAX_SEQUENCE = 8192 + 8;

/** Removes terminal control sequences and controls other than \n, \r, \t. */
export function stripTerminalControls(text: string): string {
  NEXT_CONTROL.lastIndex = 0;
  let m = NEXT_CONTROL.exec(text);
  if (m === null) return text;
  const out: string[] = [];
  let pos = 0;
  while (m !== null) {
    // Every control character starts some alternative, so the sticky match always succeeds.
    SEQUENCE_AT.lastIndex = m.index;
    SEQUENCE_AT.exec(text);
    out.push(text.slice(pos, m.index));
    pos = SEQUENCE_AT.lastIndex;
    NEXT_CONTROL.lastIndex = pos;
    m = NEXT_CONTROL.exec(text);
  }
  out.push(text.slice(pos));
  return out.join('');
}

/** Streaming form: holds back from the last introducer while its sequence may still be incomplete. */
export class TerminalControlStripper {
  private pending = '';

  push(text: string): string {
    if (this.pending === '' && !ANY_CONTROL.test(text)) return text;
    const raw = this.pending + text;
    let last = -1;
    const from = Math.max(0, raw.length - MAX_SEQUENCE);
    LAST_INTRODUCER.lastIndex = from;
    let m: RegExpExecArray | null;
    while ((m = LAST_INTRODUCER.exec(raw)) !== null) last = m.index;
    if (last === -1) {
      this.pending = '';
      return stripTerminalControls(raw);
    }
    this.pending = raw.slice(last);
    return stripTerminalControls(raw.slice(0, last));
  }

  end(): string {
    const rest = this.pending;
    this.pending = '';
    return stripTerminalControls(rest);
  }
}
