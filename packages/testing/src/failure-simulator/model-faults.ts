import type { StartedFakeGeminiApi } from '../fake-gemini-api/fake-gemini-api';
import type { Expectation } from './expectation';
import { SUCCEEDS } from './expectation';

export const MODEL_FAULT_KINDS = [
  'none',
  'rate-limit',
  'rate-limit-storm',
  'daily-quota',
  'internal-once',
  'unavailable-storm',
  'bad-key',
  'permission-denied',
  'credentials-expire',
  'stream-cut',
  'malformed-json',
  'slow-first-byte',
  'stall',
  'idle-socket-reset',
] as const;
export type ModelFaultKind = (typeof MODEL_FAULT_KINDS)[number];

/**
 * A fault at the model API, played by the fake Gemini API behind the real gateway while the real
 * Gemini CLI runs in the sandbox. `arm` sets the fake up before the call; `during` runs once the
 * call has started (credentials that expire mid-run).
 */
export interface ModelFault {
  readonly kind: ModelFaultKind;
  readonly description: string;
  arm(api: StartedFakeGeminiApi): void;
  during?(api: StartedFakeGeminiApi): Promise<void>;
  /** The task's deadline; faults the CLI would sit out for minutes get a short one. */
  readonly timeoutMs: number;
  /** Roughly how long the call takes (for schedules); the soak keeps to the fast ones. */
  readonly slow: boolean;
  readonly expect: Expectation;
}

const NORMAL_MS = 60_000;

export const MODEL_FAULTS: Readonly<Record<ModelFaultKind, ModelFault>> = {
  none: {
    kind: 'none',
    description: 'a normal answer',
    arm: () => undefined,
    timeoutMs: NORMAL_MS,
    slow: false,
    expect: SUCCEEDS,
  },
  'rate-limit': {
    kind: 'rate-limit',
    description: '429 RESOURCE_EXHAUSTED with RetryInfo.retryDelay 3s on every content call',
    arm: (api) => void api.setFault({ kind: 'rate-limit', retryDelay: '3s', on: 'content' }),
    timeoutMs: NORMAL_MS,
    slow: false,
    expect: { status: 'failed', code: 'RATE_LIMITED', retryable: true, retryAfterMs: 3_000 },
  },
  'rate-limit-storm': {
    kind: 'rate-limit-storm',
    description: '429 storm on every call, classifier included, RetryInfo 7s and a Retry-After header',
    arm: (api) => void api.setFault({ kind: 'rate-limit', retryDelay: '7s', retryAfterHeader: true }),
    timeoutMs: NORMAL_MS,
    slow: false,
    expect: { status: 'failed', code: 'RATE_LIMITED', retryable: true, retryAfterMs: 7_000 },
  },
  'daily-quota': {
    kind: 'daily-quota',
    description: '429 with a per-day QuotaFailure (the CLI gives up at once)',
    arm: (api) =>
      void api.setFault({
        kind: 'rate-limit',
        on: 'content',
        retryDelay: '30s',
        quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
      }),
    timeoutMs: NORMAL_MS,
    slow: false,
    expect: { status: 'failed', code: 'RATE_LIMITED', retryable: true, retryAfterMs: 30_000 },
  },
  'internal-once': {
    kind: 'internal-once',
    description: 'one 500 INTERNAL on the content call; the CLI retries it after ~5 s and succeeds',
    arm: (api) => void api.queueFault({ kind: 'internal', on: 'content' }, 1),
    timeoutMs: NORMAL_MS,
    slow: true,
    expect: SUCCEEDS,
  },
  'unavailable-storm': {
    kind: 'unavailable-storm',
    description: '503 UNAVAILABLE on every content call; the CLI backs off for minutes, so the 12 s deadline ends it',
    arm: (api) => void api.setFault({ kind: 'unavailable', on: 'content' }),
    timeoutMs: 12_000,
    slow: true,
    expect: { status: 'failed', code: 'TIMEOUT', retryable: true },
  },
  'bad-key': {
    kind: 'bad-key',
    description: '400 API_KEY_INVALID on every call',
    arm: (api) => void api.setFault('bad-key'),
    timeoutMs: NORMAL_MS,
    slow: false,
    expect: { status: 'failed', code: 'AUTH_FAILED', retryable: false },
  },
  'permission-denied': {
    kind: 'permission-denied',
    description: '403 PERMISSION_DENIED on every call',
    arm: (api) => void api.setFault('permission-denied'),
    timeoutMs: NORMAL_MS,
    slow: false,
    expect: { status: 'failed', code: 'AUTH_FAILED', retryable: false },
  },
  'credentials-expire': {
    kind: 'credentials-expire',
    description:
      'the key is accepted for the first request, then rotated away: the content call gets 400 API_KEY_INVALID',
    // The classifier answers after 400 ms, so the switch below lands before the content call.
    arm: (api) => void api.queueFault({ kind: 'slow-first-byte', delayMs: 400, on: 'classifier' }, 1),
    async during(api) {
      await api.waitForRequests(1, 60_000);
      api.setFault({ kind: 'bad-key', on: 'content' });
    },
    timeoutMs: NORMAL_MS,
    slow: false,
    expect: { status: 'failed', code: 'AUTH_FAILED', retryable: false },
  },
  'stream-cut': {
    kind: 'stream-cut',
    description: 'the SSE stream is cut after its first chunk',
    arm: (api) => void api.setFault({ kind: 'stream-cut', on: 'stream' }),
    timeoutMs: NORMAL_MS,
    slow: false,
    expect: { status: 'failed', code: 'PROVIDER_FAILED', retryable: true },
  },
  'malformed-json': {
    kind: 'malformed-json',
    description: 'a 200 whose SSE data line is not JSON',
    arm: (api) => void api.setFault({ kind: 'malformed-json', on: 'stream' }),
    timeoutMs: NORMAL_MS,
    slow: false,
    expect: { status: 'failed', code: 'PROVIDER_FAILED', retryable: true },
  },
  'slow-first-byte': {
    kind: 'slow-first-byte',
    description: 'the content call waits 2 s before its first byte, then answers',
    arm: (api) => void api.setFault({ kind: 'slow-first-byte', delayMs: 2_000, on: 'content' }),
    timeoutMs: NORMAL_MS,
    slow: false,
    expect: SUCCEEDS,
  },
  'idle-socket-reset': {
    kind: 'idle-socket-reset',
    description:
      "the content call arrives on the gateway's pooled connection, which the API had closed: reset; one retry on a fresh connection answers",
    arm: (api) => void api.queueFault({ kind: 'reset-reused', on: 'content' }, 1),
    timeoutMs: NORMAL_MS,
    slow: false,
    expect: SUCCEEDS,
  },
  stall: {
    kind: 'stall',
    description: 'the content call never answers after its headers; the 8 s deadline ends it',
    arm: (api) => void api.setFault({ kind: 'stall', afterHeaders: true, on: 'content' }),
    timeoutMs: 8_000,
    slow: true,
    expect: { status: 'failed', code: 'TIMEOUT', retryable: true },
  },
};
