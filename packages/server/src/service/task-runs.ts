import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { BastionError } from '@bastion/core';
import { notRunResult, type AgentResult } from '@bastion/providers';
import type { AuditLog, RouteOptions, Router } from '@bastion/agent-runtime';
import type { Metrics } from '../metrics/metrics';
import type { TaskRequest } from './task-request';
import { TaskEventLog } from './task-event-log';
import { TaskStore, type TaskRecord } from './task-store';
import { taskView } from './service-replies';

export interface TaskRunsOptions {
  router: Pick<Router, 'route'>;
  metrics: Pick<Metrics, 'setInFlight'>;
  audit?: Pick<AuditLog, 'record'>;
  /** Finished tasks kept for GET /v1/tasks/:id. Default 1000. */
  taskHistory?: number;
  /** Output kept per task for late or resuming followers. Default 1 MiB. */
  eventOutputBytes?: number;
}

interface Running {
  promise: Promise<AgentResult>;
  abort: AbortController;
}

/** The caller's X-Correlation-Id when it is a plain token, else a fresh one. */
export function correlationIdOf(req: Pick<FastifyRequest, 'headers'>): string {
  const header = req.headers['x-correlation-id'];
  return typeof header === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(header) ? header : randomUUID();
}

/**
 * The service's in-process tasks: the store of recent tasks, the ones running now (each with its
 * abort), and whether the service is draining. A task is accepted (record + `accepted` event),
 * started on the router, and finished exactly once whatever the router does.
 */
export class TaskRuns {
  readonly tasks: TaskStore;
  private readonly running = new Map<string, Running>();
  private drainingNow = false;

  constructor(private readonly options: TaskRunsOptions) {
    this.tasks = new TaskStore(options.taskHistory ?? 1000);
  }

  get inFlight(): number {
    return this.running.size;
  }

  get draining(): boolean {
    return this.drainingNow;
  }

  get(id: string): TaskRecord | undefined {
    return this.tasks.get(id);
  }

  accept(req: Pick<FastifyRequest, 'headers'>, task: TaskRequest): TaskRecord {
    const correlationId = correlationIdOf(req);
    const record: TaskRecord = {
      id: randomUUID(),
      correlationId,
      state: 'running',
      createdAt: new Date().toISOString(),
      events: new TaskEventLog({ maxOutputBytes: this.options.eventOutputBytes }),
    };
    this.tasks.add(record);
    record.events.push('accepted', taskView(record));
    this.options.audit?.record({
      event: 'service.accepted',
      correlationId,
      stage: 'service',
      taskId: record.id,
      intent: task.intent,
      provider: task.provider ?? null,
    });
    return record;
  }

  start(record: TaskRecord, request: TaskRequest): Running {
    const { router, metrics, audit } = this.options;
    const abort = new AbortController();
    const { provider, ...task } = request;
    // Output events are the sanitizer's streaming output of the call, as the pipeline hands it on.
    const hooks: Pick<RouteOptions, 'onRouted' | 'onOutput'> = {
      onRouted: (info) => record.events.push('routed', info),
      onOutput: (stream, text) => record.events.output(stream, text),
    };
    const promise = router
      .route(task, {
        correlationId: record.correlationId,
        signal: abort.signal,
        ...(provider ? { provider } : {}),
        ...hooks,
      })
      .catch((err: unknown) => this.internalFailure(record, provider, err))
      .then((result) => {
        this.tasks.finish(record.id, result);
        record.events.finish(result);
        audit?.record({
          event: 'service.finished',
          correlationId: record.correlationId,
          stage: 'service',
          taskId: record.id,
          status: result.status,
          provider: result.provider,
        });
        return result;
      })
      .finally(() => {
        this.running.delete(record.id);
        metrics.setInFlight(this.running.size);
      });
    const run = { promise, abort };
    this.running.set(record.id, run);
    metrics.setInFlight(this.running.size);
    return run;
  }

  /**
   * Stops new tasks (admission sees `draining`), waits up to `timeoutMs` for the running ones,
   * then aborts the rest and waits for them to settle.
   */
  async drain(timeoutMs: number): Promise<void> {
    const { audit } = this.options;
    this.drainingNow = true;
    audit?.record({ event: 'service.draining', correlationId: '-', stage: 'service', inFlight: this.running.size });
    const drained = Promise.allSettled([...this.running.values()].map((r) => r.promise));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      drained.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      audit?.record({
        event: 'service.drain_timeout',
        correlationId: '-',
        stage: 'service',
        aborted: this.running.size,
      });
      for (const r of this.running.values()) r.abort.abort();
      await drained;
    }
  }

  private internalFailure(record: TaskRecord, provider: string | undefined, err: unknown): AgentResult {
    const error = BastionError.from(err, 'INTERNAL', 'the router failed unexpectedly');
    this.options.audit?.record({
      event: 'service.internal_error',
      correlationId: record.correlationId,
      stage: 'service',
      error: error.toInfo(),
    });
    return notRunResult({
      provider: provider ?? 'none',
      correlationId: record.correlationId,
      status: 'failed',
      error: { code: 'INTERNAL', message: 'the router failed unexpectedly', retryable: false },
    });
  }
}
