import { startFakeAnthropicApi, type StartedFakeAnthropicApi } from './fake-anthropic-api';

const KEY = 'sk-ant-fake-key';

async function post(api: StartedFakeAnthropicApi, body: Record<string, unknown>, key = KEY): Promise<Response> {
  return fetch(`${api.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Say hi' }],
      ...body,
    }),
  });
}

/** The `data:` payloads of an SSE body, in order. */
function sseData(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n\n')
    .filter((frame) => frame.includes('data: '))
    .map((frame) => JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as Record<string, unknown>);
}

describe('fake Anthropic Messages API', () => {
  let api: StartedFakeAnthropicApi;
  beforeAll(async () => {
    api = await startFakeAnthropicApi({ expectedApiKey: KEY });
  });
  afterAll(() => api.close());
  beforeEach(() => api.reset());

  it('streams a scripted answer as the Messages API event sequence', async () => {
    api.script('Hello from the fake, in more than forty characters of text.');
    const res = await post(api, { stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = sseData(await res.text());
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const text = events
      .filter((e) => e.type === 'content_block_delta')
      .map((e) => (e.delta as { text: string }).text)
      .join('');
    expect(text).toBe('Hello from the fake, in more than forty characters of text.');
    expect(events[5]).toMatchObject({
      delta: { stop_reason: 'end_turn' },
      usage: { output_tokens: expect.any(Number) },
    });
  });

  it('answers non-streaming requests with one message document and records the prompt', async () => {
    const res = await post(api, {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'context' },
            { type: 'text', text: 'What is 2+2?' },
          ],
        },
      ],
    });
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      stop_reason: 'end_turn',
      content: [{ type: 'text', text: 'Fake Anthropic answer to: What is 2+2?' }],
    });
    expect(api.requests).toEqual([
      expect.objectContaining({ method: 'POST', path: '/v1/messages', prompt: 'What is 2+2?', status: 200 }),
    ]);
  });

  it('sends a scripted tool call as a tool_use block with its input as input_json_delta, and the next turn after the tool result', async () => {
    api.script(
      [{ type: 'tool_use', id: 'toolu_1', name: 'Write', input: { file_path: 'a.txt', content: 'x' } }],
      'Done.',
    );
    const first = sseData(await (await post(api, { stream: true })).text());
    expect(first[1]).toMatchObject({ content_block: { type: 'tool_use', id: 'toolu_1', name: 'Write' } });
    expect(JSON.parse((first[2].delta as { partial_json: string }).partial_json)).toEqual({
      file_path: 'a.txt',
      content: 'x',
    });
    expect(first[4]).toMatchObject({ type: 'message_delta', delta: { stop_reason: 'tool_use' } });
    const second = await post(api, {
      messages: [
        { role: 'user', content: 'write a.txt' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Write', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'ok' }] },
      ],
    });
    expect(await second.json()).toMatchObject({ content: [{ type: 'text', text: 'Done.' }] });
    expect(api.requests[1].prompt).toBe('write a.txt');
  });

  it('answers 429 rate_limit_error with retry-after, the set number of times', async () => {
    api.setFault({ kind: 'rate-limit', retryAfterSeconds: 9, times: 1 });
    const limited = await post(api, {});
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('9');
    expect(await limited.json()).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect((await post(api, {})).status).toBe(200);
  });

  it('answers 401 authentication_error to a wrong key and 529 overloaded_error when overloaded', async () => {
    const denied = await post(api, {}, 'sk-ant-wrong');
    expect(denied.status).toBe(401);
    expect(await denied.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    api.setFault({ kind: 'overloaded' });
    const overloaded = await post(api, {});
    expect(overloaded.status).toBe(529);
    expect(await overloaded.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });

  it('counts tokens and answers HEAD /api/hello, and 404s what the API does not have', async () => {
    const counted = await fetch(`${api.url}/v1/messages/count_tokens`, {
      method: 'POST',
      headers: { 'x-api-key': KEY },
      body: '{"messages":[]}',
    });
    expect(await counted.json()).toEqual({ input_tokens: expect.any(Number) });
    expect((await fetch(`${api.url}/api/hello`, { method: 'HEAD' })).status).toBe(200);
    const missing = await fetch(`${api.url}/v1/complete`, {
      method: 'POST',
      headers: { 'x-api-key': KEY },
      body: '{}',
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { type: 'not_found_error' } });
  });
});
