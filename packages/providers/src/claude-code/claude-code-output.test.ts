import type { ProviderOutput } from '../contract/agent-provider';
import { readClaudeCodeEvents } from './claude-code-events';
import { parseClaudeCodeOutput } from './claude-code-output';

// Lines shaped as Claude Code 2.1.332 printed them against the fake API (fields trimmed; OBSERVED.md).
const INIT = {
  type: 'system',
  subtype: 'init',
  cwd: '/workspace',
  session_id: 's-1',
  tools: ['Bash', 'Edit', 'Read', 'Write'],
  model: 'claude-opus-5-5',
  permissionMode: 'bypassPermissions',
  apiKeySource: 'ANTHROPIC_API_KEY',
};
const TEXT = {
  type: 'assistant',
  message: { id: 'msg_1', role: 'assistant', model: 'claude-opus-5-5', content: [{ type: 'text', text: 'Wrote it.' }] },
  session_id: 's-1',
};
const WRITE = {
  type: 'assistant',
  message: {
    role: 'assistant',
    content: [
      {
        type: 'tool_use',
        id: 'toolu_01',
        name: 'Write',
        input: { file_path: '/workspace/hello.txt', content: 'hi\n' },
      },
    ],
  },
};
const BASH = {
  type: 'assistant',
  message: {
    role: 'assistant',
    content: [{ type: 'tool_use', id: 'toolu_02', name: 'Bash', input: { command: 'ls' } }],
  },
};
const TOOL_RESULT = {
  type: 'user',
  message: {
    role: 'user',
    content: [
      { tool_use_id: 'toolu_01', type: 'tool_result', content: 'File created successfully at: /workspace/hello.txt' },
    ],
  },
};
const SUCCESS = {
  type: 'result',
  subtype: 'success',
  is_error: false,
  result: 'Wrote it.',
  num_turns: 2,
  duration_ms: 208,
  duration_api_ms: 51,
  total_cost_usd: 0.0103,
  session_id: 's-1',
  usage: { input_tokens: 2537, output_tokens: 10, cache_read_input_tokens: 0 },
  modelUsage: { 'claude-opus-5-5': { inputTokens: 2537 } },
  permission_denials: [],
  terminal_reason: 'completed',
  api_error_status: null,
};
const apiError = (status: number, result: string) => ({
  ...SUCCESS,
  is_error: true,
  api_error_status: status,
  result,
  terminal_reason: 'api_error',
  num_turns: 1,
});

function out(lines: unknown[], rest: Partial<ProviderOutput> = {}): ProviderOutput {
  return {
    stdout: lines.map((l) => JSON.stringify(l)).join('\n') + '\n',
    stderr: '',
    exitCode: 0,
    timedOut: false,
    oomKilled: false,
    outputLimited: false,
    ...rest,
  };
}

