import {
  BrokenCircuitError,
  BulkheadRejectedError,
  DelegateBackoff,
  IsolatedCircuitError,
  TaskCancelledError,
  TimeoutStrategy,
  handleWhen,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import { BastionError } from '@bastion/core';
import type { AgentResult, AgentTask } from '@bastion/providers';
import type { AuditLog } from '../audit/audit-log';
import type { Deadline } from './deadline';
import { ProviderFault, classifyFailure } from './provider-fault';
import type { ProviderState } from './provider-state';
import { decideRetry } from './retry-decision';
import { cancelledResult, deadlineResult, failureResult } from './routed-results';
import type { RouterMetrics } from './router-metrics';
import type { ProviderCall, RouteOptions, Skip } from './router-types';

/** How one provider's turn ended: its answer stands, the next provider should try, or it never ran. */
export type Attempt =
  { kind: 'final'; result: AgentResult } | { kind: 'fallback'; result: AgentResult } | { kind: 'skipped'; skip: Skip };

export interface AttemptContext {
  readonly call: ProviderCall;
  readonly audit: AuditLog;
  readonly metrics?: RouterMetrics | undefined;
  readonly task: AgentTask;
  readonly correlationId: string;
  readonly deadline: Deadline;
  readonly route: RouteOptions;
}

/**
 * One provider's turn: retries (decided by `decideRetry`) around its breaker around its bulkhead,
 * each try bounded by what is left of the deadline. Failed AgentResults travel as ProviderFaults
 * inside so cockatiel counts them, and come back out as results.
 */
export async function attemptProvider(state: ProviderState, ctx: AttemptContext): Promise<Attempt> {
  const { task, correlationId, deadline, route: opts } = ctx;
  const id = state.id;
  const cfg = state.config;
  let attempts = 0;
  let plannedDelay = 0;
  let lastFault: ProviderFault | undefined;
  const fault = (result: AgentResult): ProviderFault => {
    lastFault = new ProviderFault(
      result,
      result.error ?? { code: 'PROVIDER_FAILED', message: 'failed', retryable: true },
    );
    return lastFault;
  };

  const retryPolicy = retry(
    handleWhen((err) => {
      if (!(err instanceof ProviderFault)) return false;
      const decision = decideRetry({
        error: err.info,
        attempts,
        config: cfg,
        deadline,
        cancelled: opts.signal?.aborted ?? false,
      });
      if (decision.retry) plannedDelay = decision.delayMs;
      return decision.retry;
    }),
    { maxAttempts: cfg.retry.maxAttempts, backoff: new DelegateBackoff(() => plannedDelay) },
  );
  const listener = retryPolicy.onRetry(({ delay, attempt: n }) => {
    const code = lastFault?.info.code;
    ctx.audit.record({
      event: 'router.retry',
      correlationId,
      stage: 'router',
      provider: id,
      attempt: n,
      waitMs: delay,
      code,
      advised: lastFault?.info.retryAfterMs !== undefined,
    });
    ctx.metrics?.recordRouterEvent('retry', id, code ?? 'unknown');
  });

  const once = async (): Promise<AgentResult> => {
    attempts += 1;
    state.lastCorrelationId = correlationId;
    const remaining = deadline.remaining();
    if (remaining <= 0) throw fault(deadlineResult(id, task, correlationId));
    let res: AgentResult;
    try {
      res = await timeout(remaining, TimeoutStrategy.Aggressive).execute(
        (_ctx, signal) =>
          ctx.call(id, task, {
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
  };

  try {
    const result = await wrap(retryPolicy, state.breaker, state.bulkhead).execute(once, opts.signal);
    return { kind: 'final', result };
  } catch (err) {
    if (err instanceof ProviderFault) {
      state.noteRateLimit(err.info, correlationId);
      if (opts.signal?.aborted || deadline.passed()) return { kind: 'final', result: err.result };
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
}
