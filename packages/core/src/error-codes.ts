/**
 * The closed set of error codes Bastion reports. Callers script against these, so a code is never
 * renamed or removed; `retryable` says whether the same call may succeed if tried again.
 */
export const ERROR_CODES = {
  POLICY_DENIED: {
    retryable: false,
    description: 'The policy refused the call; the reasons list every violated rule.',
  },
  RATE_LIMITED: {
    retryable: true,
    description: 'The provider or a rate limit refused the call for now; see retryAfterMs.',
  },
  AUTH_FAILED: { retryable: false, description: 'The provider rejected the credentials.' },
  OOM_KILLED: { retryable: false, description: 'The sandboxed process ran out of its memory limit and was killed.' },
  TIMEOUT: { retryable: true, description: 'The call passed its wall-clock deadline; the process tree was killed.' },
  OUTPUT_LIMIT: {
    retryable: false,
    description: 'A stream passed its byte cap; the process was killed and the output truncated.',
  },
  SANDBOX_UNAVAILABLE: {
    retryable: true,
    description: 'The sandbox backend (Docker engine, bubblewrap, image, agent binary) is not usable.',
  },
  PROVIDER_FAILED: { retryable: true, description: 'The agent failed or produced output that could not be parsed.' },
  INVALID_INPUT: { retryable: false, description: 'A request, policy, flag or option was malformed; nothing was run.' },
  CONFLICT: { retryable: false, description: 'The workspace changed under the call; nothing was overwritten.' },
  COMMAND_FAILED: { retryable: false, description: 'The sandboxed command ran and exited non-zero.' },
  RESOURCE_EXHAUSTED: { retryable: false, description: 'The sandbox ran out of pids, disk or another resource.' },
  BUDGET_EXCEEDED: {
    retryable: false,
    description:
      'A run reached a budget (tokens, cost or model requests, per run or per day); the call was ended and the message names the limit and the totals.',
  },
  NOT_FOUND: {
    retryable: false,
    description: 'The HTTP route or the task id does not exist; the message names the routes there are.',
  },
  INTERNAL: { retryable: false, description: 'A bug in Bastion; the message says where.' },
} as const satisfies Record<string, { retryable: boolean; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isRetryableCode(code: ErrorCode): boolean {
  return ERROR_CODES[code].retryable;
}
