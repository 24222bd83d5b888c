import { BastionError } from '@bastion/core';
import { ExecutionSpec, type Decision, type ExecutionSpecInput, type PolicyEngine } from '@bastion/policy';
import type { AuditLog } from '../audit/audit-log';
import type { CallPhase } from './call-phase';

/** The spec, parsed at the boundary, or the INVALID_INPUT that lists every problem. */
export function parseSpec(
  input: ExecutionSpecInput,
  audit: AuditLog,
  correlationId: string,
): { spec: ExecutionSpec; error?: undefined } | { spec?: undefined; error: BastionError } {
  const parsed = ExecutionSpec.safeParse(input);
  if (parsed.success) return { spec: parsed.data };
  const problems = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  audit.record({ event: 'request.invalid', correlationId, stage: 'request', problems });
  const error = new BastionError(
    'INVALID_INPUT',
    `invalid execution spec: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`,
    { details: { problems } },
  );
  return { error };
}

/** The policy's decision on the spec, audited and reported as the `policy` phase. */
export function decide(
  policy: PolicyEngine,
  spec: ExecutionSpec,
  audit: AuditLog,
  correlationId: string,
  onPhase?: (phase: CallPhase) => void,
): Decision {
  const decision = policy.evaluate(spec, { correlationId });
  audit.record({
    event: 'policy.decision',
    correlationId,
    stage: 'policy',
    provider: spec.provider,
    allow: decision.allow,
    reasons: decision.reasons,
    limits: decision.limits,
  });
  onPhase?.({ phase: 'policy', allow: decision.allow });
  return decision;
}

/** POLICY_DENIED naming every deny rule that matched, not only the first. */
export function deniedError(decision: Decision): BastionError {
  const denied = decision.reasons.filter((r) => r.effect === 'deny');
  return new BastionError('POLICY_DENIED', `denied by policy: ${denied.map((r) => r.message).join('; ')}`, {
    details: { rules: denied.map((r) => r.rule) },
  });
}
