import { BastionError, type Clock } from '@bastion/core';
import { ZERO_USAGE, type BudgetLimits, type Usage } from '@bastion/policy';
import {
  addUsage,
  exceededLimit,
  type DailyReservation,
  type DailyUsageKey,
  type DailyUsageStore,
  type UsageDelta,
} from './daily-usage-store';

/** Tenants times providers remembered at once; the oldest day's entries go first. */
const MAX_ACCOUNTS = 4096;

export interface DailyAccount {
  readonly tenant: string;
  readonly provider: string;
  /** What this tenant used of this provider today (UTC): this runtime's calls, and with a store every writer's as last seen. */
  used(): Usage;
  add(delta: UsageDelta): void;
  /**
   * Adds `delta` only if today's totals stay within `limits`, decided atomically where the totals
   * live (the store's one conditional write when there is one, so concurrent calls on every worker
   * cannot all pass together). A store that cannot answer throws SANDBOX_UNAVAILABLE (retryable):
   * a budget that cannot be checked admits nothing. A negative add() gives back what went unused.
   */
  reserve(delta: UsageDelta, limits: BudgetLimits): Promise<DailyReservation>;
  /** Resolves once this account's writes to the store are done (at once without a store); a call awaits it at its end. */
  settle(): Promise<void>;
}

export interface DailyUsageOptions {
  clock?: Clock;
  /**
   * The durable store, when the command has one. Asked at each call, because the command opens
   * its database after its runtimes started; `onError` hears of every read or write that failed.
   */
  store?: { current(): DailyUsageStore | undefined; onError(error: BastionError): void };
}

interface Entry {
  readonly day: string;
  /** The totals the store last answered (every writer's), or this runtime's own without a store. */
  confirmed: Usage;
  /** Sent to the store, not answered yet (one write in flight per account). */
  inFlight: Usage;
  /** Not sent yet: added while a write was in flight, or a write that failed (sent again with the next one). */
  queued: Usage;
  /** The running write loop, if any. */
  flushing: Promise<void> | undefined;
}

const maxUsage = (a: Usage, b: Usage): Usage => ({
  inputTokens: Math.max(a.inputTokens, b.inputTokens),
  outputTokens: Math.max(a.outputTokens, b.outputTokens),
  requests: Math.max(a.requests, b.requests),
  costUsd: Math.max(a.costUsd, b.costUsd),
});
const usedOf = (e: Entry): Usage => addUsage(addUsage(e.confirmed, e.inFlight), e.queued);
const hasNegative = (u: Usage) => u.inputTokens < 0 || u.outputTokens < 0 || u.requests < 0 || u.costUsd < 0;
const isZero = (u: Usage) => u.inputTokens === 0 && u.outputTokens === 0 && u.requests === 0 && u.costUsd === 0;

/**
 * Model usage per tenant and provider per UTC day: every call's gateway draws on the same account,
 * so a daily budget holds across calls. Without a store it lives in this process's memory and a
 * restart starts the day at zero. With a store (the task database) each account is read when a call
 * opens it and every increment is written through atomically; the store answers with everyone's
 * totals, so workers on several hosts and both runtimes of one `serve` spend one budget, and a
 * restart keeps the day. A model request is admitted by reserve(): one atomic conditional write in
 * the store, so concurrent requests on every worker admit exactly what the budget fits; tokens and
 * cost are known only from the answers and are added as they stream.
 */
export class DailyUsage {
  private readonly days = new Map<string, Entry>();
  private readonly clock: Clock;
  private readonly store: DailyUsageOptions['store'];

  constructor(options: Clock | DailyUsageOptions = {}) {
    const o = typeof options === 'function' ? { clock: options } : options;
    this.clock = o.clock ?? Date.now;
    this.store = o.store;
  }

