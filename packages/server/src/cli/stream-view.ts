import type { StreamPiece } from '@bastion/providers';
import { stripTerminalControls } from '@bastion/security';

/** `bastion run --stream`'s formats: `text` for a person, `raw` for the agent's output as printed. */
export const STREAM_FORMATS = ['text', 'raw'] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];

/**
 * What `bastion run --stream` writes on stderr while the agent works. `raw`: its sanitized output
 * as it arrives, byte for byte. `text`: each complete stdout line through the provider's
 * streamText (the answer's words as they come, notes on lines of their own, bookkeeping left out;
 * without one, the line as printed), the agent's stderr line by line, and any other line (the
 * progress) at the start of a line of its own, so notes never land inside the answer's words.
 * Lines split across chunks are put back together; end() shows what is left and ends the line.
 *
 * What streamText returns is decoded text (JSON.parse of a sanitized line), which the sanitizer
 * never saw: an agent that prints `"\u001b]52;c;…\u0007"` in a JSON string would reach the
 * terminal as a real escape sequence (clipboard write, retitling, hidden text). Its terminal
 * controls are stripped here before anything is written. Secrets hidden in JSON escapes are
 * already redacted upstream (the sanitizer matches its rules on the decoded view of each line).
 */
export interface StreamView {
  output(stream: 'stdout' | 'stderr', text: string): void;
  /** A line of Bastion's own (progress), kept whole. */
  line(text: string): void;
  end(): void;
}

export function createStreamView(
  write: (text: string) => void,
  format: StreamFormat,
  render?: (line: string) => readonly StreamPiece[],
): StreamView {
  const partial = { stdout: '', stderr: '' };
  let atLineStart = true;
  const put = (text: string) => {
    if (text.length === 0) return;
    write(text);
    atLineStart = text.endsWith('\n');
  };
  const line = (text: string) => put(`${atLineStart ? '' : '\n'}${text}${text.endsWith('\n') ? '' : '\n'}`);
  const show = (stream: 'stdout' | 'stderr', text: string) => {
    if (stream === 'stderr' || render === undefined) {
      if (text.trim().length > 0) line(text);
      return;
    }
    for (const piece of render(text)) {
      const clean = stripTerminalControls(piece.text);
      if (piece.kind === 'words') put(clean);
      else line(clean);
    }
  };
  return {
    output(stream, text) {
      if (format === 'raw') return void write(text);
      // A long line arrives in many chunks: only a chunk that ends a line is split (the output cap
      // bounds what can pile up here).
      if (!text.includes('\n')) return void (partial[stream] += text);
      const lines = (partial[stream] + text).split('\n');
      partial[stream] = lines.pop() ?? '';
      for (const l of lines) show(stream, l);
    },
    line(text) {
      if (format === 'raw') return void write(text);
      line(text);
    },
    end() {
      for (const stream of ['stdout', 'stderr'] as const) {
        const rest = partial[stream];
        partial[stream] = '';
        if (rest.length > 0 && format === 'text') show(stream, rest);
      }
      if (format === 'text' && !atLineStart) put('\n');
    },
  };
}
