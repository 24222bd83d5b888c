import {
  CircuitState,
  ConsecutiveBreaker,
  bulkhead,
  circuitBreaker,
  handleType,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import type { Clock, ErrorInfo } from '@bastion/core';
import type { AuditLog } from '../audit/audit-log';
import { ProviderFault, classifyFailure } from './provider-fault';
import type { ProviderRouteConfig } from './router-config';
import type { BreakerStateName, RouterMetrics } from './router-metrics';
import type { ProviderHealth, RoutedProvider, Skip } from './router-types';

const BREAKER_NAMES: Record<CircuitState, BreakerStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

export interface ProviderStateDeps {
  readonly clock: Clock;
  readonly audit: AuditLog;
  readonly metrics?: RouterMetrics | undefined;
}

/**
 * The router's health record of one provider: its cockatiel breaker and bulkhead, when the breaker
 * opened, and until when a 429 keeps it cooling down. Breaker transitions are audited and reported
 * here, so the routing loop only asks "may I call it" and "note this rate limit".
 */
export class ProviderState {
  readonly provider: RoutedProvider;
  readonly config: ProviderRouteConfig;
  readonly breaker: CircuitBreakerPolicy;
  readonly bulkhead: BulkheadPolicy;
  breakerState: BreakerStateName = 'closed';
  openedAt = 0;
  cooldownUntil = 0;
  /** Correlation id of the call that last ran here, for breaker events (which belong to no call). */
  lastCorrelationId = '-';
  readonly #deps: ProviderStateDeps;

  constructor(provider: RoutedProvider, config: ProviderRouteConfig, deps: ProviderStateDeps) {
    this.provider = provider;
    this.config = config;
    this.#deps = deps;
    // A final failure (denied, invalid) is the task's fault, not the provider's: it never trips the breaker.
    this.breaker = circuitBreaker(
      handleType(ProviderFault, (fault) => classifyFailure(fault.info) !== 'final'),
      {
        halfOpenAfter: config.breaker.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(config.breaker.consecutiveFailures),
      },
    );
    this.bulkhead = bulkhead(config.maxConcurrent, config.maxQueue);
    deps.metrics?.setBreakerState(provider.id, 'closed');
    this.breaker.onStateChange((s) => {
      this.breakerState = BREAKER_NAMES[s];
      deps.metrics?.setBreakerState(provider.id, this.breakerState);
    });
    this.breaker.onBreak(() => {
      this.openedAt = deps.clock();
      this.#record('router.breaker_open', {
        consecutiveFailures: config.breaker.consecutiveFailures,
        halfOpenAfterMs: config.breaker.halfOpenAfterMs,
      });
    });
    this.breaker.onHalfOpen(() => this.#record('router.breaker_half_open'));
    this.breaker.onReset(() => this.#record('router.breaker_closed'));
  }

  get id(): string {
    return this.provider.id;
  }

  /** Why the provider's health rules it out right now (429 cooldown, open breaker), or null. */
  healthSkip(now: number): Skip | null {
    if (this.cooldownUntil > now) {
      return {
        provider: this.id,
        reason: 'cooling_down',
        detail: 'rate limited recently',
        retryAfterMs: this.cooldownUntil - now,
      };
    }
    if (this.breakerState === 'open' || this.breakerState === 'isolated') {
      const wait = this.openedAt + this.config.breaker.halfOpenAfterMs - now;
      // Once the half-open delay has passed, one trial call goes through cockatiel to close it again.
      if (this.breakerState === 'isolated' || wait > 0) {
        return {
          provider: this.id,
          reason: 'breaker_open',
          detail: 'too many consecutive failures',
          retryAfterMs: Math.max(0, wait),
        };
      }
    }
    return null;
  }

  /** After RATE_LIMITED the provider is skipped for max(cooldownMs, retryAfterMs). */
  noteRateLimit(info: ErrorInfo, correlationId: string): void {
    if (info.code !== 'RATE_LIMITED') return;
    const coolMs = Math.max(this.config.cooldownMs, info.retryAfterMs ?? 0);
    this.cooldownUntil = Math.max(this.cooldownUntil, this.#deps.clock() + coolMs);
    this.#deps.audit.record({
      event: 'router.cooldown',
      correlationId,
      stage: 'router',
      provider: this.id,
      cooldownMs: coolMs,
    });
  }

  health(now: number): ProviderHealth {
    return {
      id: this.id,
      breaker: this.breakerState,
      coolingDownForMs: Math.max(0, this.cooldownUntil - now),
      inFlight: this.config.maxConcurrent - this.bulkhead.executionSlots,
      queued: this.config.maxQueue - this.bulkhead.queueSlots,
      maxConcurrent: this.config.maxConcurrent,
      maxQueue: this.config.maxQueue,
    };
  }

  #record(event: string, extra: Record<string, unknown> = {}): void {
    this.#deps.audit.record({
      event,
      correlationId: this.lastCorrelationId,
      stage: 'router',
      provider: this.id,
      ...extra,
    });
  }
}
