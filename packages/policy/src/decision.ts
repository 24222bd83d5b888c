import { z } from 'zod';
import { ResourceLimits } from './execution-spec';

export const DecisionReason = z
  .object({
    rule: z.string().describe('Stable id of the rule that produced this reason, e.g. resources.memory'),
    effect: z.enum(['deny', 'clamp', 'allow']),
    message: z.string(),
  })
  .strict();
export type DecisionReason = z.infer<typeof DecisionReason>;

export const NetworkObligation = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }).strict(),
  z
    .object({
      mode: z.literal('gateway'),
      api: z.enum(['gemini']).optional(),
      allow: z.array(z.string()),
      deny: z.array(z.string()),
    })
    .strict(),
]);
export type NetworkObligation = z.infer<typeof NetworkObligation>;

/** What the policy engine returns; the executor runs only with `limits` and `obligations` of an allow. */
export const Decision = z
  .object({
    allow: z.boolean(),
    reasons: z.array(DecisionReason).describe('Every rule that denied or changed the request, not just the first'),
    limits: ResourceLimits,
    obligations: z.object({ network: NetworkObligation }).strict(),
  })
  .strict();
export type Decision = z.infer<typeof Decision>;
