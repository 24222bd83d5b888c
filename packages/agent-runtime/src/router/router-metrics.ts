import type { AgentResult } from '@bastion/providers';

/** A provider's circuit-breaker state as the router reports it. */
export type BreakerStateName = 'closed' | 'open' | 'half_open' | 'isolated';

/**
 * What the router reports while it routes. The port lives here, beside the router, so the router
 * does not depend on the server's Prometheus registry (@bastion/server's `Metrics` implements it).
 */
export interface RouterMetrics {
  /** Records one finished agent call: outcome, duration, redactions by rule, policy denials. */
  recordResult(result: AgentResult, durationMs: number): void;
  recordRouterEvent(event: 'retry' | 'fallback' | 'skipped', provider: string, reason: string): void;
  setBreakerState(provider: string, state: BreakerStateName): void;
}
