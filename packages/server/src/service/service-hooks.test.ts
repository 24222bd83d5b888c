import Fastify from 'fastify';
import { BastionError } from '@bastion/core';
import { createMemoryAuditLog } from '@bastion/agent-runtime';
import { createBearerCheck } from './bearer-auth';
import { registerServiceHooks } from './service-hooks';
import { closeInjected, inject } from './test-support/inject-over-http';

function appWithHooks() {
  const audit = createMemoryAuditLog();
  const recorded: { route: string; status: number }[] = [];
  const app = Fastify();
  registerServiceHooks(app, {
    authorized: createBearerCheck('s3cret-token-0123456789'),
    metrics: { recordHttp: (route, _m, status) => recorded.push({ route, status }) },
    audit,
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/v1/private', async () => ({ ok: true }));
  app.get('/v1/boom', async () => {
    throw new BastionError('INTERNAL', 'the ledger broke');
  });
  app.get('/v1/bad', async () => {
    throw Object.assign(new Error('body too large'), { statusCode: 413 });
  });
  return { app, audit, recorded };
}
const auth = { authorization: 'Bearer s3cret-token-0123456789' };

afterEach(closeInjected);

describe('service hooks', () => {
  it('lets public paths through without a token and refuses others with 401 + WWW-Authenticate, audited', async () => {
    const { app, audit } = appWithHooks();
    expect((await inject(app, '/healthz?x=1')).statusCode).toBe(200);
    const denied = await inject(app, { url: '/v1/private', headers: { authorization: 'Bearer wrong' } });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['www-authenticate']).toBe('Bearer realm="bastion"');
    expect(denied.json().error.code).toBe('AUTH_FAILED');
    expect(audit.events.map((e) => e.event)).toEqual(['service.unauthorized']);
    expect((await inject(app, { url: '/v1/private', headers: auth })).json()).toEqual({ ok: true });
  });

  it('records every answer in the metrics under its route pattern, unmatched ones as "unmatched"', async () => {
    const { app, recorded } = appWithHooks();
    await inject(app, { url: '/v1/private', headers: auth });
    await inject(app, { url: '/nowhere', headers: auth });
    expect(recorded).toEqual([
      { route: '/v1/private', status: 200 },
      { route: 'unmatched', status: 404 },
    ]);
  });

  it('answers an unknown route 404 NOT_FOUND listing the routes', async () => {
    const { app } = appWithHooks();
    const res = await inject(app, { url: '/v2/tasks', method: 'POST', headers: auth });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('POST /v1/tasks') });
  });

  it('turns 4xx errors into INVALID_INPUT and anything else into the error body of a BastionError', async () => {
    const { app } = appWithHooks();
    const bad = await inject(app, { url: '/v1/bad', headers: auth });
    expect(bad.statusCode).toBe(413);
    expect(bad.json().error).toMatchObject({
      code: 'INVALID_INPUT',
      problems: [{ path: '', message: 'body too large' }],
    });
    const boom = await inject(app, { url: '/v1/boom', headers: auth });
    expect(boom.statusCode).toBe(500);
    expect(boom.json().error).toMatchObject({ code: 'INTERNAL' });
  });
});
