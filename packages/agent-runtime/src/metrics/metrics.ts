import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AgentResult } from '@bastion/providers';

/** Numeric values of the breaker-state gauge (documented in docs/operations.md). */
export const BREAKER_STATE_VALUE = { closed: 0, open: 1, half_open: 2, isolated: 3 } as const;
export type BreakerStateName = keyof typeof BREAKER_STATE_VALUE;

export interface MetricsOptions {
  /** Also export the process metrics prom-client collects (heap, event loop lag, fds). Default false. */
  processMetrics?: boolean;
  /** Prefix of every metric name. Default `bastion_`. */
  prefix?: string;
}

/**
 * The Prometheus registry of one runtime. Each instance owns its own registry (never the global
 * one), so tests and several services in one process do not share counters.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Records one finished agent call: outcome counter, duration, redactions by rule, policy denials. */
  recordResult(result: AgentResult, durationMs: number): void;
  recordRouterEvent(event: 'retry' | 'fallback' | 'skipped', provider: string, reason: string): void;
  setBreakerState(provider: string, state: BreakerStateName): void;
  setPoolSize(backend: string, size: number): void;
  addReapedContainers(count: number): void;
  recordHttp(route: string, method: string, status: number, durationMs: number): void;
  setInFlight(count: number): void;
  /** Prometheus text exposition. */
  render(): Promise<string>;
  readonly contentType: string;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const prefix = options.prefix ?? 'bastion_';
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix });

  const calls = new Counter({
    name: `${prefix}agent_calls_total`,
    help: 'Agent calls by provider, outcome (succeeded, failed, denied) and error code',
    labelNames: ['provider', 'outcome', 'code'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${prefix}agent_call_duration_seconds`,
    help: 'Wall-clock duration of routed agent calls, retries and fallbacks included',
    labelNames: ['provider', 'outcome'] as const,
    buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const sandboxDuration = new Histogram({
    name: `${prefix}sandbox_run_duration_seconds`,
    help: 'Duration of the sandboxed process of a call, by backend',
    labelNames: ['backend'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [registry],
  });
  const redactions = new Counter({
    name: `${prefix}redactions_total`,
    help: 'Values the output sanitizer redacted, by rule id',
    labelNames: ['rule'] as const,
    registers: [registry],
  });
  const violations = new Counter({
    name: `${prefix}policy_violations_total`,
    help: 'Policy rules that denied a call, by rule',
    labelNames: ['rule'] as const,
    registers: [registry],
  });
  const routerEvents = new Counter({
    name: `${prefix}router_events_total`,
    help: 'Router retries, fallbacks and skips by provider and reason',
    labelNames: ['event', 'provider', 'reason'] as const,
    registers: [registry],
  });
  const breaker = new Gauge({
    name: `${prefix}circuit_breaker_state`,
    help: 'Circuit breaker state per provider: 0 closed, 1 open, 2 half-open, 3 isolated',
    labelNames: ['provider'] as const,
    registers: [registry],
  });
  const pool = new Gauge({
    name: `${prefix}pool_size`,
    help: 'Warm sandboxes currently in the pool, by backend',
    labelNames: ['backend'] as const,
    registers: [registry],
  });
  const reaped = new Counter({
    name: `${prefix}reaped_containers_total`,
    help: 'Leftover sandboxes the reaper removed',
    registers: [registry],
  });
  const http = new Histogram({
    name: `${prefix}http_request_duration_seconds`,
    help: 'HTTP API requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 600],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: `${prefix}tasks_in_flight`,
    help: 'Agent tasks accepted and not yet finished',
    registers: [registry],
  });
  reaped.inc(0);

  return {
    registry,
    contentType: registry.contentType,
    recordResult(result, durationMs) {
      const code = result.error?.code ?? 'none';
      calls.inc({ provider: result.provider, outcome: result.status, code });
      duration.observe({ provider: result.provider, outcome: result.status }, durationMs / 1000);
      if (result.execution) sandboxDuration.observe({ backend: result.execution.backend }, result.execution.durationMs / 1000);
      for (const r of result.redactions) redactions.inc({ rule: r.ruleId }, r.count);
      if (result.policy.decision === 'deny') {
        for (const reason of result.policy.reasons) {
          if (reason.effect === 'deny') violations.inc({ rule: reason.rule });
        }
      }
    },
    recordRouterEvent(event, provider, reason) {
      routerEvents.inc({ event, provider, reason });
    },
    setBreakerState(provider, state) {
      breaker.set({ provider }, BREAKER_STATE_VALUE[state]);
    },
    setPoolSize(backend, size) {
      pool.set({ backend }, size);
    },
    addReapedContainers(count) {
      reaped.inc(count);
    },
    recordHttp(route, method, status, durationMs) {
      http.observe({ route, method, status: String(status) }, durationMs / 1000);
    },
    setInFlight(count) {
      inFlight.set(count);
    },
    render: () => registry.metrics(),
  };
}
