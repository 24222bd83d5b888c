import { isRecord } from './json-lines';

/**
 * How a run looks to a person following it (`bastion run --stream`): each complete line the agent
 * printed on stdout (already sanitized) becomes pieces: the answer's own words, shown as they
 * arrive, and notes on lines of their own (a tool call, an error); bookkeeping (session start,
 * statistics) becomes none. The agents print JSON lines meant for programs; a provider's
 * `streamText` reads its agent's.
 */
export type StreamPiece =
  /** The answer's words, written as they come (a streamed delta, a whole message). */
  | { readonly kind: 'words'; readonly text: string }
  /** A note of its own line: `[tool Read] {"file_path":"src/a.ts"}`, `[error] quota exceeded`. */
  | { readonly kind: 'note'; readonly text: string };

/** Longest tool-argument summary a note shows; the rest is cut with `…`. */
export const NOTE_ARGS_MAX = 160;

/** Words as they come (a streamed delta): nothing for an empty string. */
export const words = (text: string): StreamPiece[] => (text.length > 0 ? [{ kind: 'words', text }] : []);

/** A whole message's words, ending its line. */
export const message = (text: string): StreamPiece[] =>
  words(text.length > 0 && !text.endsWith('\n') ? `${text}\n` : text);

export const note = (label: string, detail?: string): StreamPiece => ({
  kind: 'note',
  text: detail === undefined || detail.length === 0 ? `[${label}]` : `[${label}] ${oneLine(detail)}`,
});

/** A tool call's note: its name and its arguments as compact JSON, cut to NOTE_ARGS_MAX. */
export function toolNote(name: string, args: unknown): StreamPiece {
  let shown = '';
  if (args !== undefined && !(typeof args === 'object' && args !== null && Object.keys(args).length === 0)) {
    try {
      shown = JSON.stringify(args) ?? '';
    } catch {
      shown = String(args);
    }
  }
  return note(`tool ${oneLine(name)}`, shown.length > NOTE_ARGS_MAX ? `${shown.slice(0, NOTE_ARGS_MAX)}…` : shown);
}

/** A note stays one line: a line break or carriage return (which could draw over the line) becomes a space. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]\s*/g, ' ').trim();
}

/** A line that is not an event (plain text, a line torn at the output limit): a note naming the agent; blank: none. */
export const plainLine = (agent: string, line: string): StreamPiece[] =>
  line.trim().length > 0 ? [note(agent, line)] : [];

/** The content blocks of a `{"message":{"content":[…]}}` event (claude-code's and cursor-agent's shape). */
export const messageContent = (event: Record<string, unknown>): Record<string, unknown>[] =>
  isRecord(event.message) && Array.isArray(event.message.content) ? event.message.content.filter(isRecord) : [];
