import { RateLimiter, normalizeHost, type RateLimiterRule } from '@bastion/policy';
import { RobotsGate, type RobotsGateOptions } from './robots-txt';
import type { Clock } from '@bastion/core';

/** Distinct rule sets (policies) remembered at once; a runtime normally has one or two. */
const MAX_ENTRIES = 64;

/**
 * Budgets that outlive one call. Every call gets its own gateway, so a limiter created per gateway
 * would hand each call a fresh 5/min budget: the runtime's provisioner holds one of these and every
 * gateway it starts draws from the same buckets. A bucket is keyed by the rule set it enforces
 * (domain, rate, burst), so a reloaded policy with other limits starts its own budget instead of
 * inheriting one that no longer matches.
 */
export class SharedBudgets {
  private readonly limiters = new Map<string, RateLimiter>();
  private readonly robots = new Map<string, RobotsGate>();

  constructor(private readonly clock?: Clock) {}

  limiterFor(rules: readonly RateLimiterRule[]): RateLimiter {
    const key = JSON.stringify(
      rules
        .map((r) => [normalizeHost(r.domain), r.requestsPerMinute, r.burst ?? null])
        .sort((a, b) => String(a).localeCompare(String(b))),
    );
    return remember(this.limiters, key, () => new RateLimiter(rules, this.clock ? { clock: this.clock } : {}));
  }

  /** robots.txt files and Crawl-delay spacing are per site, not per call. */
  robotsFor(options: RobotsGateOptions): RobotsGate {
    const key = JSON.stringify([options.userAgent, options.crawlDelay, options.maxCrawlWaitMs ?? null]);
    return remember(this.robots, key, () => new RobotsGate(options));
  }
}

function remember<T>(map: Map<string, T>, key: string, make: () => T): T {
  const found = map.get(key);
  if (found !== undefined) return found;
  if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value as string);
  const made = make();
  map.set(key, made);
  return made;
}
