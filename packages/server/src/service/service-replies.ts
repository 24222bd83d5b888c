import type { FastifyReply } from 'fastify';
import type { AgentResult } from '@bastion/providers';
import type { Problem } from './task-request';
import type { TaskRecord } from './task-store';

/** A task as the API shows it (GET /v1/tasks/:id, the 202 body, the `accepted` event). */
export function taskView(record: TaskRecord) {
  return {
    id: record.id,
    correlationId: record.correlationId,
    state: record.state,
    createdAt: record.createdAt,
    ...(record.finishedAt ? { finishedAt: record.finishedAt } : {}),
    ...(record.result ? { result: record.result } : {}),
  };
}

export function noTask(id: string): string {
  return `no task ${id.slice(0, 64)}: it never existed or was forgotten (the service keeps only the most recent tasks; submit it again)`;
}

export function notFound(reply: FastifyReply, message: string) {
  return reply.code(404).send({ error: { code: 'NOT_FOUND', message, retryable: false } });
}

/** How long to wait when the router refused the task because every provider's bulkhead was full. */
export function bulkheadWait(result: AgentResult): number | undefined {
  const skipped = (result.error?.details as { skipped?: { reason: string }[] } | undefined)?.skipped;
  if (
    result.status === 'succeeded' ||
    !skipped ||
    skipped.length === 0 ||
    !skipped.every((s) => s.reason === 'bulkhead_full')
  )
    return undefined;
  return result.error?.retryAfterMs ?? 1_000;
}

export function busy(reply: FastifyReply, waitMs: number, why: string) {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return reply
    .code(429)
    .header('retry-after', String(seconds))
    .send({
      error: {
        code: 'RATE_LIMITED',
        message: `${why}; retry after ${seconds} s (Retry-After) or send it to another instance`,
        retryable: true,
        retryAfterMs: seconds * 1000,
      },
    });
}

export function invalid(reply: FastifyReply, problems: Problem[]) {
  return reply.code(400).send({
    error: {
      code: 'INVALID_INPUT',
      message: `invalid request: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`,
      retryable: false,
      problems,
    },
  });
}

export function unavailable(reply: FastifyReply) {
  return reply
    .code(503)
    .header('retry-after', '5')
    .send({
      error: { code: 'SANDBOX_UNAVAILABLE', message: 'the service is draining; try another instance', retryable: true },
    });
}
