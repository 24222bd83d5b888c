import { ZERO_USAGE, type Usage } from '@bastion/policy';
import type { Clock } from '@bastion/core';

/** Tenants times providers remembered at once; the oldest day's entries go first. */
const MAX_ACCOUNTS = 4096;

export interface DailyAccount {
  readonly tenant: string;
  readonly provider: string;
  /** What this tenant used of this provider today (UTC), across every call of this runtime. */
  used(): Usage;
  add(delta: { inputTokens?: number; outputTokens?: number; requests?: number; costUsd?: number }): void;
}

/**
 * Model usage per tenant and provider per UTC day, held in memory by the runtime: every call's
 * gateway draws on the same account, so a daily budget holds across calls. It does not survive a
 * restart (there is no durable store yet); a restarted runtime starts the day at zero.
 */
export class DailyUsage {
  private readonly days = new Map<string, { day: string; usage: Usage }>();

  constructor(private readonly clock: Clock = Date.now) {}

  account(tenant: string, provider: string): DailyAccount {
    const key = `${tenant}\u0000${provider}`;
    const current = () => {
      const day = new Date(this.clock()).toISOString().slice(0, 10);
      let entry = this.days.get(key);
      if (entry?.day !== day) {
        if (entry === undefined && this.days.size >= MAX_ACCOUNTS)
          this.days.delete(this.days.keys().next().value as string);
        entry = { day, usage: { ...ZERO_USAGE } };
        this.days.set(key, entry);
      }
      return entry;
    };
    return {
      tenant,
      provider,
      used: () => ({ ...current().usage }),
      add: (d) => {
        const u = current().usage;
        u.inputTokens += d.inputTokens ?? 0;
        u.outputTokens += d.outputTokens ?? 0;
        u.requests += d.requests ?? 0;
        u.costUsd += d.costUsd ?? 0;
      },
    };
  }

  /** Today's usage of every account, for /metrics. */
  snapshot(): Array<{ tenant: string; provider: string; usage: Usage }> {
    const today = new Date(this.clock()).toISOString().slice(0, 10);
    const out: Array<{ tenant: string; provider: string; usage: Usage }> = [];
    for (const [key, entry] of this.days) {
      if (entry.day !== today) continue;
      const [tenant = '', provider = ''] = key.split('\u0000');
      out.push({ tenant, provider, usage: { ...entry.usage } });
    }
    return out;
  }
}
