import { BastionError, formatByteSize } from '@bastion/core';
import type { ResourceLimits } from '@bastion/policy';
import type { ExecutorOutcome, RateLimitCause } from '@bastion/sandbox';
import type { CopyFilesystemFull } from '../workspace/copy-filesystem-full';

/** The sandbox-level verdict on a finished run, before any provider interprets its output. */
export function sandboxOutcomeError(outcome: ExecutorOutcome, limits: ResourceLimits): BastionError | null {
  if (outcome.aborted)
    return new BastionError('TIMEOUT', 'the call was cancelled; its sandbox was killed', { retryable: true });
  if (outcome.timedOut) {
    return new BastionError('TIMEOUT', `the command passed its ${limits.timeoutMs} ms deadline and was killed`, {
      details: { timeoutMs: limits.timeoutMs },
    });
  }
  if (outcome.stoppedExternally) {
    return new BastionError(
      'SANDBOX_UNAVAILABLE',
      `the sandbox was stopped from outside Bastion (${outcome.stoppedExternally}): a docker kill or the engine shutting down`,
      {
        retryable: true,
        details: { signal: outcome.stoppedExternally },
      },
    );
  }
  if (outcome.oomKilled) {
    return new BastionError(
      'OOM_KILLED',
      `the command exceeded its ${formatByteSize(limits.memoryBytes)} memory limit and was killed`,
      {
        details: { memoryBytes: limits.memoryBytes },
      },
    );
  }
  if (outcome.outputLimited) {
    return new BastionError(
      'OUTPUT_LIMIT',
      `${outcome.outputLimited} passed its ${formatByteSize(limits.outputBytes)} cap; the command was killed and its output truncated`,
      {
        details: { stream: outcome.outputLimited, outputBytes: limits.outputBytes },
      },
    );
  }
  return null;
}

export function commandFailedError(exitCode: number | null, signal: string | null): BastionError {
  const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
  return new BastionError('COMMAND_FAILED', `the command ${how}`, { details: { exitCode, signal } });
}

const DISK_FULL = /No space left on device|ENOSPC/;
const PIDS_EXHAUSTED =
  /fork: (?:retry: )?Resource temporarily unavailable|Cannot fork|EAGAIN[^\n]*(?:fork|spawn|clone)|pthread_create[^\n]*Resource temporarily unavailable/i;

/**
 * A command that failed or hung after the kernel refused it a resource says so on stderr; that
 * is the evidence we have from outside (the tmpfs and pids cgroup keep no record after exit).
 */
export function resourceExhaustedError(base: BastionError, stderr: string, limits: ResourceLimits): BastionError {
  if (base.code !== 'COMMAND_FAILED' && base.code !== 'TIMEOUT') return base;
  if (DISK_FULL.test(stderr)) {
    return new BastionError(
      'RESOURCE_EXHAUSTED',
      `the command filled its ${formatByteSize(limits.tmpfsBytes)} scratch space (ENOSPC)`,
      {
        details: { resource: 'tmpfs', tmpfsBytes: limits.tmpfsBytes, after: base.code },
      },
    );
  }
  if (PIDS_EXHAUSTED.test(stderr)) {
    return new BastionError('RESOURCE_EXHAUSTED', `the command hit its limit of ${limits.pids} processes`, {
      details: { resource: 'pids', pids: limits.pids, after: base.code },
    });
  }
  return base;
}

/**
 * The call was ended by a rate limit; the message says whose, since the fixes differ: the
 * provider's 429 passes with time (or a higher quota on the account), the policy's own limit is
 * shared by every call of this runtime and is raised in the policy.
 */
export function rateLimitedError(cause: RateLimitCause, retryAfterMs?: number): BastionError {
  const retry = retryAfterMs !== undefined ? { retryAfterMs } : {};
  if (cause.source === 'policy') {
    const which = cause.rule !== undefined ? ` for ${cause.rule}` : '';
    const wait = retryAfterMs !== undefined ? `Retry in ${Math.ceil(retryAfterMs / 1000)}s` : 'Retry later';
    return new BastionError(
      'RATE_LIMITED',
      `the policy's rate limit${which} (network.rateLimits, shared by every call of this runtime) is spent; the gateway refused the request before it reached the provider API and the call was ended. ${wait}, or raise requestsPerMinute/burst in the policy`,
      {
        retryable: true,
        ...retry,
        details: { limit: 'policy', ...(cause.rule !== undefined ? { rule: cause.rule } : {}) },
      },
    );
  }
  return new BastionError(
    'RATE_LIMITED',
    "the provider API answered 429 (the provider's own rate limit or quota); the call was ended instead of retrying inside the sandbox",
    {
      retryable: true,
      ...retry,
      details: { limit: 'provider' },
    },
  );
}

/**
 * The agent failed after filling its workspace copy: the copy's filesystem is capped at the
 * workspace plus filesystem.maxTotalBytes of room and maxFiles more files, and an agent that hits
 * that cap usually dies of ENOSPC in some tool. That is the policy's limit at work, not a broken
 * provider, and the fix is in the policy.
 */
export function copyFullError(
  full: Pick<CopyFilesystemFull, 'resource' | 'sizeBytes'>,
  caps: { maxTotalBytes: number; maxFiles?: number | undefined },
  after: string,
): BastionError {
  if (full.resource === 'inodes') {
    const room =
      caps.maxFiles !== undefined ? ` (filesystem.maxFiles: ${caps.maxFiles} files beyond the workspace's own)` : '';
    return new BastionError(
      'RESOURCE_EXHAUSTED',
      `the agent ran out of files in its workspace copy${room} and failed; raise filesystem.maxFiles in the policy, or ask for an edit that creates fewer files`,
      {
        details: {
          resource: 'workspace-copy',
          limit: 'maxFiles',
          ...(caps.maxFiles !== undefined ? { maxFiles: caps.maxFiles } : {}),
          after,
        },
      },
    );
  }
  return new BastionError(
    'RESOURCE_EXHAUSTED',
    `the agent filled its ${formatByteSize(full.sizeBytes)} workspace copy (the workspace plus filesystem.maxTotalBytes: ${formatByteSize(caps.maxTotalBytes)} of room for changes) and failed; raise filesystem.maxTotalBytes in the policy, or ask for an edit that writes less`,
    {
      details: {
        resource: 'workspace-copy',
        limit: 'maxTotalBytes',
        maxTotalBytes: caps.maxTotalBytes,
        sizeBytes: full.sizeBytes,
        after,
      },
    },
  );
}
