import { note, plainLine, toolNote, words, type StreamPiece } from '../contract/stream-text';
import { isRecord, jsonObjectLine, stringField } from '../contract/json-lines';

/**
 * A line of `gemini --output-format stream-json` for a person following the run (the events in
 * gemini-stream-events.ts; tool_use/tool_result/error as the 0.61.0 bundle writes them): the
 * assistant's deltas as words, a tool call with its arguments, a failed tool, a warning and a
 * failed result as notes; the session start, the echoed prompt, successful tool output and the
 * statistics are left out. A line that is not an event is shown as a note.
 */
export function geminiStreamText(line: string): StreamPiece[] {
  const event = jsonObjectLine(line);
  if (event === undefined) return plainLine('gemini', line);
  switch (event.type) {
    case 'message':
      return event.role === 'assistant' ? words(stringField(event, 'content') ?? '') : [];
    case 'tool_use':
      return [toolNote(stringField(event, 'tool_name') ?? 'unknown', event.parameters)];
    case 'tool_result': {
      if (event.status !== 'error') return [];
      const error = isRecord(event.error) ? stringField(event.error, 'message') : undefined;
      return [note('tool failed', error ?? stringField(event, 'output'))];
    }
    case 'error':
      return [note(stringField(event, 'severity') === 'error' ? 'error' : 'warning', stringField(event, 'message'))];
    case 'result': {
      if (event.status === 'success') return [];
      const error = isRecord(event.error) ? stringField(event.error, 'message') : undefined;
      return [note('error', error ?? `gemini reported status ${String(event.status)}`)];
    }
    default:
      return [];
  }
}
