import { BastionError } from '@bastion/core';
import { createMemoryAuditLog } from '../audit/audit-log';
import { GatewaySignals, type GatewayViolation } from './gateway-signals';

function setup() {
  const audit = createMemoryAuditLog();
  let aborts = 0;
  const seen: { admitted: string[]; violations: GatewayViolation[] } = { admitted: [], violations: [] };
  const signals = new GatewaySignals(audit, 'c1', () => void aborts++, {
    onAdmitted: (host) => seen.admitted.push(host),
    onViolation: (v) => seen.violations.push(v),
  });
  return { signals, cb: signals.callbacks(), audit, seen, aborts: () => aborts };
}

const breach = {
  scope: 'run' as const,
  limit: 'outputTokens',
  max: 10,
  totals: { requests: 1, inputTokens: 5, outputTokens: 11, costUsd: 0 },
  message: 'the run spent its output-token budget; raise budget.run.outputTokens',
};
const killed = new BastionError('TIMEOUT', 'the sandbox was killed');

describe('GatewaySignals', () => {
  it("keeps the outcome's own error when the gateway said nothing", () => {
    const { signals } = setup();
    expect(signals.error(killed)).toBe(killed);
    expect(signals.error(null)).toBeNull();
  });

  it('turns an upstream 429 into RATE_LIMITED with the advised wait, ends the call and audits it', () => {
    const { signals, cb, audit, aborts } = setup();
    cb.onRateLimited(1_500);
    cb.onRateLimited(9_000);
    expect(aborts()).toBe(2);
    const error = signals.error(killed);
    expect(error?.code).toBe('RATE_LIMITED');
    expect(error?.retryAfterMs).toBe(1_500);
    expect(audit.events).toContainEqual(
      expect.objectContaining({ event: 'gateway.upstream_rate_limited', source: 'upstream', retryAfterMs: 1_500 }),
    );
  });

  it('ends the call on a model the policy does not allow and reports POLICY_DENIED over a rate limit', () => {
    const { signals, cb, seen, aborts } = setup();
    cb.onViolation({ kind: 'connect', host: 'evil.example', reason: 'not in allowlist' });
    expect(aborts()).toBe(0);
    cb.onRateLimited(100);
    cb.onViolation({ kind: 'model', reason: 'model "big" is not allowed' });
    expect(signals.error(killed)).toMatchObject({ code: 'POLICY_DENIED' });
    expect(signals.error(killed)?.message).toContain('model "big" is not allowed');
    expect(seen.violations.map((v) => v.kind)).toEqual(['connect', 'model']);
  });

  it('reports an unreachable upstream as a retryable PROVIDER_FAILED only when nothing stronger was said', () => {
    const alone = setup();
    alone.cb.onUnreachable('ECONNREFUSED');
    expect(alone.signals.error(killed)).toMatchObject({ code: 'PROVIDER_FAILED', retryable: true });
    expect(alone.signals.error(killed)?.message).toContain('ECONNREFUSED');

    const withLimit = setup();
    withLimit.cb.onUnreachable('ECONNREFUSED');
    withLimit.cb.onRateLimited(undefined, { source: 'policy', rule: 'network.rateLimits[0]' });
    expect(withLimit.signals.error(killed)?.code).toBe('RATE_LIMITED');
  });

  it('lets a spent budget win over every other signal, with its totals in the details', () => {
    const { signals, cb } = setup();
    cb.onRateLimited(100);
    cb.onViolation({ kind: 'model', reason: 'no' });
    cb.onBudgetExceeded(breach);
    const error = signals.error(killed);
    expect(error?.code).toBe('BUDGET_EXCEEDED');
    expect(error?.message).toBe(breach.message);
    expect(error?.details).toEqual({ scope: 'run', limit: 'outputTokens', max: 10, totals: breach.totals });
  });

  it('passes admitted hosts to the observer without ending the call', () => {
    const { cb, seen, aborts } = setup();
    cb.onEgressAdmitted('registry.npmjs.org');
    expect(seen.admitted).toEqual(['registry.npmjs.org']);
    expect(aborts()).toBe(0);
  });
});
