import { z } from 'zod';

/** Resilience settings of one provider. Every field has a default; see docs/operations.md. */
export const ProviderRouteConfig = z
  .object({
    maxConcurrent: z.number().int().positive().default(8).describe('Bulkhead: calls running at once on this provider'),
    maxQueue: z
      .number()
      .int()
      .nonnegative()
      .default(32)
      .describe('Bulkhead: calls waiting for a slot; beyond that the router falls back'),
    retry: z
      .object({
        maxAttempts: z.number().int().nonnegative().default(2).describe('Retries after the first try (0: never retry)'),
        initialDelayMs: z.number().int().nonnegative().default(250),
        maxDelayMs: z.number().int().nonnegative().default(10_000),
        exponent: z.number().min(1).default(2),
      })
      .strict()
      .prefault({}),
    onRateLimited: z
      .enum(['wait', 'fallback'])
      .default('wait')
      .describe(
        'wait: honour retryAfterMs when it fits the deadline (else fall back); fallback: go to the next provider at once',
      ),
    maxRetryAfterMs: z
      .number()
      .int()
      .nonnegative()
      .default(60_000)
      .describe('An advised wait longer than this falls back instead'),
    cooldownMs: z
      .number()
      .int()
      .nonnegative()
      .default(30_000)
      .describe('After RATE_LIMITED the provider is skipped for max(this, retryAfterMs)'),
    breaker: z
      .object({
        consecutiveFailures: z
          .number()
          .int()
          .positive()
          .default(5)
          .describe('Consecutive failures that open the breaker'),
        halfOpenAfterMs: z
          .number()
          .int()
          .positive()
          .default(30_000)
          .describe('Time open before one trial call is let through'),
      })
      .strict()
      .prefault({}),
  })
  .strict();
export type ProviderRouteConfig = z.infer<typeof ProviderRouteConfig>;
export type ProviderRouteConfigInput = z.input<typeof ProviderRouteConfig>;

const PartialProviderRouteConfig = z
  .object({
    maxConcurrent: z.number().int().positive().optional(),
    maxQueue: z.number().int().nonnegative().optional(),
    retry: ProviderRouteConfig.shape.retry.unwrap().partial().optional(),
    onRateLimited: z.enum(['wait', 'fallback']).optional(),
    maxRetryAfterMs: z.number().int().nonnegative().optional(),
    cooldownMs: z.number().int().nonnegative().optional(),
    breaker: ProviderRouteConfig.shape.breaker.unwrap().partial().optional(),
  })
  .strict();

export const RouterConfig = z
  .object({
    order: z
      .array(z.string().min(1))
      .optional()
      .describe('Fallback order by provider id; default: the order providers were given'),
    deadlineMs: z
      .number()
      .int()
      .positive()
      .default(600_000)
      .describe('Deadline of one routed call, retries and fallbacks included'),
    defaults: PartialProviderRouteConfig.default({}),
    providers: z
      .record(z.string(), PartialProviderRouteConfig)
      .default({})
      .describe('Per-provider overrides of `defaults`'),
  })
  .strict();
export type RouterConfig = z.infer<typeof RouterConfig>;
export type RouterConfigInput = z.input<typeof RouterConfig>;

/** Defaults, then `defaults`, then the provider's own overrides (nested objects merged). */
export function resolveProviderConfig(config: RouterConfig, providerId: string): ProviderRouteConfig {
  const own = config.providers[providerId] ?? {};
  const base = config.defaults;
  return ProviderRouteConfig.parse({
    ...base,
    ...own,
    retry: { ...base.retry, ...own.retry },
    breaker: { ...base.breaker, ...own.breaker },
  });
}

/** Exponential delay before retry number `attempt` (1-based), without jitter so tests can assert it. */
export function backoffDelay(attempt: number, retry: ProviderRouteConfig['retry']): number {
  return Math.min(retry.maxDelayMs, Math.round(retry.initialDelayMs * retry.exponent ** Math.max(0, attempt - 1)));
}
