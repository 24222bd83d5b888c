import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import {
  FAKE_GEMINI_API_BIN_PATH,
  fakeGeminiDefaultAnswer,
  startFakeGeminiApi,
  type StartedFakeGeminiApi,
} from './fake-gemini-api';

const CLASSIFIER_BODY = {
  contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
  generationConfig: {
    responseMimeType: 'application/json',
    responseJsonSchema: {
      type: 'OBJECT',
      properties: { complexity_reasoning: { type: 'STRING' }, complexity_score: { type: 'INTEGER' } },
      required: ['complexity_reasoning', 'complexity_score'],
    },
  },
};

function userBody(text: string) {
  return { contents: [{ role: 'user', parts: [{ text: '<session_context>…</session_context>' }, { text }] }] };
}

function post(api: StartedFakeGeminiApi, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${api.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': 'test-key', ...headers },
    body: JSON.stringify(body),
  });
}

// Tests poke into arbitrary JSON documents; a loose type keeps them readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

function json(res: Response): Promise<Loose> {
  return res.json() as Promise<Loose>;
}

function sseEvents(text: string): unknown[] {
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => JSON.parse(block.slice('data: '.length)));
}

describe('fake Gemini API', () => {
  let api: StartedFakeGeminiApi;

  beforeEach(async () => {
    api = await startFakeGeminiApi();
  });

  afterEach(async () => {
    await api.close();
  });

  it('listens on loopback and reports its url and port', () => {
    expect(api.url).toBe(`http://127.0.0.1:${api.port}`);
    expect(api.port).toBeGreaterThan(0);
  });

  it('answers the CLI router classifier with valid JSON text, detected by its response schema', async () => {
    const res = await post(api, '/v1beta/models/gemini-3.5-flash-lite:generateContent', CLASSIFIER_BODY);
    expect(res.status).toBe(200);
    const doc = await json(res);
    expect(JSON.parse(doc.candidates[0].content.parts[0].text)).toEqual({
      complexity_reasoning: 'simple',
      complexity_score: 10,
    });
    expect(api.requests[0].kind).toBe('classifier');
  });

  it('does not spend scripted answers on the classifier', async () => {
    api.script('for the user');
    await post(api, '/v1beta/models/gemini-3.5-flash-lite:generateContent', CLASSIFIER_BODY);
    expect(api.pendingAnswers()).toBe(1);
  });

  it('fills other structured-output requests from their schema', async () => {
    const res = await post(api, '/v1beta/models/m:generateContent', {
      ...userBody('x'),
      generationConfig: {
        responseMimeType: 'application/json',
        responseSchema: {
          type: 'object',
          properties: {
            next_speaker: { type: 'string', enum: ['user', 'model'] },
            n: { type: 'integer' },
            ok: { type: 'boolean' },
          },
        },
      },
    });
    const doc = await json(res);
    expect(JSON.parse(doc.candidates[0].content.parts[0].text)).toEqual({ next_speaker: 'user', n: 0, ok: false });
  });

  it('answers generateContent with scripted text and usage numbers, in order', async () => {
    api.script(
      { text: 'first', usage: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 } },
      'second',
    );
    const first = await json(await post(api, '/v1beta/models/gemini-2.5-pro:generateContent', userBody('q')));
    const second = await json(await post(api, '/v1beta/models/gemini-2.5-pro:generateContent', userBody('q')));
    expect(first.candidates[0]).toMatchObject({
      content: { role: 'model', parts: [{ text: 'first' }] },
      finishReason: 'STOP',
    });
    expect(first.usageMetadata).toEqual({ promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 });
    expect(second.candidates[0].content.parts[0].text).toBe('second');
  });

  it('echoes the prompt deterministically when nothing is scripted (the offline demo answer)', async () => {
    const doc = await json(await post(api, '/v1beta/models/gemini-2.5-pro:generateContent', userBody('what is 2+2?')));
    expect(doc.candidates[0].content.parts[0].text).toBe(
      'Bastion demo (offline fake Gemini API): you asked: what is 2+2?',
    );
    expect(fakeGeminiDefaultAnswer('what is 2+2?')).toBe(doc.candidates[0].content.parts[0].text);
  });

  it('streams streamGenerateContent as SSE chunks ending with finishReason STOP and usage', async () => {
    api.script({ chunks: ['Hello, ', 'world'], usage: { totalTokenCount: 9 } });
    const res = await post(api, '/v1beta/models/gemini-3.8-flash:streamGenerateContent?alt=sse', userBody('q'));
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    expect(text).toMatch(/^data: \{/);
    const events = sseEvents(text) as Array<{
      candidates: Array<{ content: { parts: Array<{ text: string }> }; finishReason?: string }>;
      usageMetadata: { totalTokenCount: number };
    }>;
    expect(events.map((e) => e.candidates[0].content.parts[0].text)).toEqual(['Hello, ', 'world']);
    expect(events[0].candidates[0].finishReason).toBeUndefined();
    expect(events[1].candidates[0].finishReason).toBe('STOP');
    expect(events[1].usageMetadata.totalTokenCount).toBe(9);
    expect(api.requests[0]).toMatchObject({ kind: 'stream', model: 'gemini-3.8-flash', query: { alt: 'sse' } });
  });

  it('answers countTokens, the model list, a single model and embedContent', async () => {
    const count = await json(await post(api, '/v1beta/models/gemini-2.5-pro:countTokens', userBody('abcdefgh')));
    expect(count.totalTokens).toBeGreaterThan(0);
    const list = await json(await fetch(`${api.url}/v1beta/models`));
    expect(list.models.map((m: { name: string }) => m.name)).toContain('models/gemini-2.5-pro');
    const model = await json(await fetch(`${api.url}/v1beta/models/gemini-2.5-flash`));
    expect(model).toMatchObject({
      name: 'models/gemini-2.5-flash',
      supportedGenerationMethods: expect.arrayContaining(['generateContent']),
    });
    const embed = await json(
      await post(api, '/v1beta/models/gemini-embedding-001:embedContent', { content: { parts: [{ text: 'x' }] } }),
    );
    expect(embed.embedding.values.length).toBeGreaterThan(0);
  });

  it('answers unknown paths with a Google-style 404', async () => {
    const res = await fetch(`${api.url}/v9/nothing`);
    expect(res.status).toBe(404);
    expect((await json(res)).error.status).toBe('NOT_FOUND');
  });

  it('records method, path, headers (x-goog-api-key, authorization), parsed body and prompt', async () => {
    await post(api, '/v1beta/models/gemini-2.5-pro:generateContent', userBody('hello'), {
      authorization: 'Bearer abc',
    });
    const [req] = api.requests;
    expect(req).toMatchObject({
      method: 'POST',
      path: '/v1beta/models/gemini-2.5-pro:generateContent',
      apiKey: 'test-key',
      model: 'gemini-2.5-pro',
      action: 'generateContent',
      kind: 'generate',
      prompt: 'hello',
      body: userBody('hello'),
    });
    expect(req.headers['x-goog-api-key']).toBe('test-key');
    expect(req.headers.authorization).toBe('Bearer abc');
  });

  it('waits for requests to arrive', async () => {
    const waiting = api.waitForRequests(2, 2000);
    await post(api, '/v1beta/models/m:generateContent', userBody('a'));
    await post(api, '/v1beta/models/m:generateContent', userBody('b'));
    expect((await waiting).map((r) => r.prompt)).toEqual(['a', 'b']);
  });

  describe('faults', () => {
    it('sends 429 RESOURCE_EXHAUSTED with RetryInfo and an optional Retry-After header', async () => {
      api.setFault({ kind: 'rate-limit', retryDelay: '7s', retryAfterHeader: true });
      const res = await post(api, '/v1beta/models/m:generateContent', userBody('a'));
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(await json(res)).toEqual({
        error: {
          code: 429,
          message: expect.any(String),
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }],
        },
      });
    });

    it('omits Retry-After unless asked and accepts the delay in milliseconds', async () => {
      api.setFault({ kind: 'rate-limit', retryDelay: 1500 });
      const res = await post(api, '/v1beta/models/m:generateContent', userBody('a'));
      expect(res.headers.get('retry-after')).toBeNull();
      expect((await json(res)).error.details[0].retryDelay).toBe('1.5s');
    });

    it.each([
      ['internal', 500, 'INTERNAL'],
      ['unavailable', 503, 'UNAVAILABLE'],
      ['permission-denied', 403, 'PERMISSION_DENIED'],
    ] as const)('sends %s as HTTP %i %s', async (kind, status, rpcStatus) => {
      api.setFault(kind);
      const res = await post(api, '/v1beta/models/m:streamGenerateContent?alt=sse', userBody('a'));
      expect(res.status).toBe(status);
      expect((await json(res)).error).toMatchObject({ code: status, status: rpcStatus });
    });

    it('sends a bad key exactly as Google does: 400 INVALID_ARGUMENT with ErrorInfo API_KEY_INVALID', async () => {
      api.setFault('bad-key');
      const res = await post(api, '/v1beta/models/m:generateContent', userBody('a'));
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body.error).toMatchObject({
        code: 400,
        message: 'API key not valid. Please pass a valid API key.',
        status: 'INVALID_ARGUMENT',
      });
      expect(body.error.details[0]).toEqual({
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com' },
      });
    });

    it('rejects any other key than expectedApiKey with API_KEY_INVALID and a missing key with 403', async () => {
      await using strict = await startFakeGeminiApi({ expectedApiKey: 'real-key' });
      const wrong = await post(strict, '/v1beta/models/m:generateContent', userBody('a'), {
        'x-goog-api-key': 'placeholder',
      });
      expect(wrong.status).toBe(400);
      expect((await json(wrong)).error.details[0].reason).toBe('API_KEY_INVALID');
      const missing = await fetch(`${strict.url}/v1beta/models/m:generateContent`, {
        method: 'POST',
        body: JSON.stringify(userBody('a')),
      });
      expect(missing.status).toBe(403);
      const right = await post(strict, '/v1beta/models/m:generateContent', userBody('a'), {
        'x-goog-api-key': 'real-key',
      });
      expect(right.status).toBe(200);
      expect(strict.requests.map((r) => r.apiKey)).toEqual(['placeholder', undefined, 'real-key']);
    });

    it('queues faults for the next N matching calls, then answers normally', async () => {
      api.queueFault('unavailable', 2);
      const statuses = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await post(api, '/v1beta/models/m:generateContent', userBody('a'))).status);
      expect(statuses).toEqual([503, 503, 200]);
      expect(api.requests.map((r) => r.fault)).toEqual(['unavailable', 'unavailable', undefined]);
    });

    it("targets only content calls with on: 'content', leaving the classifier alone", async () => {
      api.setFault({ kind: 'rate-limit', on: 'content' });
      expect((await post(api, '/v1beta/models/m:generateContent', CLASSIFIER_BODY)).status).toBe(200);
      expect((await post(api, '/v1beta/models/m:streamGenerateContent?alt=sse', userBody('a'))).status).toBe(429);
      api.setFault(undefined);
      expect((await post(api, '/v1beta/models/m:streamGenerateContent?alt=sse', userBody('a'))).status).toBe(200);
    });

    it('answers one scripted call with an error', async () => {
      api.script({ error: { kind: 'rate-limit', retryDelay: '3s' } }, 'after');
      expect((await post(api, '/v1beta/models/m:generateContent', userBody('a'))).status).toBe(429);
      expect(
        (await json(await post(api, '/v1beta/models/m:generateContent', userBody('a')))).candidates[0].content.parts[0]
          .text,
      ).toBe('after');
    });

    it('delays the first byte', async () => {
      api.setFault({ kind: 'slow-first-byte', delayMs: 300 });
      const started = Date.now();
      const res = await post(api, '/v1beta/models/m:generateContent', userBody('a'));
      expect(Date.now() - started).toBeGreaterThanOrEqual(280);
      expect(res.status).toBe(200);
    });

    it('cuts a stream after one SSE chunk', async () => {
      api.setFault('stream-cut');
      api.script({ chunks: ['one ', 'two'] });
      const res = await post(api, '/v1beta/models/m:streamGenerateContent?alt=sse', userBody('a'));
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const first = await reader.read();
      expect(Buffer.from(first.value!).toString()).toContain('"text":"one "');
      await expect(
        (async () => {
          for (;;) if ((await reader.read()).done) return 'ended cleanly';
        })(),
      ).rejects.toThrow();
    });

    it('cuts a non-streamed body half-way', async () => {
      api.setFault('stream-cut');
      const res = await post(api, '/v1beta/models/m:generateContent', userBody('a'));
      await expect(res.text()).rejects.toThrow();
    });

    it('sends malformed JSON with a 200', async () => {
      api.setFault('malformed-json');
      const res = await post(api, '/v1beta/models/m:generateContent', userBody('a'));
      expect(res.status).toBe(200);
      await expect(res.json()).rejects.toThrow(/JSON/);
      const stream = await post(api, '/v1beta/models/m:streamGenerateContent?alt=sse', userBody('a'));
      const text = await stream.text();
      expect(text.startsWith('data: ')).toBe(true);
      expect(() => sseEvents(text)).toThrow(/JSON/);
    });

    it('stalls until the client gives up, and close() still ends promptly', async () => {
      api.setFault({ kind: 'stall', afterHeaders: true });
      const res = await post(api, '/v1beta/models/m:streamGenerateContent?alt=sse', userBody('a'));
      expect(res.status).toBe(200);
      const reading = res.text();
      const closed = Date.now();
      await api.close();
      expect(Date.now() - closed).toBeLessThan(1000);
      await expect(reading).rejects.toThrow();
    });

    it('rejects an unknown fault kind', () => {
      expect(() => api.setFault({ kind: 'nope' } as never)).toThrow(/unknown fault kind/);
    });
  });

  it('close() is idempotent and works through Symbol.asyncDispose', async () => {
    const other = await startFakeGeminiApi();
    await Promise.all([other.close(), other.close()]);
    await other[Symbol.asyncDispose]();
    await expect(fetch(`${other.url}/v1beta/models`)).rejects.toThrow();
  });

  it('reset() forgets requests, answers and faults', async () => {
    api.script('x').setFault('internal');
    await post(api, '/v1beta/models/m:generateContent', userBody('a'));
    api.reset();
    expect(api.requests).toHaveLength(0);
    expect(api.pendingAnswers()).toBe(0);
    expect((await post(api, '/v1beta/models/m:generateContent', userBody('a'))).status).toBe(200);
  });

  it('runs standalone from plain node and can be scripted over /__fake/*', async () => {
    const child = spawn(process.execPath, [FAKE_GEMINI_API_BIN_PATH, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      const { url } = JSON.parse(line) as { url: string };
      await fetch(`${url}/__fake/script`, { method: 'POST', body: JSON.stringify({ answers: ['from control'] }) });
      const doc = await json(
        await fetch(`${url}/v1beta/models/m:generateContent`, { method: 'POST', body: JSON.stringify(userBody('a')) }),
      );
      expect(doc.candidates[0].content.parts[0].text).toBe('from control');
      await fetch(`${url}/__fake/fault`, {
        method: 'POST',
        body: JSON.stringify({ fault: { kind: 'rate-limit' }, times: 1 }),
      });
      expect(
        (await fetch(`${url}/v1beta/models/m:generateContent`, { method: 'POST', body: JSON.stringify(userBody('a')) }))
          .status,
      ).toBe(429);
      const recorded = await json(await fetch(`${url}/__fake/requests`));
      expect(recorded.requests).toHaveLength(2);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  it('does not serve the control endpoints unless asked', async () => {
    const res = await fetch(`${api.url}/__fake/reset`, { method: 'POST' });
    expect(res.status).toBe(404);
  });
});
