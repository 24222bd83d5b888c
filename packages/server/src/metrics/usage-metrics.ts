import { Counter, Gauge, type Registry } from 'prom-client';
import type { AgentResult } from '@bastion/providers';
import type { DailyUsage } from '@bastion/gateway';
import type { LabelSets } from './label-sets';

const SCOPES = new Set(['run', 'daily']);

export interface UsageMetrics {
  record(result: Pick<AgentResult, 'provider' | 'usage' | 'error'>): void;
  /** Today's usage per provider (all tenants summed: tenant ids are not a bounded label set). */
  watchDaily(daily: DailyUsage): void;
}

/** Model usage counted by the gateway and budget stops; every label from a known set. */
export function registerUsageMetrics(registry: Registry, labels: LabelSets, prefix: string): UsageMetrics {
  const tokens = new Counter({
    name: `${prefix}model_tokens_total`,
    help: 'Model tokens the egress gateway counted in provider API responses, by provider and direction (input, output)',
    labelNames: ['provider', 'direction'] as const,
    registers: [registry],
  });
  const requests = new Counter({
    name: `${prefix}model_requests_total`,
    help: 'Model API requests relayed by the egress gateway',
    labelNames: ['provider'] as const,
    registers: [registry],
  });
  const cost = new Counter({
    name: `${prefix}model_cost_usd_total`,
    help: 'Estimated model cost in US dollars (price table, policy overrides)',
    labelNames: ['provider'] as const,
    registers: [registry],
  });
  const exceeded = new Counter({
    name: `${prefix}budget_exceeded_total`,
    help: 'Calls ended BUDGET_EXCEEDED, by provider and scope (run, daily)',
    labelNames: ['provider', 'scope'] as const,
    registers: [registry],
  });
  let daily: DailyUsage | undefined;
  new Gauge({
    name: `${prefix}model_usage_today`,
    // Each process's view, not a database query per scrape: cheap, and summing it over processes is
    // wrong either way (with a task database each view already includes the others' spend).
    help: "Model usage this UTC day per provider, summed over tenants, as this process last saw it for daily budgets: without --database its own calls' usage (a restart starts at zero); with a task database the totals the database last answered to this process's calls, which include other workers' spend up to then but lag it. The exact day's totals are in the database's bastion_daily_usage table; do not sum this over processes",
    labelNames: ['provider', 'kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      if (!daily) return;
      const sums = new Map<
        string,
        { input_tokens: number; output_tokens: number; requests: number; cost_usd: number }
      >();
      for (const { provider, usage } of daily.snapshot()) {
        const p = labels.provider(provider);
        const s = sums.get(p) ?? { input_tokens: 0, output_tokens: 0, requests: 0, cost_usd: 0 };
        s.input_tokens += usage.inputTokens;
        s.output_tokens += usage.outputTokens;
        s.requests += usage.requests;
        s.cost_usd += usage.costUsd;
        sums.set(p, s);
      }
      for (const [provider, s] of sums) for (const [kind, v] of Object.entries(s)) this.set({ provider, kind }, v);
    },
  });
  return {
    record(result) {
      const provider = labels.provider(result.provider);
      const u = result.usage;
      if (u) {
        if (u.inputTokens > 0) tokens.inc({ provider, direction: 'input' }, u.inputTokens);
        if (u.outputTokens > 0) tokens.inc({ provider, direction: 'output' }, u.outputTokens);
        if (u.requests > 0) requests.inc({ provider }, u.requests);
        if (u.costUsd > 0) cost.inc({ provider }, u.costUsd);
      }
      if (result.error?.code === 'BUDGET_EXCEEDED') {
        const scope = String((result.error.details as { scope?: unknown } | undefined)?.scope ?? '');
        exceeded.inc({ provider, scope: SCOPES.has(scope) ? scope : 'other' });
      }
    },
    watchDaily(d) {
      daily = d;
    },
  };
}
