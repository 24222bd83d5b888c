import { matchDomain, type RateLimiter } from '@bastion/policy';
import type { Admission } from './connect-tunnel';

export interface EgressAdmissionOptions {
  /** Domain patterns the proxy may reach (see @bastion/policy matchDomain); deny wins. */
  allow: readonly string[];
  deny: readonly string[];
  limiter: RateLimiter;
  /** A host passed the domain lists and took a rate-limit token. */
  onAdmitted?(host: string): void;
}

/**
 * The gateway's decision for one host: the domain lists first (a denied host takes no token),
 * then one rate-limit token. It holds no per-connection state; a tunnel that already paid at
 * CONNECT asks `admitDomain` only.
 */
export class EgressAdmission {
  constructor(private readonly options: EgressAdmissionOptions) {}

  admitDomain(host: string): Admission {
    const verdict = matchDomain(host, this.options.allow, this.options.deny);
    return verdict.allow
      ? { ok: true }
      : { ok: false, status: 403, v: { kind: 'domain', host, reason: verdict.reason } };
  }

  admit(host: string): Admission {
    const domain = this.admitDomain(host);
    if (!domain.ok) return domain;
    const rate = this.options.limiter.take(host);
    if (rate.allow) {
      this.options.onAdmitted?.(host);
      return { ok: true };
    }
    const reason = `${host} is over its rate limit (${rate.rule}); retry in ${Math.ceil(rate.retryAfterMs / 1000)}s`;
    return { ok: false, status: 429, retryAfterMs: rate.retryAfterMs, v: { kind: 'rate-limit', host, reason } };
  }
}
