import type { FastifyInstance } from 'fastify';
import type { Router } from '@bastion/agent-runtime';
import type { Metrics } from '../metrics/metrics';
import type { TaskLedger } from '../tasks/task-ledger';
import { openApiDocument } from './openapi-document';

export interface ReadinessCheck {
  (): Promise<{ ready: boolean; reason?: string }>;
}

export interface HealthRoutesOptions {
  router: Pick<Router, 'health' | 'providerIds'>;
  metrics: Pick<Metrics, 'setInFlight' | 'render' | 'contentType'>;
  /** The service's own state, read at each probe. */
  state: { readonly draining: boolean; readonly inFlight: number };
  /** Is the sandbox engine reachable? /readyz answers 503 when not. */
  readiness?: ReadinessCheck;
  /** With durable tasks, /readyz is 503 while the task database does not answer. */
  ledger?: Pick<TaskLedger, 'ping'>;
  version?: string;
}

/** /healthz (alive), /readyz (can take tasks now), /openapi.json and /metrics. */
export function registerHealthRoutes(app: FastifyInstance, options: HealthRoutesOptions): void {
  const { router, metrics, state } = options;
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (state.draining) return reply.code(503).send({ ready: false, reason: 'draining' });
    const check = options.readiness
      ? await options.readiness().catch((err: unknown) => ({ ready: false, reason: (err as Error).message }))
      : { ready: true };
    if (check.ready && options.ledger) {
      const down = await options.ledger.ping().then(
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
    metrics.setInFlight(state.inFlight);
    return reply.header('content-type', metrics.contentType).send(await metrics.render());
  });
}
