import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BastionError } from '@bastion/core';
import type { AuditLog } from '@bastion/agent-runtime';
import type { Metrics } from '../metrics/metrics';
import { notFound } from './service-replies';

/**
 * /openapi.json is public like the probes: it holds the shapes of the API (the same facts as
 * docs/http-api.md; /readyz already names the providers), nothing of any call, and client
 * generators and API gateways fetch it before they hold a token.
 */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/openapi.json']);

const ROUTES =
  'POST /v1/tasks, POST /v1/tasks/stream, GET /v1/tasks/{id}, GET /v1/tasks/{id}/events, GET /healthz, /readyz, /metrics, /openapi.json';

export interface ServiceHooksOptions {
  /** Does this Authorization header carry the service's bearer token? */
  authorized(header: string | undefined): boolean;
  metrics: Pick<Metrics, 'recordHttp'>;
  audit?: Pick<AuditLog, 'record'>;
}

type Timed = FastifyRequest & { startedAt?: number };

/**
 * What every route shares: the bearer check (all but PUBLIC_PATHS), request metrics, errors as
 * the API's error body, and a 404 that lists the routes.
 */
export function registerServiceHooks(app: FastifyInstance, options: ServiceHooksOptions): void {
  const { audit, metrics } = options;
  app.addHook('onRequest', async (req, reply) => {
    (req as Timed).startedAt = performance.now();
    const path = req.url.split('?')[0];
    if (PUBLIC_PATHS.has(path)) return;
    if (!options.authorized(req.headers.authorization)) {
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
    const startedAt = (req as Timed).startedAt ?? performance.now();
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
}
