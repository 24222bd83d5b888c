import { z } from 'zod';
import { ERROR_CODES, isRetryableCode, type ErrorCode } from './error-codes';

const MARKER = Symbol.for('bastion.error');

export interface BastionErrorOptions {
  retryable?: boolean;
  retryAfterMs?: number;
  cause?: unknown;
  /** Structured, secret-free facts for logs and results (paths, rule ids, counts). */
  details?: Record<string, unknown>;
}

const buildErrorInfo = () =>
  z.object({
    code: z
      .enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]])
      .describe('Stable code from the closed set in ERROR_CODES'),
    message: z.string().describe('Human-readable, secret-free explanation'),
    retryable: z.boolean().describe('Whether trying the same call again can help'),
    retryAfterMs: z.number().int().nonnegative().optional().describe('Advised wait before a retry'),
    details: z.record(z.string(), z.unknown()).optional(),
  });
let errorInfo: ReturnType<typeof buildErrorInfo> | undefined;

/** The data form of an error, as it appears in `AgentResult.error` and CLI/HTTP output. */
export type ErrorInfo = z.infer<ReturnType<typeof buildErrorInfo>>;

/**
 * ErrorInfo's schema, for the result and HTTP schemas that embed it. Built on first use: every
 * command loads this module, and building zod schemas is most of a cold start's module time.
 */
export function errorInfoSchema(): ReturnType<typeof buildErrorInfo> {
  return (errorInfo ??= buildErrorInfo());
}

/**
 * The one error type Bastion throws. Its message must never contain a secret: build it from
 * facts (ids, paths, counts), never from raw tool output.
 */
export class BastionError extends Error {
  readonly [MARKER] = true;
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: BastionErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BastionError';
    this.code = code;
    // A malformed request or a refusal stays malformed however often it is sent (an ENOENT cause
    // included), so no caller may mark it retryable: routers and clients would loop or fall back.
    this.retryable = NEVER_RETRYABLE.has(code) ? false : (options.retryable ?? defaultRetryable(code, options.cause));
    if (options.retryAfterMs !== undefined) this.retryAfterMs = Math.max(0, Math.round(options.retryAfterMs));
    if (options.details !== undefined) this.details = options.details;
  }

  /** True for any BastionError, also one made by another copy of this package. */
  static isInstance(value: unknown): value is BastionError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }

  /** Wraps anything thrown into a BastionError, keeping the original as `cause`. */
  static from(value: unknown, fallback: ErrorCode = 'INTERNAL', message?: string): BastionError {
    if (BastionError.isInstance(value)) return value;
    const text = message ?? (value instanceof Error ? value.message : String(value));
    return new BastionError(fallback, text, { cause: value });
  }

  toInfo(): ErrorInfo {
    const info: ErrorInfo = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.retryAfterMs !== undefined) info.retryAfterMs = this.retryAfterMs;
    if (this.details !== undefined) info.details = this.details;
    return info;
  }
}

const NEVER_RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['INVALID_INPUT', 'POLICY_DENIED']);

/** HTTP status (408/409/429/5xx) or a vanished daemon in the cause makes a retry worthwhile. */
function defaultRetryable(code: ErrorCode, cause: unknown): boolean {
  const status = statusOf(cause);
  if (status !== undefined) return status === 408 || status === 409 || status === 429 || status >= 500;
  const errno = (cause as { code?: unknown } | undefined)?.code;
  if (errno === 'ECONNREFUSED' || errno === 'ENOENT' || errno === 'ECONNRESET' || errno === 'EPIPE') return true;
  return isRetryableCode(code);
}

function statusOf(cause: unknown): number | undefined {
  if (typeof cause !== 'object' || cause === null) return undefined;
  const c = cause as { statusCode?: unknown; status?: unknown };
  const v = typeof c.statusCode === 'number' ? c.statusCode : typeof c.status === 'number' ? c.status : undefined;
  return v;
}
