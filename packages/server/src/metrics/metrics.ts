import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DailyUsage, GatewayHealth } from '@bastion/gateway';
import { registerUsageMetrics } from './usage-metrics';
import { registerGatewayMetrics } from './gateway-metrics';
import type { AgentResult } from '@bastion/providers';
import { createLabelSets, type LabelSets } from './label-sets';
import type { BreakerStateName, RouterMetrics } from '@bastion/agent-runtime';

/** Numeric values of the breaker-state gauge (documented in docs/operations.md). */
export const BREAKER_STATE_VALUE = { closed: 0, open: 1, half_open: 2, isolated: 3 } as const satisfies Record<
  BreakerStateName,
  number
>;
export type { BreakerStateName };

export interface MetricsOptions {
  /**
   * Also export the process metrics prom-client collects (heap, event loop lag, fds), under
   * prom-client's own names (`process_*`, `nodejs_*`) so stock Node.js dashboards work. Default false.
   */
  processMetrics?: boolean;
  /** Prefix of every Bastion metric name. Default `bastion_`. */
  prefix?: string;
  /**
   * Provider ids that may appear as label values. Providers a router registers (its breaker gauge
   * starts at closed) are added; any other name is counted as `other`.
   */
  providers?: readonly string[];
}

/**
 * prom-client's gauges that end in `_total`, which `promtool check metrics` rejects (only counters
 * may): the same numbers are in `nodejs_active_resources` and `nodejs_active_handles` by type.
 */
const LINT_FAILING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * The Prometheus registry of one runtime. Each instance owns its own registry (never the global
 * one), so tests and several services in one process do not share counters.
 */
export interface Metrics extends RouterMetrics {
  readonly registry: Registry;
  /** Records one finished agent call: outcome counter, duration, redactions by rule, policy denials. */
  recordResult(result: AgentResult, durationMs: number): void;
  recordRouterEvent(event: 'retry' | 'fallback' | 'skipped', provider: string, reason: string): void;
  setBreakerState(provider: string, state: BreakerStateName): void;
  setPoolSize(backend: string, size: number): void;
  addReapedContainers(count: number): void;
  recordHttp(route: string, method: string, status: number, durationMs: number): void;
  setInFlight(count: number): void;
  /** Report the runtime's daily model usage (daily budgets) as bastion_model_usage_today. */
  watchDailyUsage(daily: DailyUsage): void;
  /** Report the runtime's egress gateway failures (internal errors by site, malformed requests). */
  watchGatewayHealth(health: GatewayHealth): void;
  /** Prometheus text exposition. */
  render(): Promise<string>;
  readonly contentType: string;
  /** The label values this registry accepts. */
  readonly labels: LabelSets;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const prefix = options.prefix ?? 'bastion_';
  const registry = new Registry();
  if (options.processMetrics) {
    collectDefaultMetrics({ register: registry });
    for (const name of LINT_FAILING_DEFAULTS) registry.removeSingleMetric(name);
  }
  // Label values come from known sets only: a caller-supplied name (an unknown provider, a made-up
  // HTTP method) must not mint a new time series.
  const labels = createLabelSets(options.providers ?? []);
  const usage = registerUsageMetrics(registry, labels, prefix);
  const gateway = registerGatewayMetrics(registry, prefix);

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
    labels,
    contentType: registry.contentType,
    recordResult(result, durationMs) {
      const provider = labels.provider(result.provider);
      const outcome = labels.outcome(result.status);
      calls.inc({ provider, outcome, code: labels.code(result.error?.code) });
      duration.observe({ provider, outcome }, durationMs / 1000);
      if (result.execution)
        sandboxDuration.observe(
          { backend: labels.backend(result.execution.backend) },
          result.execution.durationMs / 1000,
        );
      for (const r of result.redactions) redactions.inc({ rule: labels.rule(r.ruleId) }, r.count);
      usage.record(result);
      if (result.policy.decision === 'deny') {
        for (const reason of result.policy.reasons) {
          if (reason.effect === 'deny') violations.inc({ rule: labels.rule(reason.rule) });
        }
      }
    },
    recordRouterEvent(event, provider, reason) {
      routerEvents.inc({ event, provider: labels.provider(provider), reason: labels.reason(reason) });
    },
    setBreakerState(provider, state) {
      labels.addProvider(provider);
      breaker.set({ provider: labels.provider(provider) }, BREAKER_STATE_VALUE[state]);
    },
    setPoolSize(backend, size) {
      pool.set({ backend: labels.backend(backend) }, size);
    },
    watchDailyUsage: (daily) => usage.watchDaily(daily),
    watchGatewayHealth: (health) => gateway.watch(health),
    addReapedContainers(count) {
      reaped.inc(count);
    },
    recordHttp(route, method, status, durationMs) {
      http.observe(
        { route: labels.route(route), method: labels.method(method), status: labels.status(status) },
        durationMs / 1000,
      );
    },
    setInFlight(count) {
      inFlight.set(count);
    },
    render: () => registry.metrics(),
  };
}
