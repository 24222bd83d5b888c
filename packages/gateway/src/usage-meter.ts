import {
  BUDGET_LIMIT_KEYS,
  type BudgetLimitKey,
  type BudgetLimits,
  type ModelPrice,
  type Usage,
} from '@bastion/policy';
import type { DailyAccount } from './daily-usage';
import { exceededLimit } from './daily-usage-store';
import { costUsd, priceOf } from './model-prices';

/** Which budget a call reached, with the totals it had then (never content, never a key). */
export interface BudgetBreach {
  readonly scope: 'run' | 'daily';
  readonly limit: BudgetLimitKey;
  readonly max: number;
  readonly totals: Usage;
  /** One line naming the limit and the totals, for the error message and the audit. */
  readonly message: string;
}

export interface UsageMeterOptions {
  run?: BudgetLimits;
  daily?: BudgetLimits;
  dailyAccount?: DailyAccount;
  prices?: Readonly<Record<string, ModelPrice>>;
  /** Called once, when the first limit is reached. */
  onExceeded?(breach: BudgetBreach): void;
}

/** The usage of one model response as reported so far (providers report cumulative counts). */
export interface ResponseUsage {
  /** Latest cumulative counts of this response; returns the breach when a limit is now reached. */
  report(inputTokens: number | undefined, outputTokens: number | undefined, model?: string): BudgetBreach | undefined;
}

const totalOf = (u: Usage, k: BudgetLimitKey): number =>
  k === 'maxInputTokens'
    ? u.inputTokens
    : k === 'maxOutputTokens'
      ? u.outputTokens
      : k === 'maxCostUsd'
        ? u.costUsd
        : u.requests;

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;

/**
 * Running totals of one call's model usage, counted by the gateway from every response it relays,
 * and the run's and the tenant's daily budgets checked against them. A token or cost limit is
 * reached when the total gets to it (the response that got there is the last one relayed); the
 * request limit refuses the request past it.
 */
export class UsageMeter {
  private readonly usage: Usage = { inputTokens: 0, outputTokens: 0, requests: 0, costUsd: 0 };
  private readonly unpriced = new Set<string>();
  private exceeded: BudgetBreach | undefined;

  constructor(private readonly o: UsageMeterOptions = {}) {}

  get breach(): BudgetBreach | undefined {
    return this.exceeded;
  }

  totals(): Usage {
    const u: Usage = { ...this.usage, costUsd: round(this.usage.costUsd) };
    if (this.unpriced.size > 0) u.unpricedModels = [...this.unpriced].sort();
    return u;
  }

  /** A request is about to go upstream: refused (the breach) when a budget is already spent or it would pass maxModelRequests. */
  admitRequest(): BudgetBreach | undefined {
    if (this.exceeded) return this.exceeded;
    const runMax = this.o.run?.maxModelRequests;
    if (runMax !== undefined && this.usage.requests + 1 > runMax) return this.trip('run', 'maxModelRequests', runMax);
    const dailyMax = this.o.daily?.maxModelRequests;
    if (dailyMax !== undefined && this.o.dailyAccount && this.o.dailyAccount.used().requests + 1 > dailyMax)
      return this.trip('daily', 'maxModelRequests', dailyMax);
    const spent = this.check();
    if (spent) return spent;
    this.usage.requests++;
    this.o.dailyAccount?.add({ requests: 1 });
    return undefined;
  }

