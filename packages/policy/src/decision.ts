import { z } from 'zod';
import { BudgetLimits, ModelPrice } from './budget';
import { ResourceLimits, UpstreamName } from './execution-spec';

export const DecisionReason = z
  .object({
    rule: z.string().describe('Stable id of the rule that produced this reason, e.g. resources.memory'),
    effect: z.enum(['deny', 'clamp', 'allow']),
    message: z.string(),
  })
  .strict();
export type DecisionReason = z.infer<typeof DecisionReason>;

export const RateLimitObligation = z
  .object({ domain: z.string(), requestsPerMinute: z.number().positive(), burst: z.number().int().positive() })
  .strict();
export type RateLimitObligation = z.infer<typeof RateLimitObligation>;

export const RobotsObligation = z
  .object({ respect: z.boolean(), crawlDelay: z.boolean(), userAgent: z.string() })
  .strict();
export type RobotsObligation = z.infer<typeof RobotsObligation>;

export const BudgetObligation = z
  .object({ run: BudgetLimits, daily: BudgetLimits, prices: z.record(z.string(), ModelPrice) })
  .strict();
export type BudgetObligation = z.infer<typeof BudgetObligation>;

export const NetworkObligation = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }).strict(),
  z
    .object({
      mode: z.literal('gateway'),
      /** The declared upstream the gateway's API proxy serves (see UpstreamName). */
      api: UpstreamName.optional(),
      /** The provider's `models` from the policy: the gateway's API proxy refuses any other model. */
      models: z.array(z.string()).optional(),
      allow: z.array(z.string()),
      deny: z.array(z.string()),
      /** Filled by the evaluator; optional so obligations written by hand stay valid. */
      rateLimits: z.array(RateLimitObligation).optional(),
      robots: RobotsObligation.optional(),
      /** The policy's budget section, for the gateway's usage meter (absent: count, limit nothing). */
      budget: BudgetObligation.optional(),
    })
    .strict(),
]);
export type NetworkObligation = z.infer<typeof NetworkObligation>;

/** The rules the apply step checks a set of changes against (see `checkWritePaths`). */
export const FilesystemObligation = z
  .object({
    workspace: z.enum(['read-only', 'copy']).describe('The most write access granted to the workspace'),
    denyWrite: z.array(z.string()),
    allowWrite: z.array(z.string()),
    maxFileBytes: z.number().int().positive(),
    maxTotalBytes: z.number().int().positive(),
    /** Optional so obligations written by hand stay valid; the evaluator always sets them. */
    maxFiles: z.number().int().positive().optional(),
    maxResultBytes: z.number().int().positive().optional(),
  })
  .strict();
export type FilesystemObligation = z.infer<typeof FilesystemObligation>;

export const RedactionObligation = z
  .object({
    rules: z.array(
      z
        .object({ id: z.string(), pattern: z.string(), severity: z.enum(['low', 'medium', 'high', 'critical']) })
        .strict(),
    ),
  })
  .strict();
export type RedactionObligation = z.infer<typeof RedactionObligation>;

/** What the policy engine returns; the executor runs only with `limits` and `obligations` of an allow. */
export const Decision = z
  .object({
    allow: z.boolean(),
    reasons: z.array(DecisionReason).describe('Every rule that denied or changed the request, not just the first'),
    limits: ResourceLimits,
    obligations: z
      .object({
        network: NetworkObligation,
        filesystem: FilesystemObligation.optional().describe('Always set by the evaluator'),
        redaction: RedactionObligation.optional().describe('Always set by the evaluator'),
      })
      .strict(),
  })
  .strict();
export type Decision = z.infer<typeof Decision>;
