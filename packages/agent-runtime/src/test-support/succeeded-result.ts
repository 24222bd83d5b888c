import type { AgentResult } from '@bastion/providers';

/** A valid succeeded AgentResult from the in-memory backend, for tests of the router and service; `overrides` sets what a test checks. */
export function succeededResult(
  provider: string,
  correlationId: string,
  overrides: Partial<AgentResult> = {},
): AgentResult {
  return {
    status: 'succeeded',
    correlationId,
    provider,
    mode: 'read-only',
    response: 'done',
    proposedChanges: [],
    appliedChanges: [],
    redactions: [],
    policy: { decision: 'allow', reasons: [] },
    execution: { backend: 'memory', exitCode: 0, oomKilled: false, timedOut: false, durationMs: 1, startupMs: 0 },
    error: null,
    ...overrides,
  };
}
