import { BudgetPolicy, tightenBudget } from './budget';
import { Policy } from './policy-schema';
import { evaluatePolicy } from './policy-engine';
import { ExecutionSpec } from './execution-spec';
import { DEFAULT_POLICY_INPUT } from './default-policy';

describe('budgets', () => {
  it('lets a task only tighten the policy: the lower of each limit wins, absent means no limit', () => {
    expect(
      tightenBudget({ maxOutputTokens: 1000, maxCostUsd: 2 }, { maxOutputTokens: 5000, maxModelRequests: 3 }),
    ).toEqual({
      maxOutputTokens: 1000,
      maxCostUsd: 2,
      maxModelRequests: 3,
    });
    expect(tightenBudget({ maxInputTokens: 10 }, undefined)).toEqual({ maxInputTokens: 10 });
  });

  it('refuses a negative or fractional token budget with the field named', () => {
    const r = BudgetPolicy.safeParse({ run: { maxOutputTokens: -1 } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['run', 'maxOutputTokens']);
    expect(BudgetPolicy.safeParse({ daily: { maxInputTokens: 1.5 } }).success).toBe(false);
  });

  it('hands the policy budget and price overrides to the gateway with the decision', () => {
    const policy = Policy.parse({
      ...DEFAULT_POLICY_INPUT,
      budget: {
        run: { maxOutputTokens: 500 },
        daily: { maxCostUsd: 10 },
        prices: { 'm-1': { inputUsdPerMTok: 1, outputUsdPerMTok: 2 } },
      },
    });
    const d = evaluatePolicy(
      policy,
      ExecutionSpec.parse({
        provider: 'exec',
        image: 'bastion/sandbox:latest',
        command: ['true'],
        network: { mode: 'gateway', api: 'gemini' },
      }),
    );
    expect(d.obligations.network).toMatchObject({
      budget: {
        run: { maxOutputTokens: 500 },
        daily: { maxCostUsd: 10 },
        prices: { 'm-1': { inputUsdPerMTok: 1, outputUsdPerMTok: 2 } },
      },
    });
  });
});
