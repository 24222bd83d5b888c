import { randomUUID } from 'node:crypto';
import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  IsolatedCircuitError,
  TaskCancelledError,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleType,
  handleWhen,
  retry,
  timeout,
  wrap,
  type BulkheadPolicy,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { BastionError, systemClock, type Clock, type ErrorCode, type ErrorInfo } from '@bastion/core';
import type { DecisionReason } from '@bastion/policy';
import { AgentTask, notRunResult, type AgentProvider, type AgentResult, type AgentTaskInput } from '@bastion/providers';
import type { AuditLog } from '../audit/audit-log';
import type { ProviderGate } from '../flags/provider-gate';

export type { ProviderGate };
import type { CallPhase } from '../pipeline/call-phase';
import type { RunFacts } from '../pipeline/run-facts';
import type { BreakerStateName, RouterMetrics } from './router-metrics';
import { ProviderFault, classifyFailure } from './provider-fault';
import {
  RouterConfig,
  backoffDelay,
  resolveProviderConfig,
  type ProviderRouteConfig,
  type RouterConfigInput,
} from './router-config';

/** What the router needs to know of a provider: its id and what it can do. */
export type RoutedProvider = Pick<AgentProvider, 'id' | 'capabilities'>;

export interface ProviderCallOptions {
  readonly correlationId: string;
  /** Aborted at the call's deadline or when the caller gives up: the sandbox must be killed. */
  readonly signal: AbortSignal;
  readonly attempt: number;
  readonly onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  /** The caller's hooks for the call itself (progress lines, provenance facts), passed through untouched. */
  readonly hooks?: CallHooks;
}

/** Per-call hooks a caller (the CLI's `run`) hands through the router to the pipeline. */
export interface CallHooks {
  /** Each phase of the call as it starts (policy, sandbox start, agent running, parsing). */
  readonly onPhase?: (phase: CallPhase) => void;
  /** The facts of the sandboxed run, for a provenance record. */
  readonly onRunFacts?: (facts: RunFacts) => void;
}

/** Runs one task on one provider (usually `runAgent` over the pipeline). Typed failures come back as results. */
export type ProviderCall = (providerId: string, task: AgentTask, options: ProviderCallOptions) => Promise<AgentResult>;

export interface RouterOptions {
  providers: readonly RoutedProvider[];
  call: ProviderCall;
  audit: AuditLog;
  config?: RouterConfigInput;
  /** Must agree with Date.now (cockatiel's breaker reads it); jest's modern fake timers fake both. */
  clock?: Clock;
  gate?: ProviderGate;
  metrics?: RouterMetrics;
}

export interface RouteOptions {
  /** Run on this provider only (no fallback to others). */
  provider?: string;
  /** Providers the caller's policy allows; others are skipped with reason `not_allowed`. */
  allowedProviders?: readonly string[];
  correlationId?: string;
  signal?: AbortSignal;
  /** Overrides the configured deadline of the whole routed call. */
  deadlineMs?: number;
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  hooks?: CallHooks;
  /** Told each time a provider is chosen (first choice and each fallback). */
  onRouted?: (info: { provider: string; attempt: number }) => void;
}

export type SkipReason =
  | 'unknown_provider'
  | 'not_allowed'
  | 'not_capable'
  | 'disabled'
  | 'cooling_down'
  | 'breaker_open'
  | 'bulkhead_full'
  | 'deadline';

export interface ProviderHealth {
  readonly id: string;
  readonly breaker: BreakerStateName;
  readonly coolingDownForMs: number;
  readonly inFlight: number;
  readonly queued: number;
  /** Bulkhead size: calls that may run at once, and calls that may wait for a slot. */
  readonly maxConcurrent: number;
  readonly maxQueue: number;
}

export interface Router {
  /** Routes one task. Never throws for a typed failure: the AgentResult says what happened. */
  route(task: AgentTaskInput, options?: RouteOptions): Promise<AgentResult>;
  health(): ProviderHealth[];
  readonly providerIds: readonly string[];
}

interface ProviderState {
  readonly provider: RoutedProvider;
  readonly config: ProviderRouteConfig;
  readonly breaker: CircuitBreakerPolicy;
  readonly bulkhead: BulkheadPolicy;
  breakerState: BreakerStateName;
  openedAt: number;
  cooldownUntil: number;
  /** Correlation id of the call that last ran here, for breaker events (which belong to no call). */
  lastCorrelationId: string;
}

