import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentProvider, AgentResult } from '@bastion/providers';
import {
  createMemoryAuditLog,
  createFlagService,
  type FlagService,
  writeFlagsFileAtomic,
  createPipeline,
  createAgentRunner,
  flagServiceAutofix,
  createRouter,
  type ProviderCall,
  type RoutedProvider,
} from '@bastion/agent-runtime';
import type { Executor } from '@bastion/sandbox';
import { createMetrics } from '../metrics/metrics';
import type { ProviderBinding } from '@bastion/agent-runtime';
import { createService, type StartedService } from './service';
import { allowAll, noSecrets, passThrough, succeededResult } from '@bastion/agent-runtime/test-support';
import { SANDBOX_IMAGE } from '@bastion/sandbox';

const TOKEN = 'test-token-0123456789abcdef';

/** The fields the tests read from JSON answers. */
interface Body {
  error: { code: string; problems: { path: string; message: string }[] };
  id: string;
  state: string;
  status: string;
  provider: string;
  result?: AgentResult;
}
const json = (res: Response) => res.json() as Promise<Body>;
const cursorCaps = { analyze: true, edit: true };
const geminiCaps = { analyze: true, edit: false };

function okResult(provider: string, correlationId: string): AgentResult {
  return succeededResult(provider, correlationId, { redactions: [{ ruleId: 'aws-access-key', count: 2 }] });
}

function echoExecutor(): Executor & { runs: number } {
  const ex = {
    backend: 'memory' as const,
    runs: 0,
    async run(
      _req: unknown,
      hooks: { onStdout(c: Uint8Array): void; onStarted?(i: { sandboxId: string; startupMs: number }): void },
    ) {
      ex.runs += 1;
      hooks.onStarted?.({ sandboxId: 'mem-1', startupMs: 0 });
      hooks.onStdout(new TextEncoder().encode('patched src/a.ts\n'));
      return {
        exitCode: 0,
        signal: null,
        oomKilled: false,
        timedOut: false,
        outputLimited: null,
        aborted: false,
        durationMs: 1,
        startupMs: 0,
        sandboxId: 'mem-1',
      };
    },
    close: async () => undefined,
  };
  return ex;
}
const fakeCursor: AgentProvider = {
  specificationVersion: 'v1',
  image: 'sandbox',
  upstreams: [],
  flags: {},
  id: 'cursor',
  capabilities: cursorCaps,
  plan: (task) => ({
    provider: 'cursor',
    image: SANDBOX_IMAGE,
    command: ['cursor-agent', '-p', task.prompt],
  }),
  parse: (output) => ({ ok: output.exitCode === 0, response: output.stdout.trim() }),
};

