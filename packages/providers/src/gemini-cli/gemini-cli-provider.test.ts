import fc from 'fast-check';
import { AgentTask } from '../contract/agent-task';
import type { PlanContext, ProviderOutput } from '../contract/agent-provider';
import { createGeminiCliProvider } from './gemini-cli-provider';

const ctx: PlanContext = {
  correlationId: 'c',
  mode: 'read-only',
  workspaceMountPath: '/workspace',
  image: 'bastion/gemini-cli:latest',
  gatewayUrl: 'http://127.0.0.1:8080',
  maxArgBytes: 1024,
};
const provider = createGeminiCliProvider();
const task = (over: Partial<AgentTask> = {}) => AgentTask.parse({ prompt: 'What does this repo do?', ...over });
const out = (over: Partial<ProviderOutput>): ProviderOutput => ({
  stdout: '',
  stderr: '',
  exitCode: 0,
  timedOut: false,
  oomKilled: false,
  outputLimited: false,
  ...over,
});

const SUCCESS = JSON.stringify(
  {
    session_id: 'f32d5340-27aa-44e6-a521-11341240f1ad',
    response: 'It is a sandbox.',
    stats: {
      models: {
        'gemini-3.5-flash-lite': {
          api: { totalRequests: 1, totalErrors: 0, totalLatencyMs: 22 },
          tokens: { input: 131, candidates: 14, total: 145 },
        },
        'gemini-3.8-flash': {
          api: { totalRequests: 1, totalErrors: 0, totalLatencyMs: 40 },
          tokens: { input: 900, candidates: 20, total: 920 },
        },
      },
      tools: {},
      files: {},
    },
  },
  null,
  2,
);
const NOISE = 'Warning: 256-color support not detected.\nRipgrep is not available. Falling back to GrepTool.\n';
const errorDoc = (code: number, message: string) =>
  NOISE +
  'Error when talking to Gemini API Full report available at: /tmp/gemini-client-error-x.json\n' +
  JSON.stringify({ session_id: 's', error: { type: 'Error', message, code } }, null, 2) +
  '\n';

describe('gemini-cli provider: plan', () => {
  it('runs the CLI non-interactively with JSON-lines (stream-json) output, the workspace read-only, the API only via the gateway', () => {
    const spec = provider.plan(task({ workspace: '/home/me/repo', model: 'gemini-3.8-flash' }), ctx);
    expect(spec.image).toBe('bastion/gemini-cli:latest');
    expect(spec.command).toEqual([
      'gemini',
      '--output-format',
      'stream-json',
      '--skip-trust',
      '--model',
      'gemini-3.8-flash',
      '--prompt',
      'What does this repo do?',
    ]);
    expect(spec.workspace).toEqual({ hostPath: '/home/me/repo', access: 'read-only' });
    expect(spec.network).toEqual({ mode: 'gateway', api: 'gemini', domains: [] });
    expect(JSON.stringify(spec)).not.toMatch(/GEMINI_API_KEY/);
    expect(spec.secretEnv).toBeUndefined();
  });

  it('feeds a prompt longer than argv allows on stdin instead', () => {
    const long = 'x'.repeat(5000);
    const spec = provider.plan(task({ prompt: long }), ctx);
    expect(spec.stdin).toBe(long);
    expect(spec.command).not.toContain(long);
    expect(spec.command).not.toContain('--prompt');
  });
});

