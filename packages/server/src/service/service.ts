import Fastify, { type FastifyInstance } from 'fastify';
import type { AuditLog, FlagService, Router, Runtime } from '@bastion/agent-runtime';
import type { Metrics } from '../metrics/metrics';
import type { TaskLedger } from '../tasks/task-ledger';
import { createBearerCheck, readTokenFile } from './bearer-auth';
import { registerDurableTaskRoutes } from './durable-task-routes';
import { registerHealthRoutes, type ReadinessCheck } from './health-routes';
import { registerServiceHooks } from './service-hooks';
import { invalid, noTask, notFound } from './service-replies';
import { TaskAdmission } from './task-admission';
import type { TaskWorkspaceAccess } from './task-request';
import { registerTaskRoutes } from './task-routes';
import { TaskRuns, correlationIdOf } from './task-runs';

export type { ReadinessCheck };

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
 * The HTTP API of `bastion serve` on fastify. Every route except /healthz, /readyz and
 * /openapi.json needs the bearer token; bodies are parsed by the same zod schemas as the CLI and
 * MCP; the router does the work, so a task over HTTP gets exactly the policy, sandbox and
 * sanitizer of a CLI call. Backpressure is HTTP: a full service is 429 with Retry-After, a
 * draining one 503.
 *
 * The parts: service-hooks (auth, metrics, errors), health-routes, TaskAdmission, TaskRuns (the
 * in-process tasks and the drain), task-routes or durable-task-routes; this function wires them,
 * listens and owns close().
 */
export async function createService(options: ServiceOptions): Promise<StartedService> {
  const token = await readTokenFile(options.tokenFile);
  const { router, metrics, audit } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const runs = new TaskRuns({
    router,
    metrics,
    ...(audit ? { audit } : {}),
    ...(options.taskHistory !== undefined ? { taskHistory: options.taskHistory } : {}),
    ...(options.eventOutputBytes !== undefined ? { eventOutputBytes: options.eventOutputBytes } : {}),
  });
  const { admit } = new TaskAdmission({
    router,
    state: runs,
    maxInFlight: options.maxInFlight ?? 64,
    durable: options.durable !== undefined,
    ...(options.workspaceAccess ? { workspaceAccess: options.workspaceAccess } : {}),
    ...(audit ? { audit } : {}),
  });

  const app = Fastify({
    logger: options.jsonLogs ? { level: 'info', redact: ['req.headers.authorization'] } : false,
    bodyLimit: options.bodyLimitBytes ?? 2 * 1024 * 1024,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  registerServiceHooks(app, { authorized: createBearerCheck(token), metrics, ...(audit ? { audit } : {}) });
  registerHealthRoutes(app, {
    router,
    metrics,
    state: runs,
    ...(options.readiness ? { readiness: options.readiness } : {}),
    ...(options.durable ? { ledger: options.durable.ledger } : {}),
    ...(options.version !== undefined ? { version: options.version } : {}),
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
  } else registerTaskRoutes(app, { runs, admit, heartbeatMs });

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
      await runs.drain(options.drainTimeoutMs ?? 30_000);
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
      return runs.inFlight;
    },
    get draining() {
      return runs.draining;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