  /**
   * admitRequest() with the daily budget decided where it is kept: the request is reserved in the
   * daily account (with a store, one atomic conditional write), so concurrent requests of every
   * worker admit exactly what the day's budget fits. Throws SANDBOX_UNAVAILABLE when the store
   * cannot answer: the request is then not sent.
   */
  async reserveRequest(): Promise<BudgetBreach | undefined> {
    const account = this.o.dailyAccount;
    const daily = this.o.daily;
    if (!account || !daily) return this.admitRequest();
    if (this.exceeded) return this.exceeded;
    const runMax = this.o.run?.maxModelRequests;
    if (runMax !== undefined && this.usage.requests + 1 > runMax) return this.trip('run', 'maxModelRequests', runMax);
    const spent = this.check();
    if (spent) return spent;
    // Counted for the run before the store answers, so this call's concurrent requests see it.
    this.usage.requests++;
    let answer;
    try {
      answer = await account.reserve({ requests: 1 }, daily);
    } catch (err) {
      this.usage.requests--;
      throw err;
    }
    if (answer.admitted) return undefined;
    this.usage.requests--;
    const limit =
      exceededLimit(answer.totals, { requests: 1 }, daily) ?? BUDGET_LIMIT_KEYS.find((k) => daily[k] !== undefined)!;
    return this.trip('daily', limit, daily[limit]!);
  }

  /** An admitted request never reached the model API (it could not be connected): its count is given back. */
  releaseRequest(): void {
    if (this.usage.requests === 0) return;
    this.usage.requests--;
    this.o.dailyAccount?.add({ requests: -1 });
  }

  /** One relayed response; `model` from the request path when the provider names it there. */
  response(model?: string): ResponseUsage {
    let seenIn = 0;
    let seenOut = 0;
    let name = model;
    return {
      report: (inputTokens, outputTokens, reportedModel) => {
        if (reportedModel) name = reportedModel;
        const dIn = Math.max(0, (inputTokens ?? seenIn) - seenIn);
        const dOut = Math.max(0, (outputTokens ?? seenOut) - seenOut);
        seenIn += dIn;
        seenOut += dOut;
        if (dIn === 0 && dOut === 0) return undefined;
        const price = name ? priceOf(name, this.o.prices) : undefined;
        if (!price) this.unpriced.add(name ?? '(unknown model)');
        const dCost = costUsd(price, dIn, dOut);
        this.usage.inputTokens += dIn;
        this.usage.outputTokens += dOut;
        this.usage.costUsd += dCost;
        this.o.dailyAccount?.add({ inputTokens: dIn, outputTokens: dOut, costUsd: dCost });
        return this.exceeded ?? this.check();
      },
    };
  }

  /** The first token or cost limit the totals have reached, run before daily. */
  private check(): BudgetBreach | undefined {
    for (const k of BUDGET_LIMIT_KEYS) {
      if (k === 'maxModelRequests') continue;
      const max = this.o.run?.[k];
      if (max !== undefined && totalOf(this.usage, k) >= max) return this.trip('run', k, max);
    }
    if (this.o.dailyAccount && this.o.daily) {
      const used = this.o.dailyAccount.used();
      for (const k of BUDGET_LIMIT_KEYS) {
        if (k === 'maxModelRequests') continue;
        const max = this.o.daily[k];
        if (max !== undefined && totalOf(used, k) >= max) return this.trip('daily', k, max);
      }
    }
    return undefined;
  }

  private trip(scope: 'run' | 'daily', limit: BudgetLimitKey, max: number): BudgetBreach {
    if (this.exceeded) return this.exceeded;
    const totals = this.totals();
    const t = `this run used ${totals.inputTokens} input and ${totals.outputTokens} output tokens in ${totals.requests} model requests (~$${totals.costUsd.toFixed(4)})`;
    const whose =
      scope === 'run'
        ? 'the run budget'
        : `the daily budget of tenant "${this.o.dailyAccount?.tenant}" for ${this.o.dailyAccount?.provider}`;
    const today =
      scope === 'daily' && this.o.dailyAccount
        ? (() => {
            const d = this.o.dailyAccount.used();
            return `; today: ${d.inputTokens} input, ${d.outputTokens} output tokens, ${d.requests} requests, ~$${round(d.costUsd).toFixed(4)}`;
          })()
        : '';
    const message = `${whose} ${limit}=${max} was reached: ${t}${today}. Raise budget.${scope}.${limit} in the policy (or the task's budget) to allow more`;
    this.exceeded = { scope, limit, max, totals, message };
    this.o.onExceeded?.(this.exceeded);
    return this.exceeded;
  }
}
