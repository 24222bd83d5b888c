import { BastionError } from '@bastion/core';
import type { Decision, ExecutionSpec } from '@bastion/policy';
import type { Redaction } from '@bastion/providers';
import type { OutputSanitizer } from '@bastion/security';
import type { Executor, ExecutorOutcome } from '@bastion/sandbox';
import type { AuditLog } from '../audit/audit-log';
import { createOutputCollector } from './output-collector';
import { mergeRedactions } from './redactions';
import type { AdmittedRun } from './sandbox-admission';
import type { CallOptions } from './sandbox-run';

/** The executor's outcome and the output, already through the sanitizer's streams. */
export interface ExecutedRun {
  readonly outcome: ExecutorOutcome;
  readonly stdout: { text: string; clean: boolean };
  readonly stderr: { text: string; clean: boolean };
  readonly redactions: Redaction[];
}

/**
 * Runs the admitted command on the executor with both output streams going through `sanitizer`
 * as they arrive (the caller's `onOutput` only ever sees clean text), and audits the executor's
 * start, failure or finish and the sanitizer's redactions. An executor failure is rethrown typed.
 */
export async function executeInSandbox(
  executor: Executor,
  sanitizer: OutputSanitizer,
  run: { spec: ExecutionSpec; decision: Decision; admitted: AdmittedRun; signal: AbortSignal },
  call: Pick<CallOptions, 'onOutput' | 'onPhase' | 'poolSize'> & { correlationId: string },
  audit: AuditLog,
): Promise<ExecutedRun> {
  const { correlationId } = call;
  const { spec, decision, admitted } = run;
  const backend = executor.backend;
  const streams = { stdout: sanitizer.createStream(), stderr: sanitizer.createStream() };
  const text = { stdout: createOutputCollector(sanitizer), stderr: createOutputCollector(sanitizer) };
  const push = (name: 'stdout' | 'stderr', clean: string) => {
    if (clean.length === 0) return;
    text[name].push(clean);
    call.onOutput?.(name, clean);
  };

  let outcome: ExecutorOutcome;
  call.onPhase?.({ phase: 'sandbox', backend, image: spec.image });
  try {
    outcome = await executor.run(
      {
        correlationId,
        image: spec.image,
        command: admitted.command,
        env: admitted.env,
        ...(spec.stdin !== undefined ? { stdin: spec.stdin } : {}),
        ...(spec.workdir !== undefined ? { workdir: spec.workdir } : {}),
        limits: decision.limits,
        mounts: admitted.mounts,
        ...(call.poolSize !== undefined ? { poolSize: call.poolSize } : {}),
      },
      {
        onStdout: (c) => push('stdout', streams.stdout.write(c)),
        onStderr: (c) => push('stderr', streams.stderr.write(c)),
        signal: run.signal,
        onStarted: ({ sandboxId, startupMs }) => {
          audit.record({ event: 'executor.started', correlationId, stage: 'executor', backend, sandboxId, startupMs });
          call.onPhase?.({ phase: 'running', startupMs });
        },
      },
    );
  } catch (err) {
    const error = BastionError.from(err, 'SANDBOX_UNAVAILABLE');
    audit.record({ event: 'executor.failed', correlationId, stage: 'executor', backend, error: error.toInfo() });
    throw error;
  }
  push('stdout', streams.stdout.end());
  push('stderr', streams.stderr.end());
  call.onPhase?.({ phase: 'finished', exitCode: outcome.exitCode, durationMs: outcome.durationMs });
  const redactions = mergeRedactions(streams.stdout.redactions(), streams.stderr.redactions());

  audit.record({
    event: 'executor.finished',
    correlationId,
    stage: 'executor',
    backend,
    sandboxId: outcome.sandboxId,
    exitCode: outcome.exitCode,
    oomKilled: outcome.oomKilled,
    timedOut: outcome.timedOut,
    outputLimited: outcome.outputLimited,
    durationMs: outcome.durationMs,
    startupMs: outcome.startupMs,
  });
  audit.record({ event: 'sanitizer.finished', correlationId, stage: 'sanitizer', redactions });
  return { outcome, stdout: text.stdout.finish(), stderr: text.stderr.finish(), redactions };
}
