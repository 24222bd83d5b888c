import { z } from 'zod';
import { AgentTask } from '@bastion/providers';

/** Body of POST /v1/tasks and /v1/tasks/stream: an AgentTask, optionally pinned to one provider. */
export const TaskRequest = AgentTask.extend({
  provider: z.string().min(1).max(64).optional().describe('Run on this provider only; default: the router picks'),
}).strict();
export type TaskRequest = z.infer<typeof TaskRequest>;

export const TaskQuery = z
  .object({ wait: z.enum(['true', 'false', '1', '0']).optional().describe('true: answer with the AgentResult when the task finishes') })
  .strict();

export interface Problem {
  readonly path: string;
  readonly message: string;
}

export function problemsOf(error: z.ZodError): Problem[] {
  return error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}
