import { ERROR_CODES } from '@bastion/core';
import { AgentResult, ExecResult } from '@bastion/providers';
import type { Expectation } from './expectation';

export type CallResult = ExecResult | AgentResult;

/**
 * Whether a result is "typed": it satisfies its published schema, its status agrees with its
 * error, and the error (if any) carries a code from the closed set other than INTERNAL (a bug).
 */
export function untypedReason(result: unknown): string | undefined {
  const isAgent = typeof result === 'object' && result !== null && 'provider' in result;
  const parsed = (isAgent ? AgentResult : ExecResult).safeParse(result);
  if (!parsed.success)
    return `does not match the ${isAgent ? 'AgentResult' : 'ExecResult'} schema: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
  const r = parsed.data;
  if (r.status === 'succeeded' && r.error !== null) return `succeeded with an error (${r.error.code})`;
  if (r.status !== 'succeeded' && r.error === null) return `${r.status} without an error`;
  if (r.error && !(r.error.code in ERROR_CODES)) return `unknown error code ${r.error.code}`;
  if (r.error?.code === 'INTERNAL') return `INTERNAL: ${r.error.message}`;
  return undefined;
}

/** The known issue `result` shows instead of its expected outcome, if it matches one. */
export function knownIssueOf(result: CallResult, expect: Expectation): string | undefined {
  if (!expect.knownIssue || strictProblems(result, expect).length === 0) return undefined;
  return strictProblems(result, expect.knownIssue.outcome).length === 0 ? expect.knownIssue.id : undefined;
}

/** Every way `result` differs from `expect` (or from its stated known issue), as readable lines; empty when it matches. */
export function outcomeProblems(result: CallResult, expect: Expectation): string[] {
  const problems = strictProblems(result, expect);
  if (problems.length > 0 && knownIssueOf(result, expect)) {
    console.warn(`known issue ${expect.knownIssue!.id}: ${expect.knownIssue!.because} (call ${result.correlationId})`);
    return [];
  }
  return problems;
}

function strictProblems(result: CallResult, expect: Omit<Expectation, 'knownIssue'>): string[] {
  const problems: string[] = [];
  const untyped = untypedReason(result);
  if (untyped) problems.push(`untyped result: ${untyped}`);
  if (result.status !== expect.status) problems.push(`status ${result.status}, expected ${expect.status}`);
  const code = result.error?.code ?? null;
  if (code !== expect.code)
    problems.push(`error code ${code}, expected ${expect.code}${result.error ? ` (${result.error.message})` : ''}`);
  if (expect.retryable !== undefined && result.error && result.error.retryable !== expect.retryable) {
    problems.push(`retryable ${result.error.retryable}, expected ${expect.retryable}`);
  }
  if (expect.retryAfterMs !== undefined && result.error?.retryAfterMs !== expect.retryAfterMs) {
    problems.push(`retryAfterMs ${result.error?.retryAfterMs}, expected ${expect.retryAfterMs}`);
  }
  return problems;
}

/** The short label a soak table groups outcomes by: `succeeded` or the error code. */
export function outcomeLabel(result: CallResult): string {
  return result.error ? result.error.code : result.status;
}
