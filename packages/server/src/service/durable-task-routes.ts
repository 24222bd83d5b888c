import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BastionError } from '@bastion/core';
import type { AgentResult } from '@bastion/providers';
import type { AuditLog } from '@bastion/agent-runtime';
import { failedResult } from '../tasks/sql-task-ledger';
import { IdempotencyKey, type DurableTask, type LedgerEvent, type TaskLedger } from '../tasks/task-ledger';
import { parseLastEventId } from './event-stream';
import { TaskQuery, problemsOf, type Problem, type TaskRequest } from './task-request';

export interface DurableTaskRoutesOptions {
  ledger: TaskLedger;
  /** Body, draining and workspace checks of the service; on refusal the reply is sent and null returned. */
  admit(req: FastifyRequest, reply: FastifyReply): Promise<TaskRequest | null>;
  correlationIdOf(req: FastifyRequest): string;
  /** Told after a commit, so a worker in this process claims at once instead of at its next poll. */
  onAccepted?: () => void;
  audit?: Pick<AuditLog, 'record'>;
  heartbeatMs: number;
  /** How often a follower looks for new events in the ledger. Default 100 ms. */
  followPollMs?: number;
  /** Runs a task may take before it fails for good (a worker dying mid-run counts). Default 3. */
  maxAttempts?: number;
  /** Tasks waiting for a worker at most; the next is answered 429 with Retry-After. Default 10000. */
  maxQueued?: number;
  invalid(reply: FastifyReply, problems: Problem[]): FastifyReply;
  notFound(reply: FastifyReply, message: string): FastifyReply;
  noTask(id: string): string;
}

/**
 * The task routes of a service whose tasks live in a ledger (`bastion serve --database`): a task is
 * committed before the 202, any API instance answers GET and replays events (Last-Event-ID is the
 * ledger's per-task sequence), and workers anywhere run it. A submitter of /v1/tasks/stream that
 * leaves cancels the task wherever it runs.
 */
