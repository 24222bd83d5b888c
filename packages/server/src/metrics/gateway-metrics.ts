import { Counter, type Registry } from 'prom-client';
import { GATEWAY_FAILURE_SITES, type GatewayHealth } from '@bastion/gateway';

export interface GatewayMetrics {
  /** Report the runtime's gateway totals (every per-call gateway it started) at each scrape. */
  watch(health: GatewayHealth): void;
}

/**
 * The egress gateways' own failures: internal errors (a handler threw and the request got a 502)
 * by site, and malformed requests refused before any socket call. Read from GatewayHealth at
 * scrape time; the `site` label only ever takes GATEWAY_FAILURE_SITES, all present from the start.
 */
export function registerGatewayMetrics(registry: Registry, prefix: string): GatewayMetrics {
  const sources: GatewayHealth[] = [];
  new Counter({
    name: `${prefix}gateway_internal_errors_total`,
    help: 'Unexpected exceptions inside the egress gateway, each answered 502 and logged as egress.internal-error, by site (request, tunnel, server)',
    labelNames: ['site'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const site of GATEWAY_FAILURE_SITES)
        this.inc(
          { site },
          sources.reduce((n, h) => n + h.snapshot().internalErrors[site], 0),
        );
    },
  });
  new Counter({
    name: `${prefix}gateway_malformed_requests_total`,
    help: 'Requests from a sandbox the egress gateway refused as malformed (bad port, host, method or head) before any socket call',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.reduce((n, h) => n + h.snapshot().malformed, 0));
    },
  });
  return {
    watch(health) {
      if (!sources.includes(health)) sources.push(health);
    },
  };
}
