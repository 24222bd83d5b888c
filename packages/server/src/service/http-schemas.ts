import { z } from 'zod';
import { errorInfoSchema } from '@bastion/core';
import { AgentResult } from '@bastion/providers';

/** The shapes the HTTP API answers with: the source of truth for /openapi.json and for its tests. */
export const Problem = z.object({
  path: z.string().describe('Dotted path of the offending field; empty for the whole body'),
  message: z.string(),
});

export const ErrorBody = z
  .object({
    error: errorInfoSchema().extend({
      problems: z.array(Problem).optional().describe('Every schema problem of an INVALID_INPUT body'),
    }),
  })
  .describe('Every non-2xx answer: an error from the closed set of codes, with a message that says how to fix it');

export const TaskState = z
  .enum(['queued', 'running', 'succeeded', 'failed', 'denied'])
  .describe('queued: committed, waiting for a worker (serve --database only)');

export const TaskView = z
  .object({
    id: z.string().describe('Task id for GET /v1/tasks/{id} and /v1/tasks/{id}/events'),
    correlationId: z
      .string()
      .describe('x-correlation-id of the request, or a generated one; in every audit event of the task'),
    state: TaskState,
    createdAt: z.string().describe('ISO 8601'),
    finishedAt: z.string().optional().describe('ISO 8601, once finished'),
    result: AgentResult.optional().describe('The AgentResult, once finished'),
  })
  .strict();

export const Health = z.object({ status: z.literal('ok') }).strict();

export const ProviderHealthView = z.object({
  id: z.string(),
  breaker: z.enum(['closed', 'open', 'half_open', 'isolated']),
  coolingDownForMs: z.number().nonnegative(),
  inFlight: z.number().int().nonnegative(),
  queued: z.number().int().nonnegative(),
  maxConcurrent: z.number().int().nonnegative().describe('Calls this provider runs at once'),
  maxQueue: z.number().int().nonnegative().describe('Calls that may wait for a slot'),
});

export const Readiness = z
  .object({
    ready: z.boolean(),
    reason: z.string().optional().describe('Why not ready, naming the fix (engine down, draining)'),
    providers: z.array(ProviderHealthView).optional(),
  })
  .strict();

export const RoutedEvent = z.object({ provider: z.string(), attempt: z.number().int().nonnegative() });
export const OutputEvent = z.object({
  stream: z.enum(['stdout', 'stderr']),
  text: z.string().describe('Sanitized agent output, as it arrives'),
});
export const TruncatedEvent = z.object({ droppedThroughId: z.number().int(), reason: z.string() });
