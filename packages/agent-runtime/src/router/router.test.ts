import type { ErrorInfo } from '@bastion/core';
import type { AgentResult, AgentTask } from '@bastion/providers';
import { createMemoryAuditLog } from '../audit/audit-log';
import type { BreakerStateName, RouterMetrics } from './router-metrics';
import { createRouter, type ProviderCall, type RoutedProvider } from './router';
import { succeededResult } from '../test-support/succeeded-result';

const gemini: RoutedProvider = { id: 'gemini-cli', capabilities: { analyze: true, edit: false } };
const cursor: RoutedProvider = { id: 'cursor', capabilities: { analyze: true, edit: true } };

function ok(provider: string, task: AgentTask, correlationId: string): AgentResult {
  return succeededResult(provider, correlationId, {
    mode: task.intent === 'edit' ? 'dry-run' : 'read-only',
    response: `answer from ${provider}`,
  });
}

function failed(provider: string, correlationId: string, error: ErrorInfo): AgentResult {
  return {
    ...ok(provider, { prompt: 'x', intent: 'analyze' }, correlationId),
    status: error.code === 'POLICY_DENIED' ? 'denied' : 'failed',
    response: '',
    error,
  };
}

const rateLimited = (retryAfterMs: number): ErrorInfo => ({
  code: 'RATE_LIMITED',
  message: '429',
  retryable: true,
  retryAfterMs,
});