describe('gemini-cli provider: parse', () => {
  it('maps the JSON result to response and usage stats', () => {
    const r = provider.parse(out({ stdout: SUCCESS, stderr: NOISE }), task());
    expect(r).toMatchObject({ ok: true, response: 'It is a sandbox.' });
    expect(r.stats).toMatchObject({
      requests: 2,
      apiErrors: 0,
      tokens: { total: 1065 },
      models: ['gemini-3.5-flash-lite', 'gemini-3.8-flash'],
    });
  });

  it('maps a 429 error document to RATE_LIMITED with retryAfterMs from RetryInfo', () => {
    const message =
      'You exceeded your current quota, please check your plan and billing details.\nSuggested retry after 2s.';
    const r = provider.parse(out({ exitCode: 173, stderr: errorDoc(429, message) }), task());
    expect(r.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 2000 });
  });

  it('maps a bad key (400 API_KEY_INVALID) and a missing key (41) to AUTH_FAILED', () => {
    const bad = JSON.stringify({
      error: {
        code: 400,
        message: 'API key not valid.',
        status: 'INVALID_ARGUMENT',
        details: [{ reason: 'API_KEY_INVALID' }],
      },
    });
    expect(provider.parse(out({ exitCode: 144, stderr: errorDoc(400, bad) }), task()).error).toMatchObject({
      code: 'AUTH_FAILED',
      retryable: false,
    });
    expect(
      provider.parse(
        out({
          exitCode: 41,
          stderr: errorDoc(41, 'When using Gemini API, you must specify the GEMINI_API_KEY environment variable.'),
        }),
        task(),
      ).error,
    ).toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('maps a cut stream or malformed JSON to PROVIDER_FAILED', () => {
    expect(provider.parse(out({ exitCode: 1, stderr: errorDoc(1, 'terminated') }), task()).error?.code).toBe(
      'PROVIDER_FAILED',
    );
    expect(
      provider.parse(out({ exitCode: 1, stderr: errorDoc(1, 'Unterminated string in JSON at position 65') }), task())
        .error?.code,
    ).toBe('PROVIDER_FAILED');
    expect(provider.parse(out({ exitCode: 0, stdout: SUCCESS.slice(0, 80) }), task()).error?.code).toBe(
      'PROVIDER_FAILED',
    );
    expect(provider.parse(out({ exitCode: 0, stdout: '' }), task()).error?.code).toBe('PROVIDER_FAILED');
  });

  it('maps 5xx to a retryable PROVIDER_FAILED', () => {
    expect(
      provider.parse(
        out({ exitCode: 247, stderr: errorDoc(503, 'The model is overloaded. Please try again later.') }),
        task(),
      ).error,
    ).toMatchObject({ code: 'PROVIDER_FAILED', retryable: true });
  });

  // Lines as the 0.61.0 CLI printed them against the fake Gemini API (OBSERVED.md, "stream-json").
  const line = (doc: object) => JSON.stringify({ timestamp: '2026-12-06T01:45:36.146Z', ...doc });
  const STREAM_START = [
    line({ type: 'init', session_id: 'e0649420-3f42-41eb-a064-9ed538bdd1a3', model: 'auto' }),
    line({ type: 'message', role: 'user', content: 'say hello' }),
  ];
  const STREAM_SUCCESS =
    [
      ...STREAM_START,
      line({ type: 'message', role: 'assistant', content: 'Bastion demo (offline fake', delta: true }),
      line({ type: 'message', role: 'assistant', content: ' Gemini API): you asked: say hello', delta: true }),
      line({
        type: 'result',
        status: 'success',
        stats: {
          total_tokens: 442,
          input_tokens: 413,
          output_tokens: 29,
          cached: 0,
          input: 413,
          duration_ms: 221,
          tool_calls: 0,
          models: {
            'gemini-3.5-flash-lite': { total_tokens: 224, input_tokens: 210, output_tokens: 14, cached: 0, input: 210 },
            'gemini-3.8-flash': { total_tokens: 218, input_tokens: 203, output_tokens: 15, cached: 0, input: 203 },
          },
        },
      }),
    ].join('\n') + '\n';
  const streamError = (message: string) =>
    [
      ...STREAM_START,
      line({
        type: 'result',
        status: 'error',
        error: { type: 'unknown', message },
        stats: { total_tokens: 318, models: {} },
      }),
    ].join('\n') + '\n';

  it('joins the assistant deltas of a stream-json run into the response and reads its usage', () => {
    const r = provider.parse(out({ stdout: STREAM_SUCCESS, stderr: NOISE }), task());
    expect(r).toMatchObject({ ok: true, response: 'Bastion demo (offline fake Gemini API): you asked: say hello' });
    expect(r.stats).toEqual({
      models: ['gemini-3.5-flash-lite', 'gemini-3.8-flash'],
      tokens: { input: 413, output: 29, cached: 0, total: 442 },
      toolCalls: 0,
      durationMs: 221,
      sessionId: 'e0649420-3f42-41eb-a064-9ed538bdd1a3',
    });
  });

  it('maps a stream-json error result by the Google body it quotes, or by the exit code', () => {
    const badKey =
      '[API Error: {"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}]';
    expect(provider.parse(out({ exitCode: 144, stdout: streamError(badKey) }), task()).error).toMatchObject({
      code: 'AUTH_FAILED',
      retryable: false,
    });
    const quota =
      'You exceeded your current quota, please check your plan and billing details.\nSuggested retry after 2s.';
    expect(provider.parse(out({ exitCode: 173, stdout: streamError(quota) }), task()).error).toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
      retryAfterMs: 2000,
    });
    const overloaded = provider.parse(
      out({ exitCode: 247, stdout: streamError('The model is overloaded. Please try again later.') }),
      task(),
    ).error;
    expect(overloaded).toMatchObject({
      code: 'PROVIDER_FAILED',
      retryable: true,
      message: expect.stringContaining('503'),
    });
    // A success line with a failing exit is not a success.
    expect(provider.parse(out({ exitCode: 1, stdout: STREAM_SUCCESS }), task()).ok).toBe(false);
  });

  it('reads the auth failure that stream-json mode prints only as text (exit 41)', () => {
    const r = provider.parse(out({ exitCode: 41, stderr: NOISE + 'Invalid auth method selected.\n' }), task());
    expect(r.error).toMatchObject({
      code: 'AUTH_FAILED',
      message: expect.stringContaining('Invalid auth method selected.'),
    });
  });

  it('answers PROVIDER_FAILED for a stream cut before its result line', () => {
    const cut = STREAM_SUCCESS.split('\n').slice(0, 3).join('\n');
    expect(provider.parse(out({ exitCode: 0, stdout: cut }), task()).error).toMatchObject({
      code: 'PROVIDER_FAILED',
      message: expect.stringContaining('without a result document'),
    });
  });

  it('never throws on arbitrary output, and always answers ok or a typed error (property)', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }),
        (stdout, stderr, exitCode) => {
          const r = provider.parse(out({ stdout, stderr, exitCode }), task());
          expect(r.ok || r.error !== undefined).toBe(true);
        },
      ),
    );
  });
});