describe('parseClaudeCodeOutput', () => {
  it('returns the result text with turns, tokens, cost and the model as stats', () => {
    const r = parseClaudeCodeOutput(out([INIT, WRITE, TOOL_RESULT, TEXT, SUCCESS]));
    expect(r).toMatchObject({ ok: true, response: 'Wrote it.' });
    expect(r.error).toBeUndefined();
    expect(r.stats).toEqual({
      toolCalls: 1,
      model: 'claude-opus-5-5',
      sessionId: 's-1',
      turns: 2,
      durationMs: 208,
      durationApiMs: 51,
      costUsd: 0.0103,
      permissionDenials: 0,
      tokens: { input: 2537, output: 10, total: 2547 },
    });
  });

  it('reports the paths the file-writing tools were aimed at, not Bash or Read', () => {
    const read = {
      type: 'assistant',
      message: { content: [{ type: 'tool_use', id: 't3', name: 'Read', input: { file_path: '/etc/passwd' } }] },
    };
    const edit = {
      type: 'assistant',
      message: {
        content: [
          {
            type: 'tool_use',
            id: 't4',
            name: 'Edit',
            input: { file_path: '../outside.txt', old_string: 'a', new_string: 'b' },
          },
        ],
      },
    };
    const r = parseClaudeCodeOutput(out([INIT, WRITE, BASH, read, edit, SUCCESS]));
    expect(r.toolPaths).toEqual(['/workspace/hello.txt', '../outside.txt']);
    expect(r.stats).toMatchObject({ toolCalls: 4 });
  });

  it('maps a 429 result to RATE_LIMITED, retryable', () => {
    const r = parseClaudeCodeOutput(
      out(
        [
          INIT,
          apiError(
            429,
            'API Error: Request rejected (429) · Number of request tokens has exceeded your per-minute rate limit',
          ),
        ],
        { exitCode: 1 },
      ),
    );
    expect(r.ok).toBe(false);
    expect(r.response).toBe('');
    expect(r.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, details: { upstreamStatus: 429 } });
  });

  it('maps a 401 result to AUTH_FAILED, telling where the key belongs', () => {
    const r = parseClaudeCodeOutput(
      out([INIT, apiError(401, 'Invalid API key · Fix external API key')], { exitCode: 1 }),
    );
    expect(r.error).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    expect(r.error?.message).toContain('ANTHROPIC_API_KEY');
  });

  it("maps 529 overloaded to a retryable PROVIDER_FAILED, as Gemini's 503", () => {
    const r = parseClaudeCodeOutput(
      out([INIT, apiError(529, 'API Error: 529 Overloaded. This is a server-side issue')], { exitCode: 1 }),
    );
    expect(r.error).toMatchObject({ code: 'PROVIDER_FAILED', retryable: true, details: { upstreamStatus: 529 } });
    expect(r.error?.message).toContain('overloaded');
  });

  it('judges by is_error, not subtype (which stays "success" on API errors), and a 400 is not retryable', () => {
    const r = parseClaudeCodeOutput(out([apiError(400, 'API Error: 400 bad request')], { exitCode: 1 }));
    expect(r.error).toMatchObject({ code: 'PROVIDER_FAILED', retryable: false });
  });

  it("names the last status of the CLI's own retries when it died without a result", () => {
    const retry = (n: number) => ({
      type: 'system',
      subtype: 'api_retry',
      attempt: n,
      max_retries: 10,
      retry_delay_ms: 500,
      error_status: 401,
      error: 'authentication_failed',
    });
    const r = parseClaudeCodeOutput(out([INIT, retry(1), retry(2)], { exitCode: null, timedOut: true }));
    expect(r.error).toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('reports an error result that is no API error (max turns) as PROVIDER_FAILED', () => {
    const r = parseClaudeCodeOutput(
      out(
        [
          INIT,
          { ...SUCCESS, subtype: 'error_max_turns', is_error: true, result: undefined, terminal_reason: 'max_turns' },
        ],
        { exitCode: 1 },
      ),
    );
    expect(r.error).toMatchObject({ code: 'PROVIDER_FAILED' });
    expect(r.error?.message).toContain('error_max_turns');
  });

  it('says SANDBOX_UNAVAILABLE when the CLI refused to run as root', () => {
    const r = parseClaudeCodeOutput({
      ...out([]),
      stdout: '',
      stderr: '--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons\n',
      exitCode: 1,
    });
    expect(r.error).toMatchObject({ code: 'SANDBOX_UNAVAILABLE' });
  });

  it('fails typed on output that is not stream-json, on exit 0 without a result, and on a torn last line', () => {
    expect(parseClaudeCodeOutput({ ...out([]), stdout: 'Fake answer in text mode\n' }).error).toMatchObject({
      code: 'PROVIDER_FAILED',
      message: expect.stringContaining('not its stream-json result'),
    });
    const torn = JSON.stringify(SUCCESS).slice(0, 80);
    const r = parseClaudeCodeOutput({
      ...out([INIT, TEXT]),
      stdout: `${JSON.stringify(INIT)}\n${JSON.stringify(TEXT)}\n${torn}`,
      exitCode: 1,
      stderr: 'Error: something broke\n',
    });
    expect(r).toMatchObject({
      ok: false,
      response: 'Wrote it.',
      error: { code: 'PROVIDER_FAILED', message: expect.stringContaining('exited with code 1') },
    });
  });
});

describe('readClaudeCodeEvents', () => {
  it('keeps unknown fields and skips lines that are not JSON objects', () => {
    const events = readClaudeCodeEvents(
      `noise\n${JSON.stringify({ ...INIT, brand_new_field: 1 })}\n[1,2]\n${JSON.stringify(TEXT)}\n`,
    );
    expect(events.init).toMatchObject({ model: 'claude-opus-5-5', brand_new_field: 1 });
    expect(events.assistantText).toEqual(['Wrote it.']);
    expect(events.result).toBeUndefined();
  });
});
