import { BastionError } from '@bastion/core';
import type { OutputSanitizer } from '@bastion/security';
import type { AgentResult, ExecResult, Redaction } from '@bastion/providers';
import { cleanDeep } from '../audit/clean-deep';
import { mergeRedactions } from './redactions';

/**
 * The last thing every value passes before it leaves a call. The stream sanitizer sees the
 * agent's bytes as they arrive; everything Bastion decodes afterwards (a provider's JSON.parse, the
 * workspace diff read from the copy, an error message built from a parsed field) is new text that
 * stream never saw. The gate walks the finished value, every string at any depth, through the
 * call's sanitizer (its known secrets and the policy's custom rules), so a field added tomorrow is
 * covered without anyone remembering to sanitize it.
 */
export interface ExitGate {
  /** The call's sanitizer itself, for checks that need its report rather than clean text. */
  readonly sanitizer: OutputSanitizer;
  /** A clean deep copy of `value` and what was redacted in it. Objects' keys are cleaned too. */
  clean<T>(value: T): { value: T; redactions: Redaction[] };
  /** The finished AgentResult, every field cleaned, its `redactions[]` counting the new finds. */
  agentResult(result: AgentResult): AgentResult;
  /** The finished ExecResult, the same way. */
  execResult(result: ExecResult): ExecResult;
  /**
   * An error about to be thrown out of a call, rebuilt from its cleaned message and details. The
   * original is not kept as `cause`: its text is what had to be cleaned.
   */
  error(error: BastionError): BastionError;
}

/**
 * Top-level result fields the gate leaves as they are: `correlationId` is the caller's own handle
 * on the call (a redacted one could not be matched to its audit events), `redactions` is the
 * report the gate writes. Neither carries anything from the sandbox.
 */
const RESULT_IDENTITY_FIELDS = new Set(['correlationId', 'redactions']);

/**
 * `alreadyClean`: top-level string fields whose exact value is known to come out of the sanitizer
 * unchanged (a call's stdout and stderr, checked as they arrived: see output-collector.ts). The
 * gate passes that very string on instead of sanitizing a copy of up to the output cap.
 */
export function createExitGate(
  sanitizer: OutputSanitizer,
  alreadyClean: Readonly<Record<string, string>> = {},
): ExitGate {
  function clean<T>(value: T): { value: T; redactions: Redaction[] } {
    const found: Redaction[][] = [];
    const cleaned = cleanDeep(value, sanitizer, (r) => found.push(r));
    return { value: cleaned, redactions: mergeRedactions(...found) };
  }

  function result<R extends { correlationId: string; redactions: Redaction[] }>(r: R): R {
    const found: Redaction[][] = [];
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) {
      if (
        RESULT_IDENTITY_FIELDS.has(k) ||
        (typeof v === 'string' && Object.hasOwn(alreadyClean, k) && alreadyClean[k] === v)
      ) {
        out[k] = v;
        continue;
      }
      const cleaned = clean(v);
      found.push(cleaned.redactions);
      out[k] = cleaned.value;
    }
    out.redactions = mergeRedactions(r.redactions, ...found);
    return out as R;
  }

  function error(e: BastionError): BastionError {
    const info = clean(e.toInfo()).value;
    return new BastionError(e.code, info.message, {
      retryable: info.retryable,
      ...(info.retryAfterMs !== undefined ? { retryAfterMs: info.retryAfterMs } : {}),
      ...(info.details !== undefined ? { details: info.details } : {}),
    });
  }

  return { sanitizer, clean, agentResult: result, execResult: result, error };
}