interface Skip {
  provider: string;
  reason: SkipReason;
  detail?: string;
  rule?: string;
  retryAfterMs?: number;
}

type Attempt =
  { kind: 'final'; result: AgentResult } | { kind: 'fallback'; result: AgentResult } | { kind: 'skipped'; skip: Skip };

const BREAKER_NAMES: Record<CircuitState, BreakerStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * Picks a provider per task by capability, policy (gate, allowlist) and health (breaker, 429
 * cooldown), then runs it under cockatiel policies: retry with exponential backoff that honours
 * `retryAfterMs`, a consecutive-failure circuit breaker, a bulkhead and the call's deadline.
 * Failures that say the provider is unhealthy fall back along the configured order; failures that
 * say the task itself cannot run (denied, invalid, command failed) are returned as they are.
 */
export function createRouter(options: RouterOptions): Router {
  const config = RouterConfig.parse(options.config ?? {});
  const clock = options.clock ?? systemClock;
  const { audit, metrics } = options;
  const order = (config.order ?? options.providers.map((p) => p.id)).filter((id, i, all) => all.indexOf(id) === i);
  for (const p of options.providers) if (!order.includes(p.id)) order.push(p.id);

  const states = new Map<string, ProviderState>();
  for (const provider of options.providers) states.set(provider.id, createState(provider));

  function createState(provider: RoutedProvider): ProviderState {
    const cfg = resolveProviderConfig(config, provider.id);
    const breaker = circuitBreaker(
      handleType(ProviderFault, (fault) => classifyFailure(fault.info) !== 'final'),
      { halfOpenAfter: cfg.breaker.halfOpenAfterMs, breaker: new ConsecutiveBreaker(cfg.breaker.consecutiveFailures) },
    );
    const state: ProviderState = {
      provider,
      config: cfg,
      breaker,
      bulkhead: bulkhead(cfg.maxConcurrent, cfg.maxQueue),
      breakerState: 'closed',
      openedAt: 0,
      cooldownUntil: 0,
      lastCorrelationId: '-',
    };
    metrics?.setBreakerState(provider.id, 'closed');
    breaker.onStateChange((s) => {
      state.breakerState = BREAKER_NAMES[s];
      metrics?.setBreakerState(provider.id, state.breakerState);
    });
    breaker.onBreak(() => {
      state.openedAt = clock();
      audit.record({
        event: 'router.breaker_open',
        correlationId: state.lastCorrelationId,
        stage: 'router',
        provider: provider.id,
        consecutiveFailures: cfg.breaker.consecutiveFailures,
        halfOpenAfterMs: cfg.breaker.halfOpenAfterMs,
      });
    });
    breaker.onHalfOpen(() =>
      audit.record({
        event: 'router.breaker_half_open',
        correlationId: state.lastCorrelationId,
        stage: 'router',
        provider: provider.id,
      }),
    );
    breaker.onReset(() =>
      audit.record({
        event: 'router.breaker_closed',
        correlationId: state.lastCorrelationId,
        stage: 'router',
        provider: provider.id,
      }),
    );
    return state;
  }

  function skipped(correlationId: string, skip: Skip): void {
    audit.record({ event: 'router.skipped', correlationId, stage: 'router', ...skip });
    metrics?.recordRouterEvent('skipped', skip.provider, skip.reason);
  }

  async function eligibility(
    id: string,
    task: AgentTask,
    correlationId: string,
    opts: RouteOptions,
  ): Promise<Skip | null> {
    const state = states.get(id);
    if (!state)
      return {
        provider: id,
        reason: 'unknown_provider',
        detail: `no provider "${id.slice(0, 80)}" is registered; use one of ${order.join(', ')}`,
      };
    if (opts.allowedProviders && !opts.allowedProviders.includes(id)) {
      return {
        provider: id,
        reason: 'not_allowed',
        rule: 'router.allowed_providers',
        detail: `provider "${id}" is not in the caller's allowed list`,
      };
    }
    const caps = state.provider.capabilities;
    if (task.intent === 'edit' ? !caps.edit : !caps.analyze) {
      const capable = order.filter((other) =>
        task.intent === 'edit'
          ? states.get(other)?.provider.capabilities.edit
          : states.get(other)?.provider.capabilities.analyze,
      );
      return {
        provider: id,
        reason: 'not_capable',
        detail: `provider "${id}" cannot ${task.intent}${capable.length > 0 ? `; providers that can: ${capable.join(', ')}` : ''}`,
      };
    }
    if (options.gate) {
      const gate = await options.gate(id, { correlationId, task });
      if (!gate.enabled) {
        return {
          provider: id,
          reason: 'disabled',
          detail: gate.reason ?? `provider "${id}" is disabled`,
          ...(gate.rule ? { rule: gate.rule } : {}),
        };
      }
    }
    const now = clock();
    if (state.cooldownUntil > now) {
      return {
        provider: id,
        reason: 'cooling_down',
        detail: 'rate limited recently',
        retryAfterMs: state.cooldownUntil - now,
      };
    }
    if (state.breakerState === 'open' || state.breakerState === 'isolated') {
      const wait = state.openedAt + state.config.breaker.halfOpenAfterMs - now;
      // Once the half-open delay has passed, one trial call goes through cockatiel to close it again.
      if (state.breakerState === 'isolated' || wait > 0) {
        return {
          provider: id,
          reason: 'breaker_open',
          detail: 'too many consecutive failures',
          retryAfterMs: Math.max(0, wait),
        };
      }
    }
    return null;
  }

  async function attempt(
    state: ProviderState,
    task: AgentTask,
    correlationId: string,
    deadlineAt: number,
    opts: RouteOptions,
  ): Promise<Attempt> {
    const id = state.provider.id;
    const cfg = state.config;
    let attempts = 0;
    let plannedDelay = 0;
    let lastFault: ProviderFault | undefined;

    const shouldRetry = (err: Error): boolean => {
      if (!(err instanceof ProviderFault) || classifyFailure(err.info) !== 'retry') return false;
      if (opts.signal?.aborted) return false;
      if (err.info.code === 'RATE_LIMITED' && cfg.onRateLimited === 'fallback') return false;
      const advised = err.info.retryAfterMs;
      if (advised !== undefined && advised > cfg.maxRetryAfterMs) return false;
      const delay = advised ?? backoffDelay(attempts, cfg.retry);
      if (clock() + delay >= deadlineAt) return false;
      plannedDelay = delay;
      return true;
    };
    const retryPolicy = retry(handleWhen(shouldRetry), {
      maxAttempts: cfg.retry.maxAttempts,
      backoff: new DelegateBackoff(() => plannedDelay),
    });
    const listener = retryPolicy.onRetry(({ delay, attempt: n }) => {
      const code = lastFault?.info.code;
      audit.record({
        event: 'router.retry',
        correlationId,
        stage: 'router',
        provider: id,
        attempt: n,
        waitMs: delay,
        code,
        advised: lastFault?.info.retryAfterMs !== undefined,
      });
      metrics?.recordRouterEvent('retry', id, code ?? 'unknown');
    });

    try {
      const result = await wrap(retryPolicy, state.breaker, state.bulkhead).execute(async () => {
        attempts += 1;
        state.lastCorrelationId = correlationId;
        const remaining = deadlineAt - clock();
        if (remaining <= 0) throw fault(deadlineResult(id, task, correlationId));
        let res: AgentResult;
        try {
          res = await timeout(remaining, TimeoutStrategy.Aggressive).execute(
            (_ctx, signal) =>
              options.call(id, task, {
                correlationId,
                signal,
                attempt: attempts,
                ...(opts.onOutput ? { onOutput: opts.onOutput } : {}),
                ...(opts.hooks ? { hooks: opts.hooks } : {}),
              }),
            opts.signal,
          );
        } catch (err) {
          if (err instanceof TaskCancelledError) {
            throw fault(
              opts.signal?.aborted ? cancelledResult(id, task, correlationId) : deadlineResult(id, task, correlationId),
            );
          }
          // The call broke its contract (typed failures are results); count it as a provider failure.
          const error = BastionError.from(err, 'PROVIDER_FAILED');
          throw fault(failureResult(id, task, correlationId, error.toInfo()));
        }
        if (res.status !== 'succeeded' && res.error && classifyFailure(res.error) !== 'final') throw fault(res);
        return res;
      }, opts.signal);
      return { kind: 'final', result };
    } catch (err) {
      if (err instanceof ProviderFault) {
        noteRateLimit(state, err.info, correlationId);
        if (opts.signal?.aborted || clock() >= deadlineAt) return { kind: 'final', result: err.result };
        return { kind: 'fallback', result: err.result };
      }
      if (err instanceof BrokenCircuitError || err instanceof IsolatedCircuitError) {
        // The breaker opened between our retries: what the provider last said is the better answer.
        if (lastFault) return { kind: 'fallback', result: lastFault.result };
        return { kind: 'skipped', skip: { provider: id, reason: 'breaker_open', detail: 'the breaker is open' } };
      }
      if (err instanceof BulkheadRejectedError) {
        if (lastFault) return { kind: 'fallback', result: lastFault.result };
        return {
          kind: 'skipped',
          skip: {
            provider: id,
            reason: 'bulkhead_full',
            detail: `${cfg.maxConcurrent} running and ${cfg.maxQueue} queued`,
          },
        };
      }
      throw err;
    } finally {
      listener.dispose();
    }

    function fault(result: AgentResult): ProviderFault {
      lastFault = new ProviderFault(
        result,
        result.error ?? { code: 'PROVIDER_FAILED', message: 'failed', retryable: true },
      );
      return lastFault;
    }
  }

  function noteRateLimit(state: ProviderState, info: ErrorInfo, correlationId: string): void {
    if (info.code !== 'RATE_LIMITED') return;
    const coolMs = Math.max(state.config.cooldownMs, info.retryAfterMs ?? 0);
    state.cooldownUntil = Math.max(state.cooldownUntil, clock() + coolMs);
    audit.record({
      event: 'router.cooldown',
      correlationId,
      stage: 'router',
      provider: state.provider.id,
      cooldownMs: coolMs,
    });
  }

  async function route(input: AgentTaskInput, opts: RouteOptions = {}): Promise<AgentResult> {
    const correlationId = opts.correlationId ?? randomUUID();
    const started = clock();
    const parsed = AgentTask.safeParse(input);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
      const error = new BastionError(
        'INVALID_INPUT',
        `invalid task: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`,
        { details: { problems } },
      );
      return finish(emptyResult(opts.provider ?? 'none', correlationId, 'denied', error.toInfo()), started);
    }
    const task = parsed.data;
    const deadlineAt = started + (opts.deadlineMs ?? config.deadlineMs);
    const candidates = opts.provider ? [opts.provider] : order;
    const skips: Skip[] = [];
    let last: AgentResult | undefined;

    for (const id of candidates) {
      if (opts.signal?.aborted || clock() >= deadlineAt) break;
      const skip = await eligibility(id, task, correlationId, opts);
      if (skip) {
        skipped(correlationId, skip);
        skips.push(skip);
        continue;
      }
      if (last) {
        audit.record({
          event: 'router.fallback',
          correlationId,
          stage: 'router',
          from: last.provider,
          to: id,
          code: last.error?.code ?? null,
        });
        metrics?.recordRouterEvent('fallback', last.provider, last.error?.code ?? 'unknown');
      }
      audit.record({
        event: 'router.chosen',
        correlationId,
        stage: 'router',
        provider: id,
        intent: task.intent,
        fallback: last !== undefined,
        skipped: skips.map((s) => s.provider),
      });
      opts.onRouted?.({ provider: id, attempt: skips.length + (last ? 1 : 0) });
      const outcome = await attempt(states.get(id)!, task, correlationId, deadlineAt, opts);
      if (outcome.kind === 'final') return finish(outcome.result, started);
      if (outcome.kind === 'fallback') last = outcome.result;
      else {
        skipped(correlationId, outcome.skip);
        skips.push(outcome.skip);
      }
    }

    if (last) {
      audit.record({
        event: 'router.exhausted',
        correlationId,
        stage: 'router',
        provider: last.provider,
        code: last.error?.code ?? null,
        skipped: skips,
      });
      return finish(last, started);
    }
    const result = noProviderResult(opts.provider ?? 'none', correlationId, skips, clock() >= deadlineAt);
    audit.record({
      event: 'router.no_provider',
      correlationId,
      stage: 'router',
      code: result.error?.code ?? null,
      skipped: skips,
    });
    return finish(result, started);
  }

  function finish(result: AgentResult, started: number): AgentResult {
    metrics?.recordResult(result, clock() - started);
    return result;
  }

  return {
    route,
    providerIds: order,
    health() {
      const now = clock();
      return order.flatMap((id) => {
        const s = states.get(id);
        if (!s) return [];
        return [
          {
            id,
            breaker: s.breakerState,
            coolingDownForMs: Math.max(0, s.cooldownUntil - now),
            inFlight: s.config.maxConcurrent - s.bulkhead.executionSlots,
            queued: s.config.maxQueue - s.bulkhead.queueSlots,
            maxConcurrent: s.config.maxConcurrent,
            maxQueue: s.config.maxQueue,
          },
        ];
      });
    },
  };
}

