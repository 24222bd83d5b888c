import { createMetrics } from './metrics';
import { DailyUsage } from '@bastion/gateway';
import type { AgentResult } from '@bastion/providers';

const result = (over: Partial<AgentResult>): AgentResult => ({
  status: 'succeeded',
  correlationId: 'c',
  provider: 'gemini-cli',
  mode: 'read-only',
  response: '',
  proposedChanges: [],
  appliedChanges: [],
  redactions: [],
  policy: { decision: 'allow', reasons: [] },
  execution: null,
  error: null,
  ...over,
});

describe('usage metrics', () => {
  it("counts tokens, requests, cost and budget stops per known provider, and today's usage for daily budgets", async () => {
    const m = createMetrics({ providers: ['gemini-cli'] });
    const daily = new DailyUsage(() => Date.parse('2026-03-01T12:00:00Z'));
    daily.account('acme', 'gemini-cli').add({ inputTokens: 70, outputTokens: 9, requests: 2, costUsd: 0.5 });
    daily.account('globex', 'gemini-cli').add({ inputTokens: 30, outputTokens: 1, requests: 1 });
    m.watchDailyUsage(daily);
    m.recordResult(result({ usage: { inputTokens: 100, outputTokens: 10, requests: 3, costUsd: 0.25 } }), 5);
    m.recordResult(
      result({
        provider: 'made-up',
        status: 'failed',
        usage: { inputTokens: 1, outputTokens: 2, requests: 1, costUsd: 0 },
        error: { code: 'BUDGET_EXCEEDED', message: 'm', retryable: false, details: { scope: 'daily' } },
      }),
      5,
    );
    const text = await m.render();
    expect(text).toContain('bastion_model_tokens_total{provider="gemini-cli",direction="input"} 100');
    expect(text).toContain('bastion_model_tokens_total{provider="other",direction="output"} 2');
    expect(text).toContain('bastion_model_requests_total{provider="gemini-cli"} 3');
    expect(text).toContain('bastion_model_cost_usd_total{provider="gemini-cli"} 0.25');
    expect(text).toContain('bastion_budget_exceeded_total{provider="other",scope="daily"} 1');
    expect(text).toContain('bastion_model_usage_today{provider="gemini-cli",kind="input_tokens"} 100');
    expect(text).toContain('bastion_model_usage_today{provider="gemini-cli",kind="requests"} 3');
    // It says whose view it is: this process's, which lags the database when there is one.
    expect(text).toMatch(/# HELP bastion_model_usage_today .*as this process last saw it.*lag/);
    // Tenants are summed, never a label: their names are not a bounded set.
    expect(text).not.toMatch(/acme|globex/);
  });
});
