import Fastify from 'fastify';
import type { AgentResult } from '@bastion/providers';
import type { ProviderHealth, RouteOptions } from '@bastion/agent-runtime';
import { succeededResult } from '@bastion/agent-runtime/test-support';
import { TaskAdmission } from './task-admission';
import { registerTaskRoutes } from './task-routes';
import { TaskRuns } from './task-runs';
import { closeInjected, inject } from './test-support/inject-over-http';

function appWith(result: (options: RouteOptions) => AgentResult, maxInFlight = 4, health: ProviderHealth[] = []) {
  const calls: RouteOptions[] = [];
  const router = {
    providerIds: ['gemini-cli'],
    health: () => health,
    route: async (_task: unknown, options: RouteOptions = {}) => (calls.push(options), result(options)),
  };
  const runs = new TaskRuns({ router, metrics: { setInFlight: () => undefined } });
  const { admit } = new TaskAdmission({ router, state: runs, maxInFlight, durable: false });
  const app = Fastify();
  registerTaskRoutes(app, { runs, admit, heartbeatMs: 15_000 });
  return { app, runs, calls };
}
const ok = (o: RouteOptions) => succeededResult('gemini-cli', o.correlationId ?? '-');

afterEach(closeInjected);

describe('task routes', () => {
  it('POST /v1/tasks answers 202 with a Location whose GET shows the finished task', async () => {
    const { app } = appWith(ok);
    const res = await inject(app, { method: 'POST', url: '/v1/tasks', payload: { prompt: 'explain' } });
    expect(res.statusCode).toBe(202);
    const location = res.headers.location as string;
    expect(location).toBe(`/v1/tasks/${res.json().id}`);
    await new Promise((r) => setImmediate(r));
    expect((await inject(app, location)).json()).toMatchObject({ state: 'succeeded', result: { status: 'succeeded' } });
  });

  it('POST /v1/tasks?wait=true answers 200 with the result and the task id', async () => {
    const { app, calls } = appWith(ok);
    const res = await inject(app, {
      method: 'POST',
      url: '/v1/tasks?wait=true',
      payload: { prompt: 'explain', provider: 'gemini-cli' },
      headers: { 'x-correlation-id': 'corr-7' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'succeeded', correlationId: 'corr-7' });
    expect(res.headers['x-task-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(calls[0]).toMatchObject({ provider: 'gemini-cli', correlationId: 'corr-7' });
  });

  it('?wait=true turns an all-bulkheads-full refusal into 429 with Retry-After', async () => {
    const { app } = appWith((o) =>
      succeededResult('gemini-cli', o.correlationId ?? '-', {
        status: 'failed',
        error: {
          code: 'RATE_LIMITED',
          message: 'every provider slot is taken',
          retryable: true,
          retryAfterMs: 2_500,
          details: { skipped: [{ reason: 'bulkhead_full' }] },
        },
      }),
    );
    const res = await inject(app, { method: 'POST', url: '/v1/tasks?wait=1', payload: { prompt: 'x' } });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('3');
  });

  it('refuses a bad body or query with 400 and the problems, and runs nothing', async () => {
    const { app, calls } = appWith(ok);
    const body = await inject(app, { method: 'POST', url: '/v1/tasks', payload: { prompt: 'x', provider: 'nope' } });
    expect(body.statusCode).toBe(400);
    expect(body.json().error.problems[0].path).toBe('provider');
    const query = await inject(app, { method: 'POST', url: '/v1/tasks?wait=maybe', payload: { prompt: 'x' } });
    expect(query.statusCode).toBe(400);
    expect(calls).toHaveLength(0);
  });

  it('answers 503 while draining and 429 when the in-flight limit is reached', async () => {
    const held = appWith(() => new Promise<never>(() => undefined) as never, 1);
    expect((await inject(held.app, { method: 'POST', url: '/v1/tasks', payload: { prompt: 'a' } })).statusCode).toBe(
      202,
    );
    const full = await inject(held.app, { method: 'POST', url: '/v1/tasks', payload: { prompt: 'b' } });
    expect(full.statusCode).toBe(429);
    expect(full.json().error.code).toBe('RATE_LIMITED');
    const { app, runs } = appWith(ok);
    void runs.drain(10);
    const draining = await inject(app, { method: 'POST', url: '/v1/tasks', payload: { prompt: 'c' } });
    expect(draining.statusCode).toBe(503);
    expect(draining.headers['retry-after']).toBe('5');
  });

  it('answers 429 before accepting when the named provider has no bulkhead slot or queue place', async () => {
    const full: ProviderHealth = {
      id: 'gemini-cli',
      breaker: 'closed',
      coolingDownForMs: 0,
      inFlight: 2,
      queued: 1,
      maxConcurrent: 2,
      maxQueue: 1,
    };
    const { app, calls, runs } = appWith(ok, 4, [full]);
    const res = await inject(app, {
      method: 'POST',
      url: '/v1/tasks',
      payload: { prompt: 'x', provider: 'gemini-cli' },
    });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json().error.message).toContain('gemini-cli 2/2 running, 1/1 queued');
    expect(calls).toHaveLength(0);
    expect(runs.inFlight).toBe(0);
  });

  it('GET /v1/tasks/:id of an unknown task is 404 NOT_FOUND', async () => {
    const { app } = appWith(ok);
    const res = await inject(app, '/v1/tasks/does-not-exist');
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });
});
