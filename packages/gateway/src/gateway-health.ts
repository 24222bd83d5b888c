/**
 * Where a gateway's unexpected failure happened: a request handler (API proxy, plain HTTP proxy),
 * a CONNECT tunnel's socket, or the listening server itself (e.g. EMFILE on accept). A closed set,
 * since it becomes a metric label.
 */
export const GATEWAY_FAILURE_SITES = ['request', 'tunnel', 'server'] as const;
export type GatewayFailureSite = (typeof GATEWAY_FAILURE_SITES)[number];

export interface GatewayHealthSnapshot {
  readonly internalErrors: Readonly<Record<GatewayFailureSite, number>>;
  readonly malformed: number;
}

/**
 * Running totals over every egress gateway one runtime starts (a gateway lives for one call, so
 * its own `stats` are gone when the call ends). An internal error is a Bastion bug that cost a
 * request a 502; a nonzero rate on /metrics is what tells an operator to look at the
 * `egress.internal-error` log lines.
 */
export class GatewayHealth {
  private readonly internal: Record<GatewayFailureSite, number> = { request: 0, tunnel: 0, server: 0 };
  private malformedRequests = 0;

  internalError(site: GatewayFailureSite): void {
    this.internal[site]++;
  }

  malformed(): void {
    this.malformedRequests++;
  }

  snapshot(): GatewayHealthSnapshot {
    return { internalErrors: { ...this.internal }, malformed: this.malformedRequests };
  }
}
