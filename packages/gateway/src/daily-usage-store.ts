import { BUDGET_LIMIT_KEYS, ZERO_USAGE, type BudgetLimitKey, type BudgetLimits, type Usage } from '@bastion/policy';

/** One daily account: a UTC day (YYYY-MM-DD), a tenant and the provider its calls went to. */
export interface DailyUsageKey {
  readonly day: string;
  readonly tenant: string;
  readonly provider: string;
}

export interface UsageDelta {
  inputTokens?: number;
  outputTokens?: number;
  requests?: number;
  costUsd?: number;
}

/**
 * Where daily usage is kept when it must outlive a runtime or be shared by several (the docker and
 * bwrap runtimes of one `serve`, workers on many hosts). The gateway defines this port and the
 * server implements it on its task database, so the gateway never imports the server.
 */
export interface DailyUsageStore {
  /** The account's totals (zero when nothing was recorded yet). */
  read(key: DailyUsageKey): Promise<Usage>;
  /**
   * Adds the delta in one atomic step and returns the totals after it, which include what every
   * other writer added: that is how a worker learns of the others' spend.
   */
  add(key: DailyUsageKey, delta: UsageDelta): Promise<Usage>;
  /**
   * Admission: adds the delta only if the totals after it stay within `limits` (see
   * exceededLimit), deciding and adding in one atomic step, so concurrent callers on any number of
   * workers cannot all pass a check and overshoot together. Answers the totals either way (after
   * the delta when admitted). What a reservation held but did not use is given back with a
   * negative `add`.
   */
  reserve(key: DailyUsageKey, delta: UsageDelta, limits: BudgetLimits): Promise<DailyReservation>;
}

export interface DailyReservation {
  readonly admitted: boolean;
  readonly totals: Usage;
}

const fieldOf: Record<BudgetLimitKey, keyof Usage & keyof UsageDelta> = {
  maxInputTokens: 'inputTokens',
  maxOutputTokens: 'outputTokens',
  maxCostUsd: 'costUsd',
  maxModelRequests: 'requests',
};

/**
 * The first limit that `totals` plus `delta` would break, or undefined when it fits. Requests are
 * counted, so the request limit may be reached exactly; a token or cost limit ends the call when
 * the total gets to it (usage-meter.ts), so a reservation must leave that total below it. A store
 * implements the same rule in its own language (the SQL store: one conditional upsert).
 */
export function exceededLimit(totals: Usage, delta: UsageDelta, limits: BudgetLimits): BudgetLimitKey | undefined {
  for (const k of BUDGET_LIMIT_KEYS) {
    const max = limits[k];
    if (max === undefined) continue;
    const after = (totals[fieldOf[k]] as number) + (delta[fieldOf[k]] ?? 0);
    if (k === 'maxModelRequests' ? after > max : after >= max) return k;
  }
  return undefined;
}

/** The store's contract in memory: for tests and for callers that want the port without a database. */
export function createMemoryDailyUsageStore(): DailyUsageStore {
  const rows = new Map<string, Usage>();
  const id = (k: DailyUsageKey) => JSON.stringify([k.day, k.tenant, k.provider]);
  return {
    read: async (key) => ({ ...(rows.get(id(key)) ?? ZERO_USAGE) }),
    add: async (key, d) => {
      const u = rows.get(id(key)) ?? { ...ZERO_USAGE };
      rows.set(id(key), addUsage(u, d));
      return { ...rows.get(id(key))! };
    },
    reserve: async (key, d, limits) => {
      const u = rows.get(id(key)) ?? { ...ZERO_USAGE };
      if (exceededLimit(u, d, limits) !== undefined) return { admitted: false, totals: { ...u } };
      rows.set(id(key), addUsage(u, d));
      return { admitted: true, totals: { ...rows.get(id(key))! } };
    },
  };
}

/** `u` plus `d`, field by field (a new object). */
export function addUsage(u: Usage, d: UsageDelta): Usage {
  return {
    inputTokens: u.inputTokens + (d.inputTokens ?? 0),
    outputTokens: u.outputTokens + (d.outputTokens ?? 0),
    requests: u.requests + (d.requests ?? 0),
    costUsd: u.costUsd + (d.costUsd ?? 0),
  };
}
