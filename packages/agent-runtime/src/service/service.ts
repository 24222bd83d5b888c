import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { BastionError } from '@bastion/core';
import { notRunResult, type AgentResult } from '@bastion/providers';
import type { AuditLog } from '../audit/audit-log';
import type { FlagService } from '../flags/flag-service';
import type { Metrics } from '../metrics/metrics';
import type { Router, RouteOptions } from '../router/router';
import type { Runtime } from '../runtime';
import { createBearerCheck, readTokenFile } from './bearer-auth';
import { TaskQuery, TaskRequest, admitTaskRequest, problemsOf, type Problem, type TaskWorkspaceAccess } from './task-request';
import { TaskStore, type TaskRecord } from './task-store';

export interface ReadinessCheck {
  (): Promise<{ ready: boolean; reason?: string }>;
}

export interface ServiceOptions {
  router: Pick<Router, 'route' | 'health'>;
  metrics: Metrics;
  /** File holding the bearer token; required: the API never runs unauthenticated. */
  tokenFile: string;
  /** Closed after the drain, so no container outlives the service. */
  runtime?: Pick<Runtime, 'close'>;
  flags?: FlagService;
  audit?: AuditLog;
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

const PUBLIC_PATHS = new Set(['/healthz', '/readyz']);

/**
 * The HTTP API of `bastion serve` on fastify. Every route except /healthz and /readyz needs the
 * bearer token; bodies are parsed by the same zod schemas as the CLI and MCP; the router does the
 * work, so a task over HTTP gets exactly the policy, sandbox and sanitizer of a CLI call.
 */
export async function createService(options: ServiceOptions): Promise<StartedService> {
  const token = await readTokenFile(options.tokenFile);
  const authorized = createBearerCheck(token);
  const { router, metrics, audit } = options;
  const tasks = new TaskStore(options.taskHistory ?? 1000);
  const running = new Map<string, { promise: Promise<AgentResult>; abort: AbortController }>();
  let draining = false;

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
      audit?.record({ event: 'service.unauthorized', correlationId: '-', stage: 'service', method: req.method, path, remote: req.ip });
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="bastion"')
        .send({ error: { code: 'AUTH_FAILED', message: 'a valid bearer token is required', retryable: false } });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    const startedAt = (req as FastifyRequest & { startedAt?: number }).startedAt ?? performance.now();
    metrics.recordHttp(req.routeOptions.url ?? 'unmatched', req.method, reply.statusCode, performance.now() - startedAt);
  });
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status < 500) return reply.code(status).send({ error: { code: 'INVALID_INPUT', message: err.message, retryable: false, problems: [{ path: '', message: err.message }] } });
    const error = BastionError.from(err, 'INTERNAL', 'internal error');
    return reply.code(500).send({ error: error.toInfo() });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: { code: 'INVALID_INPUT', message: 'no such route', retryable: false } }));

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (draining) return reply.code(503).send({ ready: false, reason: 'draining' });
    const check = options.readiness ? await options.readiness().catch((err: unknown) => ({ ready: false, reason: (err as Error).message })) : { ready: true };
    return reply.code(check.ready ? 200 : 503).send({ ready: check.ready, ...(check.reason ? { reason: check.reason } : {}), providers: router.health() });
  });
  app.get('/metrics', async (_req, reply) => {
    metrics.setInFlight(running.size);
    return reply.header('content-type', metrics.contentType).send(await metrics.render());
  });

  app.post('/v1/tasks', async (req, reply) => {
    const query = TaskQuery.safeParse(req.query ?? {});
    if (!query.success) return invalid(reply, problemsOf(query.error));
    const body = TaskRequest.safeParse(req.body);
    if (!body.success) return invalid(reply, problemsOf(body.error));
    if (draining) return unavailable(reply);
    const admitted = await admitTaskRequest(body.data, options.workspaceAccess);
    if (!admitted.ok) return refused(req, reply, admitted.error);
    const record = accept(req, admitted.request);
    const { promise } = start(record, admitted.request);
    if (query.data.wait === 'true' || query.data.wait === '1') {
      const result = await promise;
      return reply.code(200).header('x-task-id', record.id).send(result);
    }
    return reply.code(202).header('location', `/v1/tasks/${record.id}`).send(view(record));
  });

  app.get<{ Params: { id: string } }>('/v1/tasks/:id', async (req, reply) => {
    const record = tasks.get(req.params.id);
    if (!record) return reply.code(404).send({ error: { code: 'INVALID_INPUT', message: `no task ${req.params.id.slice(0, 64)}`, retryable: false } });
    return reply.send(view(record));
  });

  app.post('/v1/tasks/stream', async (req, reply) => {
    const body = TaskRequest.safeParse(req.body);
    if (!body.success) return invalid(reply, problemsOf(body.error));
    if (draining) return unavailable(reply);
    const admitted = await admitTaskRequest(body.data, options.workspaceAccess);
    if (!admitted.ok) return refused(req, reply, admitted.error);
    const record = accept(req, admitted.request);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-task-id': record.id });
    sse(res, 'accepted', view(record));
    const { promise, abort } = start(record, admitted.request, {
      onRouted: (info) => sse(res, 'routed', info),
      onOutput: (stream, text) => sse(res, 'output', { stream, text }),
    });
    // A client that goes away cancels its task: nothing should keep running for nobody.
    const onClose = () => {
      if (!res.writableFinished) abort.abort();
    };
    res.on('close', onClose);
    const result = await promise;
    res.off('close', onClose);
    sse(res, 'result', result);
    res.end();
  });

  // Refused before a task record exists: nothing was copied, mounted or run.
  function refused(req: FastifyRequest, reply: FastifyReply, error: BastionError) {
    audit?.record({ event: 'service.workspace_refused', correlationId: '-', stage: 'service', remote: req.ip, error: error.toInfo() });
    return reply.code(400).send({ error: error.toInfo() });
  }

  function accept(req: FastifyRequest, task: TaskRequest): TaskRecord {
    const header = req.headers['x-correlation-id'];
    const correlationId = typeof header === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(header) ? header : randomUUID();
    const record: TaskRecord = { id: randomUUID(), correlationId, state: 'running', createdAt: new Date().toISOString() };
    tasks.add(record);
    audit?.record({ event: 'service.accepted', correlationId, stage: 'service', taskId: record.id, intent: task.intent, provider: task.provider ?? null });
    return record;
  }

  function start(record: TaskRecord, request: TaskRequest, hooks: Pick<RouteOptions, 'onRouted' | 'onOutput'> = {}) {
    const abort = new AbortController();
    const { provider, ...task } = request;
    const promise = router
      .route(task, { correlationId: record.correlationId, signal: abort.signal, ...(provider ? { provider } : {}), ...hooks })
      .catch((err: unknown) => internalFailure(record, provider, err))
      .then((result) => {
        tasks.finish(record.id, result);
        audit?.record({ event: 'service.finished', correlationId: record.correlationId, stage: 'service', taskId: record.id, status: result.status, provider: result.provider });
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
    audit?.record({ event: 'service.internal_error', correlationId: record.correlationId, stage: 'service', error: error.toInfo() });
    return notRunResult({
      provider: provider ?? 'none',
      correlationId: record.correlationId,
      status: 'failed',
      error: { code: 'INTERNAL', message: 'the router failed unexpectedly', retryable: false },
    });
  }

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8787 });
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

function invalid(reply: FastifyReply, problems: Problem[]) {
  return reply.code(400).send({ error: { code: 'INVALID_INPUT', message: `invalid request: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`, retryable: false, problems } });
}

function unavailable(reply: FastifyReply) {
  return reply
    .code(503)
    .header('retry-after', '5')
    .send({ error: { code: 'SANDBOX_UNAVAILABLE', message: 'the service is draining; try another instance', retryable: true } });
}

function sse(res: ServerResponse, event: string, data: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}
