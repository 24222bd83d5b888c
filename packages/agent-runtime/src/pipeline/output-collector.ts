import type { OutputSanitizer } from '@bastion/security';

/** One stream's sanitized output, collected while the command runs (see createOutputCollector). */
export interface OutputCollector {
  /** A piece the call's stream sanitizer released. */
  push(piece: string): void;
  /**
   * The whole text, and whether sanitizing it again would change nothing (what the exit gate
   * checks): true lets the gate pass this very string on without building a copy of it.
   */
  finish(): { readonly text: string; readonly clean: boolean };
}

/**
 * Collects a stream's clean pieces into the result string without copying them: `+=` builds a
 * rope (V8 cons string), flattened once, in place, only when something reads it whole (JSON
 * serialization). A `join` made a second copy of up to the output cap per stream while the
 * pieces were still alive, and the exit gate's sanitize() of the whole string a third.
 *
 * Each piece also goes through a second stream of the same sanitizer, which is the exit gate's
 * check done as the output arrives: its output is compared with the pieces at the same offset and
 * dropped, so only the check stream's look-behind is held. Any difference (or a redaction) marks
 * the text not clean, and the gate then sanitizes it whole as before.
 */
export function createOutputCollector(sanitizer: Pick<OutputSanitizer, 'createStream'>): OutputCollector {
  let text = '';
  const check = sanitizer.createStream();
  /** Pieces given to the check stream that its output has not accounted for yet; `offset` into the first. */
  const unmatched: string[] = [];
  let offset = 0;
  let clean = true;

  const take = (out: string) => {
    for (let i = 0; clean && i < out.length;) {
      const head = unmatched[0];
      if (head === undefined) {
        clean = false;
        break;
      }
      const n = Math.min(head.length - offset, out.length - i);
      if (!head.startsWith(out.slice(i, i + n), offset)) {
        clean = false;
        break;
      }
      i += n;
      offset += n;
      if (offset === head.length) {
        unmatched.shift();
        offset = 0;
      }
    }
  };

  return {
    push(piece) {
      if (piece.length === 0) return;
      text += piece;
      if (!clean) return;
      unmatched.push(piece);
      take(check.write(piece));
    },
    finish() {
      if (clean) take(check.end());
      return { text, clean: clean && unmatched.length === 0 && check.redactions().length === 0 };
    },
  };
}