describe('bastion serve', () => {
  let dir: string;
  let tokenFile: string;
  const closers: (() => Promise<void>)[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-serve-'));
    tokenFile = join(dir, 'token');
    await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await rm(dir, { recursive: true, force: true });
  });

  async function serve(
    call: ProviderCall,
    extra: {
      providers?: RoutedProvider[];
      flags?: FlagService;
      config?: Parameters<typeof createRouter>[0]['config'];
      runtimeClose?: () => Promise<void>;
    } = {},
  ) {
    const audit = createMemoryAuditLog();
    const metrics = createMetrics();
    const router = createRouter({
      providers: extra.providers ?? [
        { id: 'gemini-cli', capabilities: geminiCaps },
        { id: 'cursor', capabilities: cursorCaps },
      ],
      call,
      audit,
      metrics,
      ...(extra.config ? { config: extra.config } : {}),
      ...(extra.flags ? { gate: extra.flags.gate } : {}),
    });
    const service: StartedService = await createService({
      router,
      metrics,
      tokenFile,
      audit,
      port: 0,
      ...(extra.flags ? { flags: extra.flags } : {}),
      ...(extra.runtimeClose ? { runtime: { close: extra.runtimeClose } } : {}),
    });
    closers.push(() => service.close());
    const request = (path: string, init: RequestInit & { auth?: boolean } = {}) =>
      fetch(`${service.url}${path}`, {
        ...init,
        headers: {
          'content-type': 'application/json',
          ...(init.auth === false ? {} : { authorization: `Bearer ${TOKEN}` }),
          ...(init.headers as Record<string, string>),
        },
      });
    return { service, audit, metrics, request };
  }

  it('answers 401 to a request without the token and runs nothing', async () => {
    const call = jest.fn<ReturnType<ProviderCall>, Parameters<ProviderCall>>(async (p, _t, o) =>
      okResult(p, o.correlationId),
    );
    const { request } = await serve(call);
    const res = await request('/v1/tasks?wait=true', {
      method: 'POST',
      body: JSON.stringify({ prompt: 'hi' }),
      auth: false,
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await json(res)).error.code).toBe('AUTH_FAILED');
    const wrong = await request('/v1/tasks?wait=true', {
      method: 'POST',
      body: JSON.stringify({ prompt: 'hi' }),
      auth: false,
      headers: { authorization: `Bearer ${TOKEN}x` },
    });
    expect(wrong.status).toBe(401);
    expect((await request('/metrics', { auth: false })).status).toBe(401);
    expect((await request('/v1/tasks/anything', { auth: false })).status).toBe(401);
    expect(call).not.toHaveBeenCalled();
    expect((await request('/healthz', { auth: false })).status).toBe(200);
    expect((await request('/readyz', { auth: false })).status).toBe(200);
  });

  it('rejects an invalid body with 400 and the paths of every problem', async () => {
    const call = jest.fn<ReturnType<ProviderCall>, Parameters<ProviderCall>>(async (p, _t, o) =>
      okResult(p, o.correlationId),
    );
    const { request } = await serve(call);
    const res = await request('/v1/tasks?wait=true', {
      method: 'POST',
      body: JSON.stringify({ prompt: '', intent: 'delete', extra: 1 }),
    });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe('INVALID_INPUT');
    expect(body.error.problems.map((p: { path: string }) => p.path)).toEqual(
      expect.arrayContaining(['prompt', 'intent']),
    );
    const notJson = await request('/v1/tasks', { method: 'POST', body: '{nope' });
    expect(notJson.status).toBe(400);
    expect((await json(notJson)).error.code).toBe('INVALID_INPUT');
    expect(call).not.toHaveBeenCalled();
  });

  it('runs a task synchronously with ?wait=true, and asynchronously with 202 and GET /v1/tasks/:id', async () => {
    const { request } = await serve(async (p, _t, o) => okResult(p, o.correlationId));
    const sync = await request('/v1/tasks?wait=true', {
      method: 'POST',
      body: JSON.stringify({ prompt: 'explain', provider: 'gemini-cli' }),
      headers: { 'x-correlation-id': 'corr-1' },
    });
    expect(sync.status).toBe(200);
    expect(await json(sync)).toEqual(
      expect.objectContaining({ status: 'succeeded', provider: 'gemini-cli', correlationId: 'corr-1' }),
    );

    const accepted = await request('/v1/tasks', { method: 'POST', body: JSON.stringify({ prompt: 'explain' }) });
    expect(accepted.status).toBe(202);
    const { id } = await json(accepted);
    expect(accepted.headers.get('location')).toBe(`/v1/tasks/${id}`);
    let task: { state: string; result?: AgentResult } = { state: 'running' };
    for (let i = 0; i < 50 && task.state === 'running'; i++) {
      task = await json(await request(`/v1/tasks/${id}`));
      if (task.state === 'running') await new Promise((r) => setTimeout(r, 10));
    }
    expect(task.state).toBe('succeeded');
    expect(task.result?.provider).toBe('gemini-cli');
    expect((await request('/v1/tasks/unknown')).status).toBe(404);
  });

  it('streams accepted, routed, output and result as server-sent events', async () => {
    const { request } = await serve(async (p, _t, o) => {
      o.onOutput?.('stdout', 'thinking...');
      return okResult(p, o.correlationId);
    });
    const res = await request('/v1/tasks/stream', { method: 'POST', body: JSON.stringify({ prompt: 'explain' }) });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const text = await res.text();
    const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(events).toEqual(['accepted', 'routed', 'output', 'result']);
    expect(text).toContain('"text":"thinking..."');
  });

  it('applies Cursor changes once FF_CURSOR_AUTOFIX is flipped in the flags file, with no restart, and audits both', async () => {
    const flagsFile = join(dir, 'bastion-flags.yaml');
    await writeFlagsFileAtomic(flagsFile, { FF_CURSOR_AUTOFIX: false });
    const audit = createMemoryAuditLog();
    const flags = createFlagService({ flagsFile, env: {}, audit });
    closers.push(() => flags.close());
    const executor = echoExecutor();
    const pipeline = createPipeline({
      policy: () => allowAll,
      executor,
      sanitizer: passThrough,
      secrets: noSecrets,
      audit,
    });
    // The production path: the router's call is one AgentRunner.run, whose binding reads the
    // provider's autofix flag at call time (cursor's manifest names FF_CURSOR_AUTOFIX).
    const autofix = flagServiceAutofix(flags);
    const binding: ProviderBinding = {
      provider: fakeCursor,
      async prepare(task, { correlationId }) {
        if (task.intent !== 'edit') return { mode: 'read-only' };
        const { enabled } = await autofix({ correlationId, provider: fakeCursor.id, flag: 'FF_CURSOR_AUTOFIX' });
        return {
          mode: enabled ? 'apply' : 'dry-run',
          changes: async (_run, { mode }) => {
            const change = { path: 'src/a.ts', kind: 'modify' as const, diff: '--- a/src/a.ts\n+++ b/src/a.ts\n' };
            return {
              proposedChanges: [change],
              appliedChanges: mode === 'apply' ? [{ path: change.path, kind: change.kind }] : [],
            };
          },
        };
      },
    };
    const runner = createAgentRunner({ pipeline, bindings: [binding] });
    const call: ProviderCall = (providerId, task, o) =>
      runner.run(providerId, task, { correlationId: o.correlationId, signal: o.signal });
    const { request } = await serve(call, { providers: [fakeCursor], flags });
    const edit = () =>
      request('/v1/tasks?wait=true', {
        method: 'POST',
        body: JSON.stringify({ prompt: 'fix the bug', intent: 'edit' }),
      }).then((r) => r.json() as Promise<AgentResult>);

    const before = await edit();
    expect(before).toEqual(expect.objectContaining({ status: 'succeeded', mode: 'dry-run', appliedChanges: [] }));
    expect(before.proposedChanges).toHaveLength(1);

    await writeFlagsFileAtomic(flagsFile, { FF_CURSOR_AUTOFIX: true });
    const after = await edit();
    expect(after).toEqual(
      expect.objectContaining({
        status: 'succeeded',
        mode: 'apply',
        appliedChanges: [{ path: 'src/a.ts', kind: 'modify' }],
      }),
    );
    expect(executor.runs).toBe(2);
    expect(audit.events).toContainEqual(
      expect.objectContaining({
        event: 'flags.write_locked',
        flag: 'FF_CURSOR_AUTOFIX',
        correlationId: before.correlationId,
      }),
    );
    expect(audit.events).toContainEqual(
      expect.objectContaining({
        event: 'flags.write_unlocked',
        flag: 'FF_CURSOR_AUTOFIX',
        correlationId: after.correlationId,
        source: 'file',
      }),
    );
  });

  it('shows the open breaker, calls by outcome and redactions by rule in /metrics', async () => {
    const { request } = await serve(
      async (p, _t, o) =>
        p === 'gemini-cli'
          ? {
              ...okResult(p, o.correlationId),
              status: 'failed',
              redactions: [],
              error: { code: 'RATE_LIMITED', message: '429', retryable: true, retryAfterMs: 1 },
            }
          : okResult(p, o.correlationId),
      {
        config: {
          defaults: {
            retry: { maxAttempts: 0 },
            cooldownMs: 0,
            breaker: { consecutiveFailures: 2, halfOpenAfterMs: 60_000 },
          },
        },
      },
    );
    for (let i = 0; i < 2; i++) {
      const r = await request('/v1/tasks?wait=true', { method: 'POST', body: JSON.stringify({ prompt: `p${i}` }) });
      expect((await json(r)).provider).toBe('cursor');
    }
    const metrics = await (await request('/metrics')).text();
    expect(metrics).toMatch(/bastion_circuit_breaker_state\{provider="gemini-cli"\} 1/);
    expect(metrics).toMatch(/bastion_circuit_breaker_state\{provider="cursor"\} 0/);
    expect(metrics).toMatch(/bastion_agent_calls_total\{provider="cursor",outcome="succeeded",code="none"\} 2/);
    expect(metrics).toMatch(/bastion_redactions_total\{rule="aws-access-key"\} 4/);
    expect(metrics).toMatch(
      /bastion_router_events_total\{event="fallback",provider="gemini-cli",reason="RATE_LIMITED"\} 2/,
    );
    expect(metrics).toContain('bastion_agent_call_duration_seconds_bucket');
  });

  it('drains in-flight calls on close, refuses new ones meanwhile, then closes the runtime', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const order: string[] = [];
    const { request, service } = await serve(
      async (p, _t, o) => {
        await gate;
        order.push('call finished');
        return okResult(p, o.correlationId);
      },
      { runtimeClose: async () => void order.push('runtime closed') },
    );
    const inFlight = request('/v1/tasks?wait=true', { method: 'POST', body: JSON.stringify({ prompt: 'slow' }) });
    while (service.inFlight === 0) await new Promise((r) => setTimeout(r, 5));
    const closed = service.close();
    expect(service.draining).toBe(true);
    expect((await request('/readyz', { auth: false })).status).toBe(503);
    expect((await request('/v1/tasks', { method: 'POST', body: JSON.stringify({ prompt: 'late' }) })).status).toBe(503);
    release();
    expect((await json(await inFlight)).status).toBe('succeeded');
    await closed;
    await service.close();
    expect(order).toEqual(['call finished', 'runtime closed']);
  });

  it('answers an unknown provider 400 INVALID_INPUT naming the known ones, before accepting anything', async () => {
    const call = jest.fn<ReturnType<ProviderCall>, Parameters<ProviderCall>>(async (p, _t, o) =>
      okResult(p, o.correlationId),
    );
    const { request } = await serve(call);
    const res = await request('/v1/tasks', {
      method: 'POST',
      body: JSON.stringify({ prompt: 'hi', provider: 'claude' }),
    });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.error.code).toBe('INVALID_INPUT');
    expect(body.error.problems[0]).toEqual({ path: 'provider', message: expect.stringMatching(/gemini-cli.*cursor/) });
    expect(call).not.toHaveBeenCalled();
  });

  it('answers 429 with Retry-After when every provider slot is taken, and 404 NOT_FOUND for unknown routes', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { request } = await serve(
      async (p, _t, o) => {
        await held;
        return okResult(p, o.correlationId);
      },
      {
        providers: [{ id: 'cursor', capabilities: cursorCaps }],
        config: { defaults: { maxConcurrent: 1, maxQueue: 0 } },
      },
    );
    const first = request('/v1/tasks?wait=true', { method: 'POST', body: JSON.stringify({ prompt: 'one' }) });
    await new Promise((r) => setTimeout(r, 50));
    const second = await request('/v1/tasks?wait=true', { method: 'POST', body: JSON.stringify({ prompt: 'two' }) });
    expect(second.status).toBe(429);
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await json(second)).error).toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
      message: expect.stringContaining('Retry-After'),
    });
    release();
    expect((await first).status).toBe(200);

    const missing = await request('/v2/anything', { method: 'POST', body: '{}' });
    expect(missing.status).toBe(404);
    expect((await json(missing)).error.code).toBe('NOT_FOUND');
  });

  it('answers 429 with Retry-After before accepting a task without ?wait when no provider that could take it has room', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const call = jest.fn<ReturnType<ProviderCall>, Parameters<ProviderCall>>(async (p, _t, o) => {
      await held;
      return okResult(p, o.correlationId);
    });
    const { request } = await serve(call, { config: { defaults: { maxConcurrent: 1, maxQueue: 0 } } });
    const post = (body: object) => request('/v1/tasks', { method: 'POST', body: JSON.stringify(body) });
    expect((await post({ prompt: 'one', provider: 'cursor' })).status).toBe(202);
    while (call.mock.calls.length === 0) await new Promise((r) => setTimeout(r, 5));

    // cursor is full; a task pinned to it is refused before a task record exists.
    const pinned = await post({ prompt: 'two', provider: 'cursor' });
    expect(pinned.status).toBe(429);
    expect(Number(pinned.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(pinned.headers.get('location')).toBeNull();
    expect((await json(pinned)).error).toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
      message: expect.stringMatching(/cursor 1\/1 running.*maxConcurrent/),
    });

    // gemini-cli still has room, so an unpinned task is accepted; then nothing has room.
    expect((await post({ prompt: 'three' })).status).toBe(202);
    while (call.mock.calls.length < 2) await new Promise((r) => setTimeout(r, 5));
    const none = await post({ prompt: 'four' });
    expect(none.status).toBe(429);
    expect((await json(none)).error).toMatchObject({
      message: expect.stringMatching(/gemini-cli 1\/1 running, 0\/0 queued; cursor 1\/1/),
    });
    expect(call).toHaveBeenCalledTimes(2);

    const ready = (await (await request('/readyz')).json()) as { providers: unknown[] };
    expect(ready.providers).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: 'cursor', inFlight: 1, maxConcurrent: 1, maxQueue: 0 })]),
    );
    release();
  });

  it('refuses to start without a usable token file', async () => {
    await writeFile(tokenFile, 'short');
    const router = createRouter({ providers: [], call: jest.fn(), audit: createMemoryAuditLog() });
    await expect(createService({ router, metrics: createMetrics(), tokenFile, port: 0 })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await expect(
      createService({ router, metrics: createMetrics(), tokenFile: join(dir, 'missing'), port: 0 }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
