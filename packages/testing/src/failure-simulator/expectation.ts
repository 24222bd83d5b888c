import type { ErrorCode } from '@bastion/core';

/** What a faulted call must end as: its status, its error code (null: none) and whether a retry can help. */
export interface Expectation {
  readonly status: 'succeeded' | 'failed' | 'denied';
  readonly code: ErrorCode | null;
  /** Omitted when the code's own default is what we expect. */
  readonly retryable?: boolean;
  /** For RATE_LIMITED: the advised wait the result must carry. */
  readonly retryAfterMs?: number;
  /**
   * A known defect the outcome may show instead, stated and reported (never silently): the
   * result must then match `outcome`, and the soak table counts it under its own label.
   */
  readonly knownIssue?: {
    readonly id: string;
    readonly because: string;
    readonly outcome: Omit<Expectation, 'knownIssue'>;
  };
}

export const SUCCEEDS: Expectation = { status: 'succeeded', code: null };
