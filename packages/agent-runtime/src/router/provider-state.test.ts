import type { ErrorInfo } from '@bastion/core';
import { notRunResult } from '@bastion/providers';
import { createMemoryAuditLog } from '../audit/audit-log';
import { ProviderFault } from './provider-fault';
import { ProviderState } from './provider-state';
import { ProviderRouteConfig } from './router-config';
import type { BreakerStateName } from './router-metrics';

const provider = { id: 'gemini-cli', capabilities: { analyze: true, edit: false } };

function setup(over: Parameters<typeof ProviderRouteConfig.parse>[0] = {}) {
  const audit = createMemoryAuditLog();
  const breakerStates: BreakerStateName[] = [];
  const metrics = {
    recordResult: () => undefined,
    recordRouterEvent: () => undefined,
    setBreakerState: (_: string, s: BreakerStateName) => void breakerStates.push(s),
  };
  const config = ProviderRouteConfig.parse(over);
  const state = new ProviderState(provider, config, { clock: () => Date.now(), audit, metrics });
  return { state, audit, breakerStates };
}

function failWith(state: ProviderState, error: ErrorInfo): Promise<unknown> {
  const result = notRunResult({ provider: provider.id, correlationId: 'c1', status: 'failed', error, reasons: [] });
  return state.breaker.execute(() => Promise.reject(new ProviderFault(result, error))).catch((err: unknown) => err);
}

const crash: ErrorInfo = { code: 'PROVIDER_FAILED', message: 'crashed', retryable: true };

describe('ProviderState', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('cools down for max(cooldownMs, retryAfterMs) after a 429 and says how long is left', () => {
    const { state, audit } = setup({ cooldownMs: 5_000 });
    state.noteRateLimit({ code: 'RATE_LIMITED', message: '429', retryable: true, retryAfterMs: 8_000 }, 'c1');
    expect(state.healthSkip(Date.now())).toMatchObject({ reason: 'cooling_down', retryAfterMs: 8_000 });
    jest.advanceTimersByTime(7_999);
    expect(state.healthSkip(Date.now())).toMatchObject({ reason: 'cooling_down', retryAfterMs: 1 });
    jest.advanceTimersByTime(1);
    expect(state.healthSkip(Date.now())).toBeNull();
    expect(audit.events).toContainEqual(expect.objectContaining({ event: 'router.cooldown', cooldownMs: 8_000 }));
  });

  it('ignores failures other than RATE_LIMITED for the cooldown', () => {
    const { state } = setup();
    state.noteRateLimit(crash, 'c1');
    expect(state.healthSkip(Date.now())).toBeNull();
    expect(state.health(Date.now()).coolingDownForMs).toBe(0);
  });

  it('opens the breaker after the configured consecutive failures and lets a trial through after halfOpenAfterMs', async () => {
    const { state, audit, breakerStates } = setup({ breaker: { consecutiveFailures: 2, halfOpenAfterMs: 10_000 } });
    await failWith(state, crash);
    expect(state.healthSkip(Date.now())).toBeNull();
    await failWith(state, crash);
    expect(state.breakerState).toBe('open');
    expect(state.healthSkip(Date.now())).toMatchObject({ reason: 'breaker_open', retryAfterMs: 10_000 });
    jest.advanceTimersByTime(10_000);
    expect(state.healthSkip(Date.now())).toBeNull();
    expect(breakerStates).toEqual(['closed', 'open']);
    expect(audit.events).toContainEqual(
      expect.objectContaining({ event: 'router.breaker_open', provider: 'gemini-cli', consecutiveFailures: 2 }),
    );
  });

  it('does not count a policy denial against the provider', async () => {
    const { state } = setup({ breaker: { consecutiveFailures: 1 } });
    await failWith(state, { code: 'POLICY_DENIED', message: 'denied', retryable: false });
    expect(state.breakerState).toBe('closed');
    expect(state.healthSkip(Date.now())).toBeNull();
  });

  it('reports its bulkhead size and breaker in health()', () => {
    const { state } = setup({ maxConcurrent: 3, maxQueue: 4 });
    expect(state.health(Date.now())).toEqual({
      id: 'gemini-cli',
      breaker: 'closed',
      coolingDownForMs: 0,
      inFlight: 0,
      queued: 0,
      maxConcurrent: 3,
      maxQueue: 4,
    });
  });
});
