import type { ModelPrice } from '@bastion/policy';

/**
 * List prices in US dollars per million tokens (standard tier, prompts up to 200k tokens) as the
 * providers published them; the policy's `budget.prices` overrides any entry. A model is looked up
 * by its exact name, then by the longest prefix here (`gemini-2.5-flash-001` is priced as
 * `gemini-2.5-flash`). A model in neither table is costed at 0 and named in `usage.unpricedModels`,
 * so an estimate never silently claims to be complete.
 */
export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = Object.freeze({
  'gemini-2.5-pro': { inputUsdPerMTok: 1.25, outputUsdPerMTok: 10 },
  'gemini-2.5-flash': { inputUsdPerMTok: 0.3, outputUsdPerMTok: 2.5 },
  'gemini-2.5-flash-lite': { inputUsdPerMTok: 0.1, outputUsdPerMTok: 0.4 },
  'gemini-2.0-flash': { inputUsdPerMTok: 0.1, outputUsdPerMTok: 0.4 },
  'gemini-2.0-flash-lite': { inputUsdPerMTok: 0.075, outputUsdPerMTok: 0.3 },
  'claude-opus-4': { inputUsdPerMTok: 15, outputUsdPerMTok: 75 },
  'claude-sonnet-4': { inputUsdPerMTok: 3, outputUsdPerMTok: 15 },
  'claude-3-5-haiku': { inputUsdPerMTok: 0.8, outputUsdPerMTok: 4 },
});

/** The price of `model`: the overrides first, then the built-in table; exact name, then longest prefix. */
export function priceOf(model: string, overrides: Readonly<Record<string, ModelPrice>> = {}): ModelPrice | undefined {
  for (const table of [overrides, MODEL_PRICES]) {
    const exact = table[model];
    if (exact) return exact;
    let best: string | undefined;
    for (const name of Object.keys(table))
      if (model.startsWith(name) && (best === undefined || name.length > best.length)) best = name;
    if (best !== undefined) return table[best];
  }
  return undefined;
}

export function costUsd(price: ModelPrice | undefined, inputTokens: number, outputTokens: number): number {
  if (!price) return 0;
  return (inputTokens * price.inputUsdPerMTok + outputTokens * price.outputUsdPerMTok) / 1_000_000;
}
