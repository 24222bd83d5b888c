import type { ErrorInfo } from '@bastion/core';
import type { AgentResult } from '@bastion/providers';

/**
 * A provider's failed AgentResult, thrown inside the router so cockatiel's retry and breaker see
 * it. It never leaves the router: the caller gets the AgentResult back.
 */
export class ProviderFault extends Error {
  readonly result: AgentResult;
  readonly info: ErrorInfo;
  constructor(result: AgentResult, info: ErrorInfo) {
    super(`${result.provider}: ${info.code}`);
    this.name = 'ProviderFault';
    this.result = result;
    this.info = info;
  }
}

/**
 * What a failure says about the provider. `final`: the answer stands (policy denial, bad input, the
 * command failing): another provider would be denied or fail the same way, and retrying a denied
 * task elsewhere would be a way around the policy. `fallback`: this provider is unhealthy for now.
 */
export type FailureKind = 'final' | 'retry' | 'fallback';

const FINAL_CODES: ReadonlySet<ErrorInfo['code']> = new Set<ErrorInfo['code']>([
  'INVALID_INPUT',
  'POLICY_DENIED',
  'CONFLICT',
]);

export function classifyFailure(error: ErrorInfo): FailureKind {
  // Decided by the code, not by the `retryable` bit a provider or a parsed document may carry: a
  // bad workspace or a denied call is the task's fault, and running it elsewhere would either fail
  // the same way or, worse, succeed under a provider with weaker checks.
  if (FINAL_CODES.has(error.code)) return 'final';
  if (error.code === 'AUTH_FAILED') return 'fallback';
  if (error.retryable) return 'retry';
  return 'final';
}
