import { rateLimitedError } from './outcome-error';

describe('the RATE_LIMITED error says whose limit ended the call', () => {
  it("names the policy's own rate limit and its rule, and how to raise it, when the gateway's budget is spent", () => {
    const err = rateLimitedError({ source: 'policy', rule: 'generativelanguage.googleapis.com' }, 42_500);
    expect(err).toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
      retryAfterMs: 42_500,
      details: { limit: 'policy', rule: 'generativelanguage.googleapis.com' },
    });
    expect(err.message).toMatch(/policy's rate limit for generativelanguage\.googleapis\.com/);
    expect(err.message).toMatch(/network\.rateLimits/);
    expect(err.message).toMatch(/Retry in 43s/);
    expect(err.message).not.toMatch(/answered 429/);
  });

  it("says the provider API answered 429 when the provider's own limit ended the call", () => {
    const err = rateLimitedError({ source: 'upstream' }, 1_000);
    expect(err).toMatchObject({
      code: 'RATE_LIMITED',
      retryable: true,
      retryAfterMs: 1_000,
      details: { limit: 'provider' },
    });
    expect(err.message).toMatch(/provider API answered 429/);
    expect(err.message).not.toMatch(/policy/);
  });

  it('leaves retryAfterMs out when nobody said how long to wait', () => {
    const err = rateLimitedError({ source: 'policy' });
    expect(err.retryAfterMs).toBeUndefined();
    expect(err.message).toMatch(/Retry later/);
  });
});
