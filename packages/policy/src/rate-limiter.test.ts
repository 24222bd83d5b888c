import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('lets a burst through, throttles the next request and says when to retry', () => {
    const limiter = new RateLimiter([{ domain: 'api.example.com', requestsPerMinute: 60, burst: 3 }], {
      clock: () => Date.now(),
    });
    expect([1, 2, 3].map(() => limiter.take('api.example.com').allow)).toEqual([true, true, true]);
    expect(limiter.take('api.example.com')).toEqual({ allow: false, retryAfterMs: 1000, rule: 'api.example.com' });
    jest.advanceTimersByTime(999);
    expect(limiter.take('api.example.com').allow).toBe(false);
    jest.advanceTimersByTime(1);
    expect(limiter.take('api.example.com').allow).toBe(true);
  });

  it('refills no further than the burst after a long pause', () => {
    const limiter = new RateLimiter([{ domain: 'a.test', requestsPerMinute: 6, burst: 2 }], {
      clock: () => Date.now(),
    });
    jest.advanceTimersByTime(3_600_000);
    expect([1, 2, 3].map(() => limiter.take('a.test').allow)).toEqual([true, true, false]);
  });

  it('gives every host under a wildcard one shared budget, and leaves other hosts alone', () => {
    const limiter = new RateLimiter([{ domain: '*.example.com', requestsPerMinute: 1, burst: 1 }], {
      clock: () => Date.now(),
    });
    expect(limiter.take('a.example.com').allow).toBe(true);
    expect(limiter.take('b.example.com').allow).toBe(false);
    expect(limiter.take('example.com').allow).toBe(true);
    expect(limiter.take('other.test').allow).toBe(true);
  });

  it('takes no token from one rule when another covering rule refuses', () => {
    const limiter = new RateLimiter(
      [
        { domain: '*.example.com', requestsPerMinute: 60, burst: 5 },
        { domain: 'slow.example.com', requestsPerMinute: 1, burst: 1 },
      ],
      { clock: () => Date.now() },
    );
    expect(limiter.take('slow.example.com').allow).toBe(true);
    expect(limiter.take('slow.example.com')).toMatchObject({
      allow: false,
      rule: 'slow.example.com',
      retryAfterMs: 60_000,
    });
    expect([1, 2, 3, 4].map(() => limiter.take('fast.example.com').allow)).toEqual([true, true, true, true]);
    expect(limiter.take('fast.example.com').allow).toBe(false);
  });
});
