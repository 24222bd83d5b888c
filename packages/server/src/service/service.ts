import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { BastionError } from '@bastion/core';
import { notRunResult, type AgentResult } from '@bastion/providers';
import type { AuditLog, FlagService, Router, RouteOptions, Runtime } from '@bastion/agent-runtime';
import type { Metrics } from '../metrics/metrics';
import { createBearerCheck, readTokenFile } from './bearer-auth';
import { followTaskEvents, parseLastEventId } from './event-stream';
import { capacityMessage, capacityWaitMs } from './provider-capacity';
import { openApiDocument } from './openapi-document';
import {
  TaskQuery,
  admitTaskRequest,
  problemsOf,
  taskRequestFor,
  type Problem,
  type TaskRequest,
  type TaskWorkspaceAccess,
} from './task-request';
import { TaskEventLog } from './task-event-log';
import { TaskStore, type TaskRecord } from './task-store';
import { registerDurableTaskRoutes } from './durable-task-routes';
import type { TaskLedger } from '../tasks/task-ledger';

export interface ReadinessCheck {
  (): Promise<{ ready: boolean; reason?: string }>;
}

export interface ServiceOptions {
  router: Pick<Router, 'route' | 'health' | 'providerIds'>;
  metrics: Metrics;
  /** File holding the bearer token; required: the API never runs unauthenticated. */
  tokenFile: string;
  /** Closed after the drain, so no container outlives the service. */
  runtime?: Pick<Runtime, 'close'>;
  flags?: FlagService;
  audit?: Pick<AuditLog, 'record'>;
  host?: string;
  /** 0 picks a free port (tests, benchmarks). Default 8787. */
  port?: number;
  /** Is the sandbox engine reachable? /readyz answers 503 when not, or while draining. */
  readiness?: ReadinessCheck;
  /** Fastify request logging as JSON lines on stderr. */
  jsonLogs?: boolean;
  /** How long close() waits for in-flight calls before aborting them. Default 30 s. */
  drainTimeoutMs?: number;
  /** Finished tasks kept for GET /v1/tasks/:id. Default 1000. */
  taskHistory?: number;
  bodyLimitBytes?: number;
  /** Which workspaces callers may name (roots, never /etc, ...); absent: none, so a task naming one is refused. */
  workspaceAccess?: TaskWorkspaceAccess;
  /** Tasks accepted and not finished at once; the next is answered 429 with Retry-After. Default 64. */
  maxInFlight?: number;
  /** Heartbeat comment interval of event streams. Default 15 s. */
  heartbeatMs?: number;
  /** Output kept per task for late or resuming followers. Default 1 MiB. */
  eventOutputBytes?: number;
  /** Version in /openapi.json. */
  version?: string;
  /**
   * Tasks live in this ledger (`--database`): committed before the 202, run by workers, answered
   * and replayed from any instance. Absent: tasks run in this process and live in memory.
   */
  durable?: { ledger: TaskLedger; onAccepted?: () => void; maxAttempts?: number; maxQueued?: number };
}

/** A listening service. close() drains, then stops; it is the only way to end it. */
export interface StartedService extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly server: FastifyInstance;
  readonly inFlight: number;
  readonly draining: boolean;
  close(): Promise<void>;
}

/**
 * /openapi.json is public like the probes: it holds the shapes of the API (the same facts as
 * docs/http-api.md; /readyz already names the providers), nothing of any call, and client
 * generators and API gateways fetch it before they hold a token.
 */
const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/openapi.json']);

const ROUTES =
  'POST /v1/tasks, POST /v1/tasks/stream, GET /v1/tasks/{id}, GET /v1/tasks/{id}/events, GET /healthz, /readyz, /metrics, /openapi.json';

/**
 * The HTTP API of `bastion serve` on fastify. Every route except /healthz, /readyz and
 * /openapi.json needs the bearer token; bodies are parsed by the same zod schemas as the CLI and
 * MCP; the router does the work, so a task over HTTP gets exactly the policy, sandbox and
 * sanitizer of a CLI call. Backpressure is HTTP: a full service is 429 with Retry-After, a
 * draining one 503.
 */