/** A call function answering from a per-provider script of errors (then success). */
function scripted(script: Record<string, (ErrorInfo | 'ok' | 'hang')[]>) {
  const calls: { provider: string; attempt: number; signal: AbortSignal }[] = [];
  const call: ProviderCall = async (provider, task, opts) => {
    calls.push({ provider, attempt: opts.attempt, signal: opts.signal });
    const next = script[provider]?.shift() ?? 'ok';
    if (next === 'ok') return ok(provider, task, opts.correlationId);
    if (next === 'hang') {
      return new Promise<AgentResult>((_, reject) =>
        opts.signal.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    }
    return failed(provider, opts.correlationId, next);
  };
  return { call, calls };
}

/** The router's metrics port as the server's Prometheus registry sees it: the last breaker state per provider. */
function breakerStates(): RouterMetrics & { breaker: Map<string, BreakerStateName> } {
  const breaker = new Map<string, BreakerStateName>();
  return {
    breaker,
    recordResult: () => undefined,
    recordRouterEvent: () => undefined,
    setBreakerState: (provider, state) => void breaker.set(provider, state),
  };
}

const events = (audit: ReturnType<typeof createMemoryAuditLog>, name: string) =>
  audit.events.filter((e) => e.event === name);

describe('router', () => {
  afterEach(() => jest.useRealTimers());

  it('answers a pinned provider it does not know, or one that cannot do the task, with INVALID_INPUT naming the ones that can', async () => {
    const router = createRouter({
      providers: [gemini, cursor],
      call: scripted({}).call,
      audit: createMemoryAuditLog(),
    });
    const unknown = await router.route({ prompt: 'x' }, { provider: 'copilot' });
    expect(unknown.error).toMatchObject({
      code: 'INVALID_INPUT',
      message:
        'no provider can take this task: copilot: unknown_provider (no provider "copilot" is registered; use one of gemini-cli, cursor)',
    });
    const incapable = await router.route({ prompt: 'fix it', intent: 'edit' }, { provider: 'gemini-cli' });
    expect(incapable.error).toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('provider "gemini-cli" cannot edit; providers that can: cursor'),
    });
  });

  it("hands the caller's call hooks (progress, provenance facts) to the provider call untouched", async () => {
    const seen: unknown[] = [];
    const hooks = { onPhase: () => undefined, onRunFacts: () => undefined };
    const router = createRouter({
      providers: [gemini],
      audit: createMemoryAuditLog(),
      call: async (provider, task, opts) => {
        seen.push(opts.hooks);
        return ok(provider, task, opts.correlationId);
      },
    });
    await router.route({ prompt: 'x' }, { provider: 'gemini-cli', hooks });
    expect(seen).toEqual([hooks]);
  });

  it('picks the first capable provider and audits why the others were skipped', async () => {
    const audit = createMemoryAuditLog();
    const { call, calls } = scripted({});
    const router = createRouter({ providers: [gemini, cursor], call, audit });
    const result = await router.route({ prompt: 'fix it', intent: 'edit' }, { correlationId: 'c1' });
    expect(result.status).toBe('succeeded');
    expect(result.provider).toBe('cursor');
    expect(calls.map((c) => c.provider)).toEqual(['cursor']);
    expect(events(audit, 'router.skipped')).toEqual([
      expect.objectContaining({ provider: 'gemini-cli', reason: 'not_capable', correlationId: 'c1' }),
    ]);
    expect(events(audit, 'router.chosen')).toEqual([expect.objectContaining({ provider: 'cursor', intent: 'edit' })]);
  });

  it('waits the advised retryAfterMs and tries the same provider again when configured to wait', async () => {
    jest.useFakeTimers();
    const audit = createMemoryAuditLog();
    const { call, calls } = scripted({ 'gemini-cli': [rateLimited(1500)] });
    const router = createRouter({
      providers: [gemini, cursor],
      call,
      audit,
      config: { defaults: { onRateLimited: 'wait' } },
    });
    const pending = router.route({ prompt: 'explain', intent: 'analyze' });
    await jest.advanceTimersByTimeAsync(1499);
    expect(calls).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    const result = await pending;
    expect(calls.map((c) => c.provider)).toEqual(['gemini-cli', 'gemini-cli']);
    expect(result.provider).toBe('gemini-cli');
    expect(result.status).toBe('succeeded');
    expect(events(audit, 'router.retry')).toEqual([
      expect.objectContaining({
        provider: 'gemini-cli',
        attempt: 1,
        waitMs: 1500,
        code: 'RATE_LIMITED',
        advised: true,
      }),
    ]);
    expect(events(audit, 'router.fallback')).toHaveLength(0);
  });

  it('falls back at once when the advised wait does not fit the deadline, and cools the provider down', async () => {
    jest.useFakeTimers();
    const audit = createMemoryAuditLog();
    const { call, calls } = scripted({ 'gemini-cli': [rateLimited(120_000)] });
    const router = createRouter({
      providers: [gemini, cursor],
      call,
      audit,
      config: { deadlineMs: 60_000, defaults: { maxRetryAfterMs: 300_000 } },
    });
    const result = await router.route({ prompt: 'explain' });
    expect(result.provider).toBe('cursor');
    expect(calls.map((c) => c.provider)).toEqual(['gemini-cli', 'cursor']);
    expect(events(audit, 'router.fallback')).toEqual([
      expect.objectContaining({ from: 'gemini-cli', to: 'cursor', code: 'RATE_LIMITED' }),
    ]);

    const second = await router.route({ prompt: 'again' });
    expect(second.provider).toBe('cursor');
    expect(events(audit, 'router.skipped')).toEqual([
      expect.objectContaining({ provider: 'gemini-cli', reason: 'cooling_down', retryAfterMs: 120_000 }),
    ]);
  });

  it('falls back without waiting when configured to fall back on RATE_LIMITED', async () => {
    jest.useFakeTimers();
    const audit = createMemoryAuditLog();
    const { call, calls } = scripted({ 'gemini-cli': [rateLimited(10)] });
    const router = createRouter({
      providers: [gemini, cursor],
      call,
      audit,
      config: { providers: { 'gemini-cli': { onRateLimited: 'fallback' } } },
    });
    const result = await router.route({ prompt: 'explain' });
    expect(result.provider).toBe('cursor');
    expect(calls.map((c) => c.provider)).toEqual(['gemini-cli', 'cursor']);
    expect(events(audit, 'router.retry')).toHaveLength(0);
  });

  it('retries transient failures with exponential backoff, then falls back along the order', async () => {
    jest.useFakeTimers();
    const audit = createMemoryAuditLog();
    const transient: ErrorInfo = { code: 'PROVIDER_FAILED', message: 'crashed', retryable: true };
    const { call, calls } = scripted({ 'gemini-cli': [transient, transient, transient] });
    const router = createRouter({
      providers: [gemini, cursor],
      call,
      audit,
      config: { defaults: { retry: { maxAttempts: 2, initialDelayMs: 100, exponent: 2 } } },
    });
    const pending = router.route({ prompt: 'explain' });
    await jest.advanceTimersByTimeAsync(1000);
    const result = await pending;
    expect(calls.map((c) => c.provider)).toEqual(['gemini-cli', 'gemini-cli', 'gemini-cli', 'cursor']);
    expect(events(audit, 'router.retry').map((e) => e.waitMs)).toEqual([100, 200]);
    expect(result.provider).toBe('cursor');
  });

  it('returns a denial as it is: no retry, no fallback to another provider', async () => {
    const audit = createMemoryAuditLog();
    const denied: ErrorInfo = { code: 'POLICY_DENIED', message: 'no', retryable: false };
    const { call, calls } = scripted({ 'gemini-cli': [denied] });
    const router = createRouter({ providers: [gemini, cursor], call, audit });
    const result = await router.route({ prompt: 'explain' });
    expect(result.status).toBe('denied');
    expect(calls).toHaveLength(1);
  });

  it('never retries or falls back on INVALID_INPUT, even when the failure claims to be retryable', async () => {
    const audit = createMemoryAuditLog();
    // What an unreadable workspace used to look like: a retryable failure that Cursor then "fixed".
    const unreadable: ErrorInfo = {
      code: 'INVALID_INPUT',
      message: 'workspace /tmp/x is not readable by the sandbox user',
      retryable: true,
    };
    const { call, calls } = scripted({ 'gemini-cli': [unreadable, unreadable, unreadable] });
    const router = createRouter({
      providers: [gemini, cursor],
      call,
      audit,
      config: { defaults: { retry: { maxAttempts: 3, initialDelayMs: 1 } } },
    });
    const result = await router.route({ prompt: 'explain', workspace: '/tmp/x' });
    expect(result.error?.code).toBe('INVALID_INPUT');
    expect(result.provider).toBe('gemini-cli');
    expect(calls.map((c) => c.provider)).toEqual(['gemini-cli']);
    expect(events(audit, 'router.retry')).toHaveLength(0);
    expect(events(audit, 'router.fallback')).toHaveLength(0);
  });

  it("does not count INVALID_INPUT against the provider's breaker", async () => {
    const audit = createMemoryAuditLog();
    const bad: ErrorInfo = { code: 'INVALID_INPUT', message: 'bad workspace', retryable: false };
    const { call } = scripted({ 'gemini-cli': [bad, bad, bad] });
    const router = createRouter({
      providers: [gemini],
      call,
      audit,
      config: { defaults: { breaker: { consecutiveFailures: 2 } } },
    });
    for (let i = 0; i < 3; i += 1) await router.route({ prompt: 'explain' });
    expect(router.health()[0]?.breaker).toBe('closed');
    expect((await router.route({ prompt: 'explain' })).status).toBe('succeeded');
  });

  it('opens the breaker after N consecutive failures, skips the provider, shows it in metrics and half-opens later', async () => {
    jest.useFakeTimers();
    const audit = createMemoryAuditLog();
    const metrics = breakerStates();
    const crash: ErrorInfo = { code: 'PROVIDER_FAILED', message: 'crashed', retryable: true };
    const { call, calls } = scripted({ 'gemini-cli': [crash, crash, crash] });
    const router = createRouter({
      providers: [gemini, cursor],
      call,
      audit,
      metrics,
      config: { defaults: { retry: { maxAttempts: 0 }, breaker: { consecutiveFailures: 3, halfOpenAfterMs: 5000 } } },
    });
    for (let i = 0; i < 3; i++) expect((await router.route({ prompt: `p${i}` })).provider).toBe('cursor');
    expect(events(audit, 'router.breaker_open')).toEqual([
      expect.objectContaining({ provider: 'gemini-cli', consecutiveFailures: 3 }),
    ]);
    expect(router.health().find((h) => h.id === 'gemini-cli')?.breaker).toBe('open');
    expect(metrics.breaker.get('gemini-cli')).toBe('open');

    calls.length = 0;
    await router.route({ prompt: 'skipped' });
    expect(calls.map((c) => c.provider)).toEqual(['cursor']);
    expect(events(audit, 'router.skipped').at(-1)).toEqual(
      expect.objectContaining({ provider: 'gemini-cli', reason: 'breaker_open' }),
    );

    await jest.advanceTimersByTimeAsync(5000);
    calls.length = 0;
    const trial = await router.route({ prompt: 'trial' });
    expect(trial.provider).toBe('gemini-cli');
    expect(router.health().find((h) => h.id === 'gemini-cli')?.breaker).toBe('closed');
    expect(metrics.breaker.get('gemini-cli')).toBe('closed');
  });

  it('skips a provider the gate disables and says so in a POLICY_DENIED when none is left', async () => {
    const audit = createMemoryAuditLog();
    const { call, calls } = scripted({});
    const router = createRouter({
      providers: [cursor],
      call,
      audit,
      gate: async (id) => ({ enabled: false, reason: `${id} switched off`, rule: 'flags.FF_PROVIDER_CURSOR' }),
    });
    const result = await router.route({ prompt: 'x', intent: 'edit' });
    expect(calls).toHaveLength(0);
    expect(result.status).toBe('denied');
    expect(result.error?.code).toBe('POLICY_DENIED');
    expect(result.policy.reasons).toEqual([
      { rule: 'flags.FF_PROVIDER_CURSOR', effect: 'deny', message: 'cursor switched off' },
    ]);
  });

  it('ends a hung call at the deadline with TIMEOUT and aborts its signal', async () => {
    jest.useFakeTimers();
    const audit = createMemoryAuditLog();
    const { call, calls } = scripted({ 'gemini-cli': ['hang'] });
    const router = createRouter({ providers: [gemini], call, audit, config: { deadlineMs: 2000 } });
    const pending = router.route({ prompt: 'x' });
    await jest.advanceTimersByTimeAsync(2000);
    const result = await pending;
    expect(result.error?.code).toBe('TIMEOUT');
    expect(calls[0].signal.aborted).toBe(true);
    expect(calls).toHaveLength(1);
  });

  it('limits concurrency per provider with a bulkhead and falls back when it is full', async () => {
    const audit = createMemoryAuditLog();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    const call: ProviderCall = async (provider, task, opts) => {
      seen.push(provider);
      if (provider === 'gemini-cli') await gate;
      return ok(provider, task, opts.correlationId);
    };
    const router = createRouter({
      providers: [gemini, cursor],
      call,
      audit,
      config: { providers: { 'gemini-cli': { maxConcurrent: 1, maxQueue: 0 } } },
    });
    const first = router.route({ prompt: 'a' });
    const second = await router.route({ prompt: 'b' });
    expect(second.provider).toBe('cursor');
    expect(events(audit, 'router.skipped')).toEqual([
      expect.objectContaining({ provider: 'gemini-cli', reason: 'bulkhead_full' }),
    ]);
    release();
    expect((await first).provider).toBe('gemini-cli');
    expect(seen).toEqual(['gemini-cli', 'cursor']);
  });

  it('answers RATE_LIMITED with the shortest cooldown when every provider is cooling down', async () => {
    jest.useFakeTimers();
    const audit = createMemoryAuditLog();
    const { call } = scripted({ 'gemini-cli': [rateLimited(5000)] });
    const router = createRouter({
      providers: [gemini],
      call,
      audit,
      config: { defaults: { onRateLimited: 'fallback', cooldownMs: 1000 } },
    });
    await router.route({ prompt: 'x' });
    const result = await router.route({ prompt: 'y' });
    expect(result.error).toEqual(expect.objectContaining({ code: 'RATE_LIMITED', retryAfterMs: 5000 }));
  });

  it('rejects an invalid task with INVALID_INPUT and runs nothing', async () => {
    const audit = createMemoryAuditLog();
    const { call, calls } = scripted({});
    const router = createRouter({ providers: [gemini], call, audit });
    const result = await router.route({ prompt: '' });
    expect(result.error?.code).toBe('INVALID_INPUT');
    expect(calls).toHaveLength(0);
  });
});