function emptyResult(
  provider: string,
  correlationId: string,
  status: AgentResult['status'],
  error: ErrorInfo,
  reasons: DecisionReason[] = [],
): AgentResult {
  return notRunResult({ provider, correlationId, status, error, reasons });
}

function failureResult(provider: string, task: AgentTask, correlationId: string, error: ErrorInfo): AgentResult {
  return {
    ...emptyResult(provider, correlationId, 'failed', error),
    mode: task.intent === 'edit' ? 'dry-run' : 'read-only',
  };
}

function deadlineResult(provider: string, task: AgentTask, correlationId: string): AgentResult {
  return failureResult(provider, task, correlationId, {
    code: 'TIMEOUT',
    message: 'the routed call passed its deadline',
    retryable: true,
  });
}

function cancelledResult(provider: string, task: AgentTask, correlationId: string): AgentResult {
  return failureResult(provider, task, correlationId, {
    code: 'TIMEOUT',
    message: 'the caller cancelled the call',
    retryable: true,
  });
}

/** Why nothing ran: health beats policy beats capability, so a retry hint is given when one helps. */
function noProviderResult(
  provider: string,
  correlationId: string,
  skips: Skip[],
  deadlinePassed: boolean,
): AgentResult {
  const health = skips.filter(
    (s) => s.reason === 'cooling_down' || s.reason === 'breaker_open' || s.reason === 'bulkhead_full',
  );
  const policy = skips.filter((s) => s.reason === 'disabled' || s.reason === 'not_allowed');
  const summary =
    skips.map((s) => `${s.provider}: ${s.reason}${s.detail ? ` (${s.detail})` : ''}`).join('; ') ||
    'no provider is configured';
  const details = { skipped: skips.map((s) => ({ provider: s.provider, reason: s.reason })) };
  if (deadlinePassed) {
    return emptyResult(provider, correlationId, 'failed', {
      code: 'TIMEOUT',
      message: `the routed call passed its deadline: ${summary}`,
      retryable: true,
      details,
    });
  }
  if (health.length > 0) {
    const waits = health.map((s) => s.retryAfterMs).filter((n): n is number => n !== undefined);
    const code: ErrorCode = health.every((s) => s.reason === 'cooling_down') ? 'RATE_LIMITED' : 'PROVIDER_FAILED';
    return emptyResult(provider, correlationId, 'failed', {
      code,
      message: `no healthy provider: ${summary}`,
      retryable: true,
      ...(waits.length > 0 ? { retryAfterMs: Math.max(0, Math.round(Math.min(...waits))) } : {}),
      details,
    });
  }
  if (policy.length > 0) {
    const reasons: DecisionReason[] = policy.map((s) => ({
      rule: s.rule ?? `router.${s.reason}`,
      effect: 'deny',
      message: s.detail ?? s.reason,
    }));
    return emptyResult(
      provider,
      correlationId,
      'denied',
      { code: 'POLICY_DENIED', message: `no allowed provider: ${summary}`, retryable: false, details },
      reasons,
    );
  }
  return emptyResult(provider, correlationId, 'denied', {
    code: 'INVALID_INPUT',
    message: `no provider can take this task: ${summary}`,
    retryable: false,
    details,
  });
}