export async function createService(options: ServiceOptions): Promise<StartedService> {
  const token = await readTokenFile(options.tokenFile);
  const authorized = createBearerCheck(token);
  const { router, metrics, audit } = options;
  const tasks = new TaskStore(options.taskHistory ?? 1000);
  const running = new Map<string, { promise: Promise<AgentResult>; abort: AbortController }>();
  let draining = false;
  const maxInFlight = options.maxInFlight ?? 64;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const TaskBody = taskRequestFor(router.providerIds);

  const app = Fastify({
    logger: options.jsonLogs ? { level: 'info', redact: ['req.headers.authorization'] } : false,
    bodyLimit: options.bodyLimitBytes ?? 2 * 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  app.addHook('onRequest', async (req, reply) => {
    (req as FastifyRequest & { startedAt?: number }).startedAt = performance.now();
    const path = req.url.split('?')[0];
    if (PUBLIC_PATHS.has(path)) return;
    if (!authorized(req.headers.authorization)) {
      audit?.record({
        event: 'service.unauthorized',
        correlationId: '-',
        stage: 'service',
        method: req.method,
        path,
        remote: req.ip,
      });
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="bastion"')
        .send({ error: { code: 'AUTH_FAILED', message: 'a valid bearer token is required', retryable: false } });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    const startedAt = (req as FastifyRequest & { startedAt?: number }).startedAt ?? performance.now();
    metrics.recordHttp(
      req.routeOptions.url ?? 'unmatched',
      req.method,
      reply.statusCode,
      performance.now() - startedAt,
    );
  });
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status < 500)
      return reply.code(status).send({
        error: {
          code: 'INVALID_INPUT',
          message: err.message,
          retryable: false,
          problems: [{ path: '', message: err.message }],
        },
      });
    const error = BastionError.from(err, 'INTERNAL', 'internal error');
    return reply.code(500).send({ error: error.toInfo() });
  });
  app.setNotFoundHandler((req, reply) =>
    notFound(
      reply,
      `no route ${req.method} ${req.url.split('?')[0].slice(0, 200)}; the routes are ${ROUTES} (schema at /openapi.json)`,
    ),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (draining) return reply.code(503).send({ ready: false, reason: 'draining' });
    const check = options.readiness
      ? await options.readiness().catch((err: unknown) => ({ ready: false, reason: (err as Error).message }))
      : { ready: true };
    if (check.ready && options.durable) {
      const down = await options.durable.ledger.ping().then(
        () => undefined,
        (err: unknown) =>
          `the task database is unreachable (${(err as { code?: string }).code ?? 'no answer'}): tasks cannot be accepted until it is back`,
      );
      if (down) return reply.code(503).send({ ready: false, reason: down, providers: router.health() });
    }
    return reply
      .code(check.ready ? 200 : 503)
      .send({ ready: check.ready, ...(check.reason ? { reason: check.reason } : {}), providers: router.health() });
  });
  let openapi: Record<string, unknown> | undefined;
  app.get(
    '/openapi.json',
    async () => (openapi ??= openApiDocument({ providerIds: router.providerIds, version: options.version ?? '0.1.0' })),
  );
  app.get('/metrics', async (_req, reply) => {
    metrics.setInFlight(running.size);
    return reply.header('content-type', metrics.contentType).send(await metrics.render());
  });

  if (options.durable) {
    registerDurableTaskRoutes(app, {
      ledger: options.durable.ledger,
      admit,
      correlationIdOf,
      heartbeatMs,
      ...(options.durable.onAccepted ? { onAccepted: options.durable.onAccepted } : {}),
      ...(options.durable.maxAttempts ? { maxAttempts: options.durable.maxAttempts } : {}),
      ...(options.durable.maxQueued ? { maxQueued: options.durable.maxQueued } : {}),
      ...(audit ? { audit } : {}),
      invalid,
      notFound,
      noTask,
    });
  } else registerInMemoryTaskRoutes();

  function registerInMemoryTaskRoutes() {
    app.post('/v1/tasks', async (req, reply) => {
      const query = TaskQuery.safeParse(req.query ?? {});
      if (!query.success) return invalid(reply, problemsOf(query.error));
      const admitted = await admit(req, reply);
      if (!admitted) return reply;
      const record = accept(req, admitted);
      const { promise } = start(record, admitted);
      if (query.data.wait === 'true' || query.data.wait === '1') {
        const result = await promise;
        const wait = bulkheadWait(result);
        if (wait !== undefined) return busy(reply, wait, result.error?.message ?? 'every provider slot is taken');
        return reply.code(200).header('x-task-id', record.id).send(result);
      }
      return reply.code(202).header('location', `/v1/tasks/${record.id}`).send(view(record));
    });

    app.get<{ Params: { id: string } }>('/v1/tasks/:id', async (req, reply) => {
      const record = tasks.get(req.params.id);
      if (!record) return notFound(reply, noTask(req.params.id));
      return reply.send(view(record));
    });

    // Following does not own the task: a follower that leaves cancels nothing.
    app.get<{ Params: { id: string } }>('/v1/tasks/:id/events', async (req, reply) => {
      const record = tasks.get(req.params.id);
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
      const record = accept(req, admitted);
      const { abort } = start(record, admitted);
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

  /** Body, draining, capacity and workspace, in that order; on refusal the reply is sent and null returned. */
  async function admit(req: FastifyRequest, reply: FastifyReply): Promise<TaskRequest | null> {
    const body = TaskBody.safeParse(req.body);
    if (!body.success) {
      invalid(reply, problemsOf(body.error));
      return null;
    }
    if (draining) {
      unavailable(reply);
      return null;
    }
    if (!options.durable && running.size >= maxInFlight) {
      audit?.record({
        event: 'service.busy',
        correlationId: '-',
        stage: 'service',
        inFlight: running.size,
        maxInFlight,
      });
      busy(reply, 1_000, `${running.size} tasks are running, the most this service takes at once`);
      return null;
    }
    const full = options.durable ? undefined : capacityWaitMs(router.health(), body.data.provider);
    if (full !== undefined) {
      audit?.record({ event: 'service.busy', correlationId: '-', stage: 'service', reason: 'bulkhead_full' });
      busy(reply, full, capacityMessage(router.health(), body.data.provider));
      return null;
    }
    const admitted = await admitTaskRequest(body.data as TaskRequest, options.workspaceAccess);
    if (!admitted.ok) {
      refused(req, reply, admitted.error);
      return null;
    }
    return admitted.request;
  }

  // Refused before a task record exists: nothing was copied, mounted or run.
  function refused(req: FastifyRequest, reply: FastifyReply, error: BastionError) {
    audit?.record({
      event: 'service.workspace_refused',
      correlationId: '-',
      stage: 'service',
      remote: req.ip,
      error: error.toInfo(),
    });
    return reply.code(400).send({ error: error.toInfo() });
  }

  function correlationIdOf(req: FastifyRequest): string {
    const header = req.headers['x-correlation-id'];
    return typeof header === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(header) ? header : randomUUID();
  }

  function accept(req: FastifyRequest, task: TaskRequest): TaskRecord {
    const correlationId = correlationIdOf(req);
    const record: TaskRecord = {
      id: randomUUID(),
      correlationId,
      state: 'running',
      createdAt: new Date().toISOString(),
      events: new TaskEventLog({ maxOutputBytes: options.eventOutputBytes }),
    };
    tasks.add(record);
    record.events.push('accepted', view(record));
    audit?.record({
      event: 'service.accepted',
      correlationId,
      stage: 'service',
      taskId: record.id,
      intent: task.intent,
      provider: task.provider ?? null,
    });
    return record;
  }

  function start(record: TaskRecord, request: TaskRequest) {
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
      .catch((err: unknown) => internalFailure(record, provider, err))
      .then((result) => {
        tasks.finish(record.id, result);
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
        running.delete(record.id);
        metrics.setInFlight(running.size);
      });
    running.set(record.id, { promise, abort });
    metrics.setInFlight(running.size);
    return { promise, abort };
  }

  function internalFailure(record: TaskRecord, provider: string | undefined, err: unknown): AgentResult {
    const error = BastionError.from(err, 'INTERNAL', 'the router failed unexpectedly');
    audit?.record({
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

  try {
    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8787 });
  } catch (err) {
    // Nothing was accepted; the caller turns the cause (EADDRINUSE, ...) into its own message.
    await app.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 8787);
  const host = options.host ?? '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  audit?.record({ event: 'service.listening', correlationId: '-', stage: 'service', url });

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      draining = true;
      audit?.record({ event: 'service.draining', correlationId: '-', stage: 'service', inFlight: running.size });
      const pending = [...running.values()];
      const drained = Promise.allSettled(pending.map((r) => r.promise));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        drained.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), options.drainTimeoutMs ?? 30_000);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        audit?.record({ event: 'service.drain_timeout', correlationId: '-', stage: 'service', aborted: running.size });
        for (const r of running.values()) r.abort.abort();
        await drained;
      }
      await app.close();
      await options.runtime?.close();
      audit?.record({ event: 'service.closed', correlationId: '-', stage: 'service' });
    })();
    return closing;
  };

  return {
    url,
    port,
    server: app,
    get inFlight() {
      return running.size;
    },
    get draining() {
      return draining;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function view(record: TaskRecord) {
  return {
    id: record.id,
    correlationId: record.correlationId,
    state: record.state,
    createdAt: record.createdAt,
    ...(record.finishedAt ? { finishedAt: record.finishedAt } : {}),
    ...(record.result ? { result: record.result } : {}),
  };
}

function noTask(id: string): string {
  return `no task ${id.slice(0, 64)}: it never existed or was forgotten (the service keeps only the most recent tasks; submit it again)`;
}

function notFound(reply: FastifyReply, message: string) {
  return reply.code(404).send({ error: { code: 'NOT_FOUND', message, retryable: false } });
}

/** How long to wait when the router refused the task because every provider's bulkhead was full. */
function bulkheadWait(result: AgentResult): number | undefined {
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

function busy(reply: FastifyReply, waitMs: number, why: string) {
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

function invalid(reply: FastifyReply, problems: Problem[]) {
  return reply.code(400).send({
    error: {
      code: 'INVALID_INPUT',
      message: `invalid request: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`,
      retryable: false,
      problems,
    },
  });
}

function unavailable(reply: FastifyReply) {
  return reply
    .code(503)
    .header('retry-after', '5')
    .send({
      error: { code: 'SANDBOX_UNAVAILABLE', message: 'the service is draining; try another instance', retryable: true },
    });
}
