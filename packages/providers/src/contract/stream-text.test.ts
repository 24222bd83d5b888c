import { claudeCodeStreamText } from '../claude-code/claude-code-stream-text';
import { cursorStreamText } from '../cursor/cursor-stream-text';
import { geminiStreamText } from '../gemini-cli/gemini-stream-text';
import { NOTE_ARGS_MAX, toolNote } from './stream-text';
import { providerRegistry } from '../registered-providers';

const line = (doc: unknown) => JSON.stringify(doc);

describe('what a person following a run sees (streamText)', () => {
  it('every registered provider reads its own agent', () => {
    for (const id of providerRegistry.ids) expect(typeof providerRegistry.create(id).streamText).toBe('function');
  });

  it('gemini-cli: assistant deltas as words, tools and failures as notes, bookkeeping left out', () => {
    // The lines of OBSERVED.md (fake-gemini-api) and the 0.61.0 bundle's tool_use/tool_result/error.
    expect(geminiStreamText(line({ type: 'init', session_id: 's', model: 'auto' }))).toEqual([]);
    expect(geminiStreamText(line({ type: 'message', role: 'user', content: 'say hello' }))).toEqual([]);
    expect(
      geminiStreamText(line({ type: 'message', role: 'assistant', content: 'Bastion demo', delta: true })),
    ).toEqual([{ kind: 'words', text: 'Bastion demo' }]);
    expect(
      geminiStreamText(line({ type: 'tool_use', tool_name: 'read_file', tool_id: 't1', parameters: { path: 'a.ts' } })),
    ).toEqual([{ kind: 'note', text: '[tool read_file] {"path":"a.ts"}' }]);
    expect(
      geminiStreamText(line({ type: 'tool_result', tool_id: 't1', status: 'success', output: 'x'.repeat(5000) })),
    ).toEqual([]);
    expect(
      geminiStreamText(
        line({
          type: 'tool_result',
          tool_id: 't1',
          status: 'error',
          error: { type: 'E', message: 'no such file\nat x' },
        }),
      ),
    ).toEqual([{ kind: 'note', text: '[tool failed] no such file at x' }]);
    expect(geminiStreamText(line({ type: 'error', severity: 'warning', message: 'loop detected' }))).toEqual([
      { kind: 'note', text: '[warning] loop detected' },
    ]);
    expect(geminiStreamText(line({ type: 'result', status: 'success', stats: { total_tokens: 3 } }))).toEqual([]);
    expect(
      geminiStreamText(
        line({ type: 'result', status: 'error', error: { type: 'unknown', message: '[API Error: 400]' } }),
      ),
    ).toEqual([{ kind: 'note', text: '[error] [API Error: 400]' }]);
    // Not an event (a torn line at the output limit, plain text): shown, marked as the agent's.
    expect(geminiStreamText('{"type":"mess')).toEqual([{ kind: 'note', text: '[gemini] {"type":"mess' }]);
    expect(geminiStreamText('   ')).toEqual([]);
  });

  it('claude-code: message text ends its line, tool calls and failures are notes, init and success left out', () => {
    expect(claudeCodeStreamText(line({ type: 'system', subtype: 'init', model: 'm' }))).toEqual([]);
    expect(
      claudeCodeStreamText(
        line({
          type: 'assistant',
          message: {
            content: [
              { type: 'text', text: 'Reading the file.' },
              { type: 'tool_use', id: 'u1', name: 'Read', input: { file_path: '/workspace/a.ts' } },
              { type: 'thinking', thinking: '…' },
            ],
          },
        }),
      ),
    ).toEqual([
      { kind: 'words', text: 'Reading the file.\n' },
      { kind: 'note', text: '[tool Read] {"file_path":"/workspace/a.ts"}' },
    ]);
    expect(
      claudeCodeStreamText(
        line({
          type: 'user',
          message: {
            content: [
              { type: 'tool_result', tool_use_id: 'u1', content: 'ok' },
              { type: 'tool_result', tool_use_id: 'u2', is_error: true, content: [{ type: 'text', text: 'denied' }] },
            ],
          },
        }),
      ),
    ).toEqual([{ kind: 'note', text: '[tool failed] denied' }]);
    expect(claudeCodeStreamText(line({ type: 'system', subtype: 'api_retry', attempt: 2, error_status: 529 }))).toEqual(
      [{ kind: 'note', text: '[retry] the API answered 529; attempt 2' }],
    );
    expect(claudeCodeStreamText(line({ type: 'result', subtype: 'success', is_error: false, result: 'done' }))).toEqual(
      [],
    );
    expect(claudeCodeStreamText(line({ type: 'result', subtype: 'error_max_turns', is_error: true }))).toEqual([
      { kind: 'note', text: '[error] error_max_turns' },
    ]);
  });

  it('cursor: assistant messages as words, started tool calls and failed ones as notes', () => {
    // The events of the fake cursor-agent (packages/testing), as the real CLI prints them.
    expect(cursorStreamText(line({ type: 'system', subtype: 'init', model: 'auto' }))).toEqual([]);
    expect(
      cursorStreamText(line({ type: 'user', message: { role: 'user', content: [{ type: 'text', text: 'p' }] } })),
    ).toEqual([]);
    expect(
      cursorStreamText(
        line({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: 'On it.' }] } }),
      ),
    ).toEqual([{ kind: 'words', text: 'On it.\n' }]);
    const args = { path: '/workspace/a.txt', fileText: 'x' };
    expect(
      cursorStreamText(
        line({ type: 'tool_call', subtype: 'started', call_id: 'c1', tool_call: { writeToolCall: { args } } }),
      ),
    ).toEqual([{ kind: 'note', text: `[tool write] ${JSON.stringify(args)}` }]);
    expect(
      cursorStreamText(
        line({
          type: 'tool_call',
          subtype: 'completed',
          call_id: 'c1',
          tool_call: { writeToolCall: { args, result: { success: {} } } },
        }),
      ),
    ).toEqual([]);
    expect(
      cursorStreamText(
        line({
          type: 'tool_call',
          subtype: 'completed',
          call_id: 'c1',
          tool_call: { writeToolCall: { args, result: { error: { errorMessage: 'EACCES: /etc/passwd' } } } },
        }),
      ),
    ).toEqual([{ kind: 'note', text: '[tool write failed] EACCES: /etc/passwd' }]);
    expect(
      cursorStreamText(line({ type: 'result', subtype: 'success', is_error: false, result: 'the answer' })),
    ).toEqual([]);
    expect(cursorStreamText(line({ type: 'result', subtype: 'error', is_error: true, result: 'usage limit' }))).toEqual(
      [{ kind: 'note', text: '[error] usage limit' }],
    );
  });

  it("cuts a tool call's arguments to one short line", () => {
    const piece = toolNote('Write', { file_path: 'a', content: 'line\n'.repeat(200) });
    expect(piece.text.startsWith('[tool Write] {"file_path":"a","content":"line\\nline')).toBe(true);
    expect(piece.text.endsWith('…')).toBe(true);
    expect(piece.text).not.toContain('\n');
    expect(piece.text.length).toBeLessThanOrEqual('[tool Write] '.length + NOTE_ARGS_MAX + 1);
    expect(toolNote('ls', {}).text).toBe('[tool ls]');
  });
});
