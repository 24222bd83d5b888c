import type { ExecutionSpecInput } from '@bastion/policy';
import { ExecResult } from '@bastion/providers';
import { executionInfo, type CallOptions, type Pipeline, type SandboxRun } from './pipeline';
import { commandFailedError, resourceExhaustedError } from './outcome-error';

/** `bastion exec`: a plain command through policy → executor → sanitizer. */
export async function execCommand(pipeline: Pipeline, spec: ExecutionSpecInput, options: CallOptions = {}): Promise<ExecResult> {
  const run = await pipeline.runSpec(spec, options);
  return toExecResult(run, pipeline.executor.backend);
}

export function toExecResult(run: SandboxRun, backend: 'docker' | 'bwrap' | 'memory'): ExecResult {
  let error = run.error;
  if (!error && run.outcome && run.outcome.exitCode !== 0) error = commandFailedError(run.outcome.exitCode, run.outcome.signal);
  if (error && run.decision) error = resourceExhaustedError(error, run.stderr, run.decision.limits);
  const status = error?.code === 'POLICY_DENIED' || error?.code === 'INVALID_INPUT' ? 'denied' : error ? 'failed' : 'succeeded';
  // The exit gate sees the finished result last (see exit-gate.ts).
  return run.gate.execResult({
    status,
    correlationId: run.correlationId,
    stdout: run.stdout,
    stderr: run.stderr,
    redactions: run.redactions,
    policy: {
      decision: run.decision?.allow ? 'allow' : 'deny',
      reasons: run.decision?.reasons ?? [],
    },
    execution: executionInfo(run, backend),
    error: error ? error.toInfo() : null,
  });
}
