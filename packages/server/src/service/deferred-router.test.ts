import { BastionError } from '@bastion/core';
import { notRunResult, type AgentResult } from '@bastion/providers';
import type { Router } from '@bastion/agent-runtime';
import { createDeferredRouter } from './deferred-router';

const real: Router = {
  providerIds: ['gemini-cli', 'cursor'],
  health: () => [],
  route: async (_task, o = {}) =>
    ({
      ...notRunResult({
        provider: o.provider ?? 'gemini-cli',
        correlationId: o.correlationId ?? 'c',
        error: { code: 'INTERNAL', message: '', retryable: false },
      }),
      status: 'succeeded',
      error: null,
    }) as AgentResult,
};

describe('a router whose runtime starts on demand', () => {
  it('answers SANDBOX_UNAVAILABLE naming the cause and the fix until the engine is back, then routes for real', async () => {
    let clock = 0;
    let engineUp = false;
    const start = jest.fn(async () => {
      if (!engineUp)
        throw new BastionError(
          'SANDBOX_UNAVAILABLE',
          'Docker engine unreachable at /var/run/docker.sock (ENOENT) token=sk-live-0123456789abcdefghijklmn',
        );
      return real;
    });
    const router = createDeferredRouter({
      providerIds: ['gemini-cli', 'cursor'],
      start,
      clean: (t) => t.replace(/sk-live-\w+/g, '[REDACTED]'),
      fix: 'or serve with --backend bwrap',
      now: () => clock,
    });

    await router.warmUp();
    expect(router.started).toBe(false);
    expect(router.problem).toBe(
      'the sandbox is not usable: Docker engine unreachable at /var/run/docker.sock (ENOENT) token=[REDACTED]; or serve with --backend bwrap',
    );
    expect(router.providerIds).toEqual(['gemini-cli', 'cursor']);

    const failed = await router.route({ prompt: 'p' }, { provider: 'cursor', correlationId: 'corr' });
    expect(failed).toMatchObject({
      status: 'failed',
      provider: 'cursor',
      correlationId: 'corr',
      execution: null,
      error: { code: 'SANDBOX_UNAVAILABLE', retryable: true, retryAfterMs: 5_000 },
    });
    expect(failed.error?.message).toContain('--backend bwrap');
    expect(start).toHaveBeenCalledTimes(1); // inside the retry window: the known answer, no new attempt

    engineUp = true;
    clock += 5_000;
    expect((await router.route({ prompt: 'p' })).status).toBe('succeeded');
    expect(router.started).toBe(true);
    expect(router.problem).toBeUndefined();
    await router.route({ prompt: 'p' });
    expect(start).toHaveBeenCalledTimes(2);
  });

  it('shares one start between calls that arrive together', async () => {
    let release!: () => void;
    const start = jest.fn(() => new Promise<Router>((resolve) => (release = () => resolve(real))));
    const router = createDeferredRouter({ providerIds: [], start, clean: (t) => t, fix: '' });
    const calls = [router.route({ prompt: 'a' }), router.route({ prompt: 'b' })];
    await new Promise((r) => setImmediate(r));
    release();
    expect((await Promise.all(calls)).map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(start).toHaveBeenCalledTimes(1);
  });
});
