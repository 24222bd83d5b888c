import { domainPatternMatches } from './domain-pattern';
import type { Clock } from '@bastion/core';

export interface RateLimiterRule {
  /** Host or `*.example.com`; every host a wildcard covers draws from the same bucket. */
  domain: string;
  requestsPerMinute: number;
  /** Bucket size; defaults to requestsPerMinute. */
  burst?: number;
}

export type RateLimitVerdict = { allow: true } | { allow: false; retryAfterMs: number; rule: string };

interface Bucket {
  rule: RateLimiterRule;
  capacity: number;
  perMs: number;
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets per domain rule. A request takes one token from every rule that covers its host, or
 * none at all when any of them is empty (then `retryAfterMs` says when the emptiest one refills).
 * Hosts no rule covers are not limited here. The clock is injected so tests can drive it.
 */
export class RateLimiter {
  private readonly buckets: Bucket[];
  private readonly now: Clock;

  constructor(rules: readonly RateLimiterRule[], options: { clock?: Clock } = {}) {
    this.now = options.clock ?? Date.now;
    const start = this.now();
    this.buckets = rules.map((rule) => {
      const capacity = Math.max(1, Math.floor(rule.burst ?? rule.requestsPerMinute));
      return { rule, capacity, perMs: rule.requestsPerMinute / 60_000, tokens: capacity, updatedAt: start };
    });
  }

  take(host: string): RateLimitVerdict {
    const now = this.now();
    const covering = this.buckets.filter((b) => domainPatternMatches(b.rule.domain, host));
    let worst: { wait: number; rule: string } | undefined;
    for (const b of covering) {
      const elapsed = Math.max(0, now - b.updatedAt);
      b.tokens = Math.min(b.capacity, b.tokens + elapsed * b.perMs);
      b.updatedAt = now;
      if (b.tokens < 1) {
        const wait = Math.ceil((1 - b.tokens) / b.perMs);
        if (worst === undefined || wait > worst.wait) worst = { wait, rule: b.rule.domain };
      }
    }
    if (worst !== undefined) return { allow: false, retryAfterMs: worst.wait, rule: worst.rule };
    for (const b of covering) b.tokens -= 1;
    return { allow: true };
  }
}
