import { BastionError, formatByteSize } from '@bastion/core';
import type { ResourceLimits } from '@bastion/policy';
import type { ExecutorOutcome } from '../executor/executor';

/** The sandbox-level verdict on a finished run, before any provider interprets its output. */
export function sandboxOutcomeError(outcome: ExecutorOutcome, limits: ResourceLimits): BastionError | null {
  if (outcome.aborted) return new BastionError('TIMEOUT', 'the call was cancelled; its sandbox was killed', { retryable: true });
  if (outcome.timedOut) {
    return new BastionError('TIMEOUT', `the command passed its ${limits.timeoutMs} ms deadline and was killed`, { details: { timeoutMs: limits.timeoutMs } });
  }
  if (outcome.oomKilled) {
    return new BastionError('OOM_KILLED', `the command exceeded its ${formatByteSize(limits.memoryBytes)} memory limit and was killed`, {
      details: { memoryBytes: limits.memoryBytes },
    });
  }
  if (outcome.outputLimited) {
    return new BastionError('OUTPUT_LIMIT', `${outcome.outputLimited} passed its ${formatByteSize(limits.outputBytes)} cap; the command was killed and its output truncated`, {
      details: { stream: outcome.outputLimited, outputBytes: limits.outputBytes },
    });
  }
  return null;
}

export function commandFailedError(exitCode: number | null, signal: string | null): BastionError {
  const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
  return new BastionError('COMMAND_FAILED', `the command ${how}`, { details: { exitCode, signal } });
}
