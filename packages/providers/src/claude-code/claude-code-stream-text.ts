import { message, messageContent, note, plainLine, toolNote, type StreamPiece } from '../contract/stream-text';
import { isRecord, jsonObjectLine, stringField } from '../contract/json-lines';

/**
 * A line of `claude -p --output-format stream-json --verbose` for a person following the run (the
 * events in claude-code-events.ts): each assistant message's text as words and its tool calls as
 * notes, a failed tool result, an API retry and a failed result as notes; the session start,
 * successful tool output and the final statistics are left out.
 */
export function claudeCodeStreamText(line: string): StreamPiece[] {
  const event = jsonObjectLine(line);
  if (event === undefined) return plainLine('claude', line);
  switch (event.type) {
    case 'assistant':
      return messageContent(event).flatMap((block): StreamPiece[] => {
        if (block.type === 'text') return message(stringField(block, 'text') ?? '');
        if (block.type === 'tool_use') return [toolNote(stringField(block, 'name') ?? 'unknown', block.input)];
        return [];
      });
    case 'user':
      // Tool results come back as the user's turn; only a failure is worth a line.
      return messageContent(event)
        .filter((block) => block.type === 'tool_result' && block.is_error === true)
        .map((block) => note('tool failed', resultText(block.content)));
    case 'system':
      return event.subtype === 'api_retry'
        ? [
            note(
              'retry',
              `the API answered ${String(event.error_status ?? 'an error')}; attempt ${String(event.attempt ?? '?')}`,
            ),
          ]
        : [];
    case 'result':
      return event.is_error === true
        ? [note('error', stringField(event, 'result') ?? stringField(event, 'subtype') ?? 'claude reported an error')]
        : [];
    default:
      return [];
  }
}

/** A tool result's content: a string, or text blocks. */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .filter(isRecord)
      .map((b) => stringField(b, 'text') ?? '')
      .join(' ');
  return 'no detail';
}
