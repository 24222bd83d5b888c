import type { ErrorCode, ErrorInfo } from '@bastion/core';
import type { DecisionReason } from '@bastion/policy';
import { notRunResult, type AgentResult, type AgentTask } from '@bastion/providers';
import type { Skip } from './router-types';

// The AgentResults the router itself builds, for calls that never reached a provider or that the
// router ended (deadline, cancellation, a call that broke its contract).

export function emptyResult(
  provider: string,
  correlationId: string,
  status: AgentResult['status'],
  error: ErrorInfo,
  reasons: DecisionReason[] = [],
): AgentResult {
  return notRunResult({ provider, correlationId, status, error, reasons });
}

export function failureResult(provider: string, task: AgentTask, correlationId: string, error: ErrorInfo): AgentResult {
  return {
    ...emptyResult(provider, correlationId, 'failed', error),
    mode: task.intent === 'edit' ? 'dry-run' : 'read-only',
  };
}

export function deadlineResult(provider: string, task: AgentTask, correlationId: string): AgentResult {
  return failureResult(provider, task, correlationId, {
    code: 'TIMEOUT',
    message: 'the routed call passed its deadline',
    retryable: true,
  });
}

export function cancelledResult(provider: string, task: AgentTask, correlationId: string): AgentResult {
  return failureResult(provider, task, correlationId, {
    code: 'TIMEOUT',
    message: 'the caller cancelled the call',
    retryable: true,
  });
}

/** Why nothing ran: health beats policy beats capability, so a retry hint is given when one helps. */
export function noProviderResult(
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
