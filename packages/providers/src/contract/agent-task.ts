import { z } from 'zod';
import { BudgetLimits } from '@bastion/policy';

/** What a caller asks of an agent. Parsed at every boundary (CLI, HTTP, MCP). */
export const AgentTask = z
  .object({
    prompt: z.string().min(1).max(1_000_000).describe('The instruction for the agent'),
    workspace: z.string().min(1).optional().describe('Host directory the agent works on (absolute)'),
    model: z.string().min(1).optional(),
    intent: z
      .enum(['analyze', 'edit'])
      .default('analyze')
      .describe('analyze: read-only question about the workspace; edit: the agent may propose changes'),
    timeoutMs: z.number().int().positive().optional(),
    budget: BudgetLimits.optional().describe(
      "Model-usage budget for this run; it can only tighten the policy's budget.run",
    ),
  })
  .strict();
export type AgentTask = z.infer<typeof AgentTask>;
export type AgentTaskInput = z.input<typeof AgentTask>;
