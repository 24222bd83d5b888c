import type { ErrorCode } from '@bastion/core';

/** What a faulted call must end as: its status, its error code (null: none) and whether a retry can help. */
export interface Expectation {
  readonly status: 'succeeded' | 'failed' | 'denied';
  readonly code: ErrorCode | null;
  /** Omitted when the code's own default is what we expect. */
  readonly retryable?: boolean;
  /** For RATE_LIMITED: the advised wait the result must carry. */
  readonly retryAfterMs?: number;
}

export const SUCCEEDS: Expectation = { status: 'succeeded', code: null };
