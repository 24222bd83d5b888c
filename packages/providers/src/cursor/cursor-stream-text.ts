import { message, messageContent, note, plainLine, toolNote, type StreamPiece } from '../contract/stream-text';
import { isRecord, jsonObjectLine, stringField } from '../contract/json-lines';

/**
 * A line of `cursor-agent -p --output-format stream-json|json` for a person following the run (the
 * events readCursorEvents reads): assistant messages as words, a started tool call as a note
 * (`readToolCall` shows as `read` with its arguments), a failed tool and a failed result as notes;
 * the session start, the user's turn and the final document of a success are left out (its text
 * is the answer the CLI prints on stdout).
 */
export function cursorStreamText(line: string): StreamPiece[] {
  const event = jsonObjectLine(line);
  if (event === undefined) return plainLine('cursor', line);
  switch (event.type) {
    case 'assistant':
      return messageContent(event).flatMap((part) => message(stringField(part, 'text') ?? ''));
    case 'tool_call': {
      if (!isRecord(event.tool_call)) return [];
      const [key, call] = Object.entries(event.tool_call)[0] ?? [];
      if (key === undefined || !isRecord(call)) return [];
      const name = key.replace(/ToolCall$/, '');
      if (event.subtype === 'started') return [toolNote(name, call.args)];
      const failure = isRecord(call.result) ? call.result.error : undefined;
      if (event.subtype === 'completed' && failure !== undefined)
        return [note(`tool ${name} failed`, failureText(failure))];
      return [];
    }
    case 'result':
      return event.is_error === true
        ? [
            note(
              'error',
              typeof event.result === 'string'
                ? event.result
                : (stringField(event, 'subtype') ?? 'cursor-agent reported an error'),
            ),
          ]
        : [];
    default:
      return [];
  }
}

/** A tool's error as cursor-agent reports it (`{errorMessage}`), a string, or its JSON. */
function failureText(failure: unknown): string {
  if (typeof failure === 'string') return failure;
  if (isRecord(failure) && typeof failure.errorMessage === 'string') return failure.errorMessage;
  return JSON.stringify(failure) ?? 'no detail';
}
