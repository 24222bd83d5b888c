import type { ErrorInfo } from '@bastion/core';
import { classifyFailure } from './provider-fault';
import { backoffDelay, type ProviderRouteConfig } from './router-config';
import type { Deadline } from './deadline';

export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number }
  | {
      readonly retry: false;
      readonly reason: 'not_retryable' | 'cancelled' | 'rate_limit_fallback' | 'advice_too_long' | 'deadline';
    };

export interface RetryQuestion {
  readonly error: ErrorInfo;
  /** Tries made so far on this provider (1 after the first). */
  readonly attempts: number;
  readonly config: Pick<ProviderRouteConfig, 'onRateLimited' | 'maxRetryAfterMs' | 'retry'>;
  readonly deadline: Pick<Deadline, 'fits'>;
  readonly cancelled: boolean;
}

/**
 * Whether one more try on the same provider can help, and after how long. Pure over its inputs:
 * the provider's advised wait (`retryAfterMs`) wins over exponential backoff, and a wait that
 * would not fit the deadline or is longer than `maxRetryAfterMs` hands over to the next provider.
 */
export function decideRetry(q: RetryQuestion): RetryDecision {
  if (classifyFailure(q.error) !== 'retry') return { retry: false, reason: 'not_retryable' };
  if (q.cancelled) return { retry: false, reason: 'cancelled' };
  if (q.error.code === 'RATE_LIMITED' && q.config.onRateLimited === 'fallback')
    return { retry: false, reason: 'rate_limit_fallback' };
  const advised = q.error.retryAfterMs;
  if (advised !== undefined && advised > q.config.maxRetryAfterMs) return { retry: false, reason: 'advice_too_long' };
  const delayMs = advised ?? backoffDelay(q.attempts, q.config.retry);
  if (!q.deadline.fits(delayMs)) return { retry: false, reason: 'deadline' };
  return { retry: true, delayMs };
}
