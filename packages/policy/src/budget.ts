import { z } from 'zod';

/**
 * Model-usage budgets. A run budget ends one call; a daily budget is held by the runtime per
 * tenant and provider and ends every call of that day once spent. The gateway counts what the
 * provider API reports (Gemini `usageMetadata`, Anthropic `usage`), so a budget is as exact as the
 * provider's own accounting.
 */
export const BudgetLimits = z
  .object({
    maxInputTokens: z.number().int().positive().optional().describe('Prompt tokens the provider API may bill'),
    maxOutputTokens: z.number().int().positive().optional().describe('Generated tokens the provider API may bill'),
    maxCostUsd: z.number().positive().optional().describe('Estimated cost in US dollars, from the price table'),
    maxModelRequests: z.number().int().positive().optional().describe('Requests the agent may send to the model API'),
  })
  .strict()
  .describe('Limits on model usage; an absent field is no limit');
export type BudgetLimits = z.infer<typeof BudgetLimits>;

export const BUDGET_LIMIT_KEYS = ['maxInputTokens', 'maxOutputTokens', 'maxCostUsd', 'maxModelRequests'] as const;
export type BudgetLimitKey = (typeof BUDGET_LIMIT_KEYS)[number];

export const ModelPrice = z
  .object({
    inputUsdPerMTok: z.number().nonnegative().describe('US dollars per million input (prompt) tokens'),
    outputUsdPerMTok: z.number().nonnegative().describe('US dollars per million output tokens'),
  })
  .strict();
export type ModelPrice = z.infer<typeof ModelPrice>;

export const BudgetPolicy = z
  .object({
    run: BudgetLimits.prefault({}).describe('Per call; a task may only tighten these'),
    daily: BudgetLimits.prefault({}).describe('Per tenant and provider per UTC day, held by the runtime'),
    prices: z
      .record(z.string().min(1), ModelPrice)
      .default({})
      .describe(
        'Prices per model (overrides the built-in table); a model in neither is costed at 0 and reported as unpriced',
      ),
  })
  .strict()
  .describe('Token, cost and request budgets enforced by the egress gateway');
export type BudgetPolicy = z.infer<typeof BudgetPolicy>;

/** What one call used, as the provider API reported it. */
export const Usage = z
  .object({
    inputTokens: z.number().int().nonnegative(),
    outputTokens: z.number().int().nonnegative(),
    requests: z.number().int().nonnegative().describe('Model API requests the gateway relayed'),
    costUsd: z.number().nonnegative().describe('Estimated from the price table'),
    unpricedModels: z.array(z.string()).optional().describe('Models with no price: their tokens count as 0 USD'),
  })
  .strict()
  .describe('Model usage of the call, counted by the egress gateway from the API responses');
export type Usage = z.infer<typeof Usage>;

export const ZERO_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0, requests: 0, costUsd: 0 }) as Usage;

/** The tighter of two budgets, field by field (a task may only tighten the policy). */
export function tightenBudget(a: BudgetLimits | undefined, b: BudgetLimits | undefined): BudgetLimits {
  const out: BudgetLimits = {};
  for (const k of BUDGET_LIMIT_KEYS) {
    const x = a?.[k];
    const y = b?.[k];
    const v = x === undefined ? y : y === undefined ? x : Math.min(x, y);
    if (v !== undefined) out[k] = v;
  }
  return out;
}
