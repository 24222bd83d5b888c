import Fastify from 'fastify';
import type { ProviderHealth } from '@bastion/agent-runtime';
import { createMetrics } from '../metrics/metrics';
import { registerHealthRoutes, type HealthRoutesOptions } from './health-routes';
import { closeInjected, inject } from './test-support/inject-over-http';

const health: ProviderHealth[] = [
  { id: 'gemini-cli', breaker: 'closed', coolingDownForMs: 0, inFlight: 0, queued: 0, maxConcurrent: 2, maxQueue: 4 },
];

function appWith(overrides: Partial<HealthRoutesOptions> = {}) {
  const state = { draining: false, inFlight: 0 };
  const app = Fastify();
  registerHealthRoutes(app, {
    router: { health: () => health, providerIds: ['gemini-cli'] },
    metrics: createMetrics(),
    state,
    ...overrides,
  });
  return { app, state };
}

afterEach(closeInjected);

describe('health routes', () => {
  it('/healthz is ok and /readyz is ready with the providers when nothing says otherwise', async () => {
    const { app } = appWith();
    expect((await inject(app, '/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await inject(app, '/readyz');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ ready: true, providers: health });
  });

  it('/readyz is 503 "draining" as soon as the service state says so, without asking the engine', async () => {
    let asked = 0;
    const { app, state } = appWith({ readiness: async () => (asked++, { ready: true }) });
    state.draining = true;
    const res = await inject(app, '/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ ready: false, reason: 'draining' });
    expect(asked).toBe(0);
  });

  it('/readyz is 503 with the reason when the engine check fails or throws', async () => {
    const down = appWith({ readiness: async () => ({ ready: false, reason: 'docker is not reachable' }) });
    const res = await inject(down.app, '/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ ready: false, reason: 'docker is not reachable' });
    const throwing = appWith({ readiness: () => Promise.reject(new Error('socket hang up')) });
    expect((await inject(throwing.app, '/readyz')).json()).toMatchObject({ ready: false, reason: 'socket hang up' });
  });

  it('/readyz names the unreachable task database by its error code when tasks are durable', async () => {
    const { app } = appWith({
      ledger: { ping: () => Promise.reject(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })) },
    });
    const res = await inject(app, '/readyz');
    expect(res.statusCode).toBe(503);
    expect(res.json().reason).toMatch(/task database is unreachable \(ECONNREFUSED\)/);
  });

  it('/metrics reports the in-flight count read from the state at scrape time', async () => {
    const { app, state } = appWith();
    state.inFlight = 3;
    const res = await inject(app, '/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/^bastion_tasks_in_flight 3$/m);
  });

  it('/openapi.json names the router providers and the given version', async () => {
    const { app } = appWith({ version: '9.9.9' });
    const doc = (await inject(app, '/openapi.json')).json();
    expect(doc.info.version).toBe('9.9.9');
    expect(JSON.stringify(doc)).toContain('gemini-cli');
  });
});
