import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { followTaskEvents, parseLastEventId } from './event-stream';
import { busy, bulkheadWait, invalid, noTask, notFound, taskView } from './service-replies';
import { TaskQuery, problemsOf, type TaskRequest } from './task-request';
import type { TaskRuns } from './task-runs';

export interface TaskRoutesOptions {
  runs: TaskRuns;
  /** On refusal the reply is sent and null returned (TaskAdmission.admit). */
  admit(req: FastifyRequest, reply: FastifyReply): Promise<TaskRequest | null>;
  /** Heartbeat comment interval of event streams. */
  heartbeatMs: number;
}

/** The in-process task routes: submit (async or ?wait), look up, follow, and submit-and-stream. */
export function registerTaskRoutes(app: FastifyInstance, options: TaskRoutesOptions): void {
  const { runs, admit, heartbeatMs } = options;

  app.post('/v1/tasks', async (req, reply) => {
    const query = TaskQuery.safeParse(req.query ?? {});
    if (!query.success) return invalid(reply, problemsOf(query.error));
    const admitted = await admit(req, reply);
    if (!admitted) return reply;
    const record = runs.accept(req, admitted);
    const { promise } = runs.start(record, admitted);
    if (query.data.wait === 'true' || query.data.wait === '1') {
      const result = await promise;
      const wait = bulkheadWait(result);
      if (wait !== undefined) return busy(reply, wait, result.error?.message ?? 'every provider slot is taken');
      return reply.code(200).header('x-task-id', record.id).send(result);
    }
    return reply.code(202).header('location', `/v1/tasks/${record.id}`).send(taskView(record));
  });

  app.get<{ Params: { id: string } }>('/v1/tasks/:id', async (req, reply) => {
    const record = runs.get(req.params.id);
    if (!record) return notFound(reply, noTask(req.params.id));
    return reply.send(taskView(record));
  });

  // Following does not own the task: a follower that leaves cancels nothing.
  app.get<{ Params: { id: string } }>('/v1/tasks/:id/events', async (req, reply) => {
    const record = runs.get(req.params.id);
    if (!record) return notFound(reply, noTask(req.params.id));
    reply.hijack();
    await followTaskEvents(reply.raw, record.events, {
      lastEventId: parseLastEventId(req.headers['last-event-id']),
      heartbeatMs,
      headers: { 'x-task-id': record.id },
    });
  });

  app.post('/v1/tasks/stream', async (req, reply) => {
    const admitted = await admit(req, reply);
    if (!admitted) return reply;
    const record = runs.accept(req, admitted);
    const { abort } = runs.start(record, admitted);
    reply.hijack();
    const { clientLeft } = await followTaskEvents(reply.raw, record.events, {
      lastEventId: 0,
      heartbeatMs,
      headers: { 'x-task-id': record.id },
    });
    // The submitter that goes away cancels its task: nothing should keep running for nobody.
    if (clientLeft) abort.abort();
  });
}