export function registerDurableTaskRoutes(app: FastifyInstance, o: DurableTaskRoutesOptions): void {
  const { ledger, audit } = o;
  const pollMs = o.followPollMs ?? 100;

  const accept = async (req: FastifyRequest, reply: FastifyReply): Promise<DurableTask | null> => {
    const keyHeader = req.headers['idempotency-key'];
    const key =
      keyHeader === undefined
        ? undefined
        : IdempotencyKey.safeParse(Array.isArray(keyHeader) ? keyHeader[0] : keyHeader);
    if (key && !key.success) {
      o.invalid(
        reply,
        problemsOf(key.error).map((p) => ({ ...p, path: 'Idempotency-Key' })),
      );
      return null;
    }
    const admitted = await o.admit(req, reply);
    if (!admitted) return null;
    const correlationId = o.correlationIdOf(req);
    try {
      // Backpressure, as the in-memory service's --max-in-flight: a queue no worker drains must
      // not grow without bound. Checked before the commit, so a refused task does not exist.
      const { queued } = await ledger.stats();
      const maxQueued = o.maxQueued ?? 10_000;
      if (queued >= maxQueued) {
        reply
          .code(429)
          .header('retry-after', '1')
          .send({
            error: {
              code: 'RATE_LIMITED',
              message: `${queued} tasks are waiting for a worker, the most this service queues; retry after 1 s (Retry-After) or add workers (bastion worker --database)`,
              retryable: true,
              retryAfterMs: 1000,
            },
          });
        return null;
      }
      const { task, created } = await ledger.submit({
        request: admitted as Record<string, unknown>,
        correlationId,
        ...(key?.success ? { idempotencyKey: key.data } : {}),
        maxAttempts: o.maxAttempts ?? 3,
      });
      if (created) {
        audit?.record({
          event: 'service.accepted',
          correlationId,
          stage: 'service',
          taskId: task.id,
          intent: admitted.intent,
          provider: admitted.provider ?? null,
          durable: true,
        });
        o.onAccepted?.();
      } else reply.header('idempotent-replayed', 'true');
      return task;
    } catch (err) {
      // Not committed, so not accepted: the caller may send it again (with its key, safely).
      ledgerDown(reply, err);
      return null;
    }
  };

  app.post('/v1/tasks', async (req, reply) => {
    const query = TaskQuery.safeParse(req.query ?? {});
    if (!query.success) return o.invalid(reply, problemsOf(query.error));
    const task = await accept(req, reply);
    if (!task) return reply;
    if (query.data.wait === 'true' || query.data.wait === '1') {
      const done = await untilFinished(task.id, req);
      if (done?.result) return reply.code(200).header('x-task-id', task.id).send(done.result);
    }
    return reply.code(202).header('location', `/v1/tasks/${task.id}`).send(view(task));
  });

  /** The task, or the answer already sent: 503 while the ledger is down, 404 for an unknown id. */
  const taskOrAnswer = async (id: string, reply: FastifyReply): Promise<DurableTask | undefined> => {
    let task: DurableTask | undefined;
    try {
      task = await ledger.get(id);
    } catch (err) {
      ledgerDown(reply, err);
      return undefined;
    }
    if (!task) o.notFound(reply, o.noTask(id));
    return task;
  };

  app.get<{ Params: { id: string } }>('/v1/tasks/:id', async (req, reply) => {
    const task = await taskOrAnswer(req.params.id, reply);
    if (task) return reply.send(view(task));
    return reply;
  });

  app.get<{ Params: { id: string } }>('/v1/tasks/:id/events', async (req, reply) => {
    const task = await taskOrAnswer(req.params.id, reply);
    if (!task) return reply;
    reply.hijack();
    await follow(reply, task.id, parseLastEventId(req.headers['last-event-id']));
  });

  app.post('/v1/tasks/stream', async (req, reply) => {
    const task = await accept(req, reply);
    if (!task) return reply;
    reply.hijack();
    const { clientLeft } = await follow(reply, task.id, 0);
    if (!clientLeft) return;
    // The submitter that goes away cancels its task, on whichever worker holds it.
    const cancelled = failedResult(
      { correlation_id: task.correlationId, request: task.request },
      'TIMEOUT',
      'the caller cancelled the task',
    );
    await ledger.cancel(task.id, cancelled).catch((err: unknown) =>
      audit?.record({
        event: 'service.cancel_failed',
        correlationId: task.correlationId,
        stage: 'service',
        taskId: task.id,
        error: BastionError.from(err, 'SANDBOX_UNAVAILABLE').toInfo(),
      }),
    );
  });

  async function untilFinished(id: string, req: FastifyRequest): Promise<DurableTask | undefined> {
    for (;;) {
      // The socket, not the request: a request stream is destroyed once its body was read, which
      // made ?wait=true answer 202 at once; a caller that hung up closes the socket.
      if (req.raw.socket?.destroyed ?? req.raw.destroyed) return undefined;
      // A database that is away for a moment is waited out like a task that is not done yet.
      const task = await ledger.get(id).catch(() => undefined);
      if (task?.result) return task;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** SSE from the ledger: replay after Last-Event-ID, then new events as they are committed, until the result. */
  async function follow(reply: FastifyReply, id: string, lastEventId: number): Promise<{ clientLeft: boolean }> {
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'close',
      'x-accel-buffering': 'no',
      'x-task-id': id,
    });
    res.flushHeaders();
    let left = false;
    res.on('close', () => {
      left = true;
    });
    const heartbeat = setInterval(() => {
      if (!res.writableEnded && !res.destroyed) res.write(`: heartbeat ${new Date().toISOString()}\n\n`);
    }, o.heartbeatMs);
    heartbeat.unref();
    let last = lastEventId;
    try {
      for (;;) {
        let events: LedgerEvent[] = [];
        try {
          events = await ledger.eventsSince(id, last);
        } catch (err) {
          // The database is away: the follower keeps its stream and gets the events once it is back.
          audit?.record({
            event: 'service.follow_retry',
            correlationId: '-',
            stage: 'service',
            taskId: id,
            error: BastionError.from(err, 'SANDBOX_UNAVAILABLE').toInfo(),
          });
        }
        for (const e of events) {
          if (left) break;
          res.write(`id: ${e.seq}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
          last = e.seq;
          if (e.event === 'result') {
            res.end();
            return { clientLeft: false };
          }
        }
        if (left) return { clientLeft: true };
        if (events.length === 0) await new Promise((r) => setTimeout(r, pollMs));
      }
    } finally {
      clearInterval(heartbeat);
      if (!res.writableEnded) res.end();
    }
  }
}

function view(task: DurableTask) {
  return {
    id: task.id,
    correlationId: task.correlationId,
    state: task.state,
    createdAt: task.createdAt,
    ...(task.finishedAt ? { finishedAt: task.finishedAt } : {}),
    ...(task.result ? { result: task.result as AgentResult } : {}),
  };
}

function ledgerDown(reply: FastifyReply, err: unknown) {
  const error = BastionError.isInstance(err)
    ? err
    : new BastionError(
        'SANDBOX_UNAVAILABLE',
        'the task database is unavailable: the task was not accepted; retry after Retry-After (send the same Idempotency-Key so it is accepted once)',
        { cause: err, retryable: true },
      );
  return reply.code(503).header('retry-after', '5').send({ error: error.toInfo() });
}
