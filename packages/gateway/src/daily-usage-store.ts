import { ZERO_USAGE, type Usage } from '@bastion/policy';

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
