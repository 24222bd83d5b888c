import type { StartedFakeAnthropicApi } from '../fake-anthropic-api/fake-anthropic-api';
import type { Expectation } from './expectation';
import { SUCCEEDS } from './expectation';

export const ANTHROPIC_FAULT_KINDS = ['none', 'rate-limit', 'overloaded', 'bad-key', 'stall'] as const;
export type AnthropicFaultKind = (typeof ANTHROPIC_FAULT_KINDS)[number];

/**
 * A fault at the Anthropic Messages API, played by the fake Anthropic API (or, for `stall`, an
 * upstream that never answers) behind the real gateway while the real Claude Code CLI runs in the
 * sandbox. The CLI's own retries are off (OBSERVED.md), so each fault is one request.
 */
export interface AnthropicFault {
  readonly kind: AnthropicFaultKind;
  readonly description: string;
  arm(api: StartedFakeAnthropicApi): void;
  /** The call goes to an upstream that accepts the request and never answers. */
  readonly stalls?: boolean;
  /** The task's deadline. */
  readonly timeoutMs: number;
  readonly expect: Expectation;
}

const NORMAL_MS = 60_000;

export const ANTHROPIC_FAULTS: Readonly<Record<AnthropicFaultKind, AnthropicFault>> = {
  none: {
    kind: 'none',
    description: 'a normal answer',
    arm: (api) => api.script('All good.'),
    timeoutMs: NORMAL_MS,
    expect: SUCCEEDS,
  },
  'rate-limit': {
    kind: 'rate-limit',
    description: '429 rate_limit_error with retry-after: 7 on every request',
    arm: (api) => api.setFault({ kind: 'rate-limit', retryAfterSeconds: 7 }),
    timeoutMs: NORMAL_MS,
    expect: { status: 'failed', code: 'RATE_LIMITED', retryable: true, retryAfterMs: 7_000 },
  },
  overloaded: {
    kind: 'overloaded',
    description: '529 overloaded_error on every request',
    arm: (api) => api.setFault({ kind: 'overloaded' }),
    timeoutMs: NORMAL_MS,
    expect: { status: 'failed', code: 'PROVIDER_FAILED', retryable: true },
  },
  'bad-key': {
    kind: 'bad-key',
    description: '401 authentication_error on every request',
    arm: (api) => api.setFault({ kind: 'auth' }),
    timeoutMs: NORMAL_MS,
    expect: { status: 'failed', code: 'AUTH_FAILED', retryable: false },
  },
  stall: {
    kind: 'stall',
    description: 'the Messages request is taken and never answered; the 10 s deadline ends it',
    arm: () => undefined,
    stalls: true,
    timeoutMs: 10_000,
    expect: { status: 'failed', code: 'TIMEOUT', retryable: true },
  },
};
