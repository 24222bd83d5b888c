import type { ExecutionSpecInput, PolicyEngine } from '@bastion/policy';
import { ExecResult } from '@bastion/providers';
import { executionInfo, type CallOptions, type Pipeline, type SandboxRun } from './pipeline';
import { commandFailedError, resourceExhaustedError } from './outcome-error';
import { commandNotFoundError } from './command-not-found';

/**
 * `bastion exec`: a plain command through policy → executor → sanitizer. A command that does not
 * say what network it needs gets what the policy grants: with `network.mode: gateway` the egress
 * gateway is attached (HTTP(S)_PROXY, NO_PROXY, as the agents get), so npm, git or curl reach the
 * allowed domains through it and nothing else; otherwise no network at all.
 */
export async function execCommand(
  pipeline: Pipeline,
  spec: ExecutionSpecInput,
  options: CallOptions = {},
): Promise<ExecResult> {
  // An engine without a policy document (a custom evaluator) decides from the spec alone: no ask.
  const egress =
    spec.network === undefined && (pipeline.policy() as Partial<PolicyEngine>).policy?.network.mode === 'gateway';
  const run = await pipeline.runSpec(egress ? { ...spec, network: { mode: 'gateway', domains: [] } } : spec, options);
  return toExecResult(run, pipeline.executor.backend);
}

export function toExecResult(run: SandboxRun, backend: 'docker' | 'bwrap' | 'memory'): ExecResult {
  let error = run.error;
  if (!error && run.outcome && run.outcome.exitCode !== 0)
    error = commandFailedError(run.outcome.exitCode, run.outcome.signal);
  if (error && run.decision) error = resourceExhaustedError(error, run.stderr, run.decision.limits);
  if (error) error = commandNotFoundError(error, run.stderr, run.spec?.image);
  const status =
    error?.code === 'POLICY_DENIED' || error?.code === 'INVALID_INPUT' ? 'denied' : error ? 'failed' : 'succeeded';
  // The exit gate sees the finished result last (see exit-gate.ts).
  return run.gate.execResult({
    status,
    correlationId: run.correlationId,
    stdout: run.stdout,
    stderr: run.stderr,
    redactions: run.redactions,
    usage: run.usage,
    policy: {
      decision: run.decision?.allow ? 'allow' : 'deny',
      reasons: run.decision?.reasons ?? [],
    },
    execution: executionInfo(run, backend),
    error: error ? error.toInfo() : null,
  });
}
