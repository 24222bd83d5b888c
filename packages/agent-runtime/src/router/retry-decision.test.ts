import type { ErrorCode, ErrorInfo } from '@bastion/core';
import { Deadline } from './deadline';
import { decideRetry, type RetryQuestion } from './retry-decision';
import { ProviderRouteConfig } from './router-config';

const config = ProviderRouteConfig.parse({ retry: { initialDelayMs: 100, exponent: 2, maxDelayMs: 1_000 } });
const roomy = new Deadline(() => 0, 60_000);

function ask(error: Partial<ErrorInfo> & { code: ErrorCode }, over: Partial<RetryQuestion> = {}) {
  return decideRetry({
    error: { message: 'x', retryable: true, ...error },
    attempts: 1,
    config,
    deadline: roomy,
    cancelled: false,
    ...over,
  });
}

describe('decideRetry', () => {
  it.each<ErrorCode>(['POLICY_DENIED', 'INVALID_INPUT', 'CONFLICT'])(
    'never retries %s even when marked retryable: the task, not the provider, is at fault',
    (code) => {
      expect(ask({ code })).toEqual({ retry: false, reason: 'not_retryable' });
    },
  );

  it('does not retry AUTH_FAILED on the same provider (it falls back instead)', () => {
    expect(ask({ code: 'AUTH_FAILED' })).toEqual({ retry: false, reason: 'not_retryable' });
  });

  it('does not retry a failure its provider marked not retryable', () => {
    expect(ask({ code: 'PROVIDER_FAILED', retryable: false })).toEqual({ retry: false, reason: 'not_retryable' });
  });

  it('backs off exponentially by attempt, capped at maxDelayMs', () => {
    expect(ask({ code: 'PROVIDER_FAILED' }, { attempts: 1 })).toEqual({ retry: true, delayMs: 100 });
    expect(ask({ code: 'TIMEOUT' }, { attempts: 3 })).toEqual({ retry: true, delayMs: 400 });
    expect(ask({ code: 'SANDBOX_UNAVAILABLE' }, { attempts: 9 })).toEqual({ retry: true, delayMs: 1_000 });
  });

  it("waits the provider's advised retryAfterMs instead of the backoff", () => {
    expect(ask({ code: 'RATE_LIMITED', retryAfterMs: 2_500 })).toEqual({ retry: true, delayMs: 2_500 });
  });

  it('falls back when the advised wait is longer than maxRetryAfterMs', () => {
    expect(ask({ code: 'RATE_LIMITED', retryAfterMs: config.maxRetryAfterMs + 1 })).toEqual({
      retry: false,
      reason: 'advice_too_long',
    });
  });

  it('falls back at once on RATE_LIMITED when the provider is configured with onRateLimited: fallback', () => {
    const fallback = ProviderRouteConfig.parse({ onRateLimited: 'fallback' });
    expect(ask({ code: 'RATE_LIMITED', retryAfterMs: 10 }, { config: fallback })).toEqual({
      retry: false,
      reason: 'rate_limit_fallback',
    });
    expect(ask({ code: 'PROVIDER_FAILED' }, { config: fallback }).retry).toBe(true);
  });

  it('does not retry when the wait would not fit the remaining deadline', () => {
    const tight = new Deadline(() => 0, 300);
    expect(ask({ code: 'PROVIDER_FAILED' }, { attempts: 2, deadline: tight })).toEqual({ retry: true, delayMs: 200 });
    expect(ask({ code: 'PROVIDER_FAILED' }, { attempts: 3, deadline: tight })).toEqual({
      retry: false,
      reason: 'deadline',
    });
  });

  it('does not retry once the caller cancelled', () => {
    expect(ask({ code: 'PROVIDER_FAILED' }, { cancelled: true })).toEqual({ retry: false, reason: 'cancelled' });
  });
});
