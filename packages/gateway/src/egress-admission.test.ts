import { RateLimiter } from '@bastion/policy';
import { EgressAdmission } from './egress-admission';

describe('EgressAdmission', () => {
  const make = (now: { t: number }, admitted: string[] = []) =>
    new EgressAdmission({
      allow: ['*.example.com', 'example.org'],
      deny: ['secret.example.com'],
      limiter: new RateLimiter([{ domain: '*.example.com', requestsPerMinute: 60, burst: 2 }], {
        clock: () => now.t,
      }),
      onAdmitted: (host) => admitted.push(host),
    });

  it('admits an allowed host, takes a token and reports it', () => {
    const admitted: string[] = [];
    const a = make({ t: 0 }, admitted);
    expect(a.admit('api.example.com')).toEqual({ ok: true });
    expect(admitted).toEqual(['api.example.com']);
  });

  it('refuses a denied or unlisted host with 403 and takes no token for it', () => {
    const now = { t: 0 };
    const admitted: string[] = [];
    const a = make(now, admitted);
    expect(a.admit('secret.example.com')).toMatchObject({ ok: false, status: 403, v: { kind: 'domain' } });
    expect(a.admit('elsewhere.net')).toMatchObject({
      ok: false,
      status: 403,
      v: { kind: 'domain', host: 'elsewhere.net' },
    });
    expect(admitted).toEqual([]);
    // The bucket (burst 2) is still full: the refusals above took nothing.
    expect(a.admit('a.example.com').ok).toBe(true);
    expect(a.admit('b.example.com').ok).toBe(true);
  });

  it('answers 429 with the wait once the bucket is empty, and admits again after it refills', () => {
    const now = { t: 0 };
    const a = make(now);
    a.admit('a.example.com');
    a.admit('a.example.com');
    const over = a.admit('a.example.com');
    expect(over).toMatchObject({ ok: false, status: 429, v: { kind: 'rate-limit', host: 'a.example.com' } });
    const wait = over.ok ? 0 : (over.retryAfterMs ?? 0);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1_000);
    now.t += wait;
    expect(a.admit('a.example.com').ok).toBe(true);
  });

  it('admitDomain checks the lists only, so a prepaid tunnel request spends no second token', () => {
    const now = { t: 0 };
    const a = make(now);
    a.admit('a.example.com');
    a.admit('a.example.com');
    expect(a.admitDomain('a.example.com')).toEqual({ ok: true });
    expect(a.admitDomain('secret.example.com').ok).toBe(false);
    expect(a.admit('a.example.com').ok).toBe(false);
  });
});