  /** The account, counted from what this runtime has seen of today so far (see open()). */
  account(tenant: string, provider: string): DailyAccount {
    const key = `${tenant}\u0000${provider}`;
    const current = () => this.entry(key);
    const write = (e: Entry, d: UsageDelta) => {
      const store = this.store?.current();
      if (!store) {
        e.confirmed = addUsage(e.confirmed, d);
        return;
      }
      e.queued = addUsage(e.queued, d);
      void this.flush(e, { day: e.day, tenant, provider }, store);
    };
    return {
      tenant,
      provider,
      used: () => usedOf(current()),
      add: (d) => write(current(), d),
      reserve: async (d, limits) => {
        const e = current();
        const store = this.store?.current();
        if (!store) {
          // One process, one thread: checking and adding here are one step already.
          if (exceededLimit(usedOf(e), d, limits) !== undefined) return { admitted: false, totals: usedOf(e) };
          e.confirmed = addUsage(e.confirmed, d);
          return { admitted: true, totals: usedOf(e) };
        }
        const key = { day: e.day, tenant, provider };
        // This call's usage not yet written goes first, so the store decides on it too.
        await this.flush(e, key, store);
        let answer: DailyReservation;
        try {
          answer = await store.reserve(key, d, limits);
        } catch (err) {
          throw new BastionError(
            'SANDBOX_UNAVAILABLE',
            `the daily budget of tenant "${tenant}" for ${provider} could not be checked in the task database, so the model request was not sent: make the database reachable and retry`,
            { cause: err, retryable: true },
          );
        }
        e.confirmed = maxUsage(e.confirmed, answer.totals);
        return { admitted: answer.admitted, totals: usedOf(e) };
      },
      settle: async () => {
        const e = current();
        await e.flushing;
        // One more try for what a failed write left, so the day's total is right if the store is back.
        const store = this.store?.current();
        if (store) await this.flush(e, { day: e.day, tenant, provider }, store);
      },
    };
  }

  /**
   * The account with today's totals read from the store first (every worker's spend so far). A
   * store that cannot be read fails the call when `required` (a daily budget must be checked: the
   * error is retryable), else the call goes on counted from what this runtime saw.
   */
  async open(tenant: string, provider: string, options: { required?: boolean } = {}): Promise<DailyAccount> {
    const account = this.account(tenant, provider);
    const store = this.store?.current();
    if (!store) return account;
    const e = this.entry(`${tenant}\u0000${provider}`);
    try {
      e.confirmed = maxUsage(e.confirmed, await store.read({ day: e.day, tenant, provider }));
    } catch (err) {
      const error = new BastionError(
        'SANDBOX_UNAVAILABLE',
        `the daily usage of tenant "${tenant}" for ${provider} could not be read from the task database, so its daily budget cannot be checked: make the database reachable and retry`,
        { cause: err, retryable: true },
      );
      if (options.required) throw error;
      this.report(error, 'could not read the daily usage; counting from what this runtime saw');
    }
    return account;
  }

  /** Today's usage of every account this runtime has seen, for /metrics. */
  snapshot(): Array<{ tenant: string; provider: string; usage: Usage }> {
    const today = this.today();
    const out: Array<{ tenant: string; provider: string; usage: Usage }> = [];
    for (const [key, e] of this.days) {
      if (e.day !== today) continue;
      const [tenant = '', provider = ''] = key.split('\u0000');
      out.push({ tenant, provider, usage: usedOf(e) });
    }
    return out;
  }

  private today(): string {
    return new Date(this.clock()).toISOString().slice(0, 10);
  }

  private entry(key: string): Entry {
    const day = this.today();
    let e = this.days.get(key);
    if (e?.day !== day) {
      if (e === undefined && this.days.size >= MAX_ACCOUNTS) this.days.delete(this.days.keys().next().value as string);
      e = {
        day,
        confirmed: { ...ZERO_USAGE },
        inFlight: { ...ZERO_USAGE },
        queued: { ...ZERO_USAGE },
        flushing: undefined,
      };
      this.days.set(key, e);
    }
    return e;
  }

  /**
   * Sends what is queued, one write at a time per account: a streamed answer reports usage with
   * every event, and the increments made while a write is in flight go together in the next one,
   * so the database sees a few statements per call, not one per event. A failed write leaves its
   * delta queued (still counted here) and stops until the next write or settle().
   */
  private flush(e: Entry, key: DailyUsageKey, store: DailyUsageStore): Promise<void> {
    if (e.flushing) return e.flushing;
    if (isZero(e.queued)) return Promise.resolve();
    const run = async () => {
      try {
        while (!isZero(e.queued)) {
          const send = e.queued;
          e.queued = { ...ZERO_USAGE };
          e.inFlight = send;
          try {
            // Everyone's totals, ours included; they only grow within a day, except by a release
            // (a negative delta), whose answer is then the totals as they are.
            const answer = await store.add(key, send);
            e.confirmed = hasNegative(send) ? answer : maxUsage(e.confirmed, answer);
          } catch (err) {
            e.queued = addUsage(e.queued, send);
            this.report(
              err,
              `could not record ${key.tenant}/${key.provider} usage (kept here, sent again with the next write)`,
            );
            return;
          } finally {
            e.inFlight = { ...ZERO_USAGE };
          }
        }
      } finally {
        e.flushing = undefined;
      }
    };
    e.flushing = run();
    return e.flushing;
  }

  private report(err: unknown, what: string): void {
    const reason = err instanceof Error ? err.message : String(err);
    this.store?.onError(
      new BastionError('SANDBOX_UNAVAILABLE', `daily usage store: ${what}: ${reason}`, { cause: err, retryable: true }),
    );
  }
}
