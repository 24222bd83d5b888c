import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { AgentResult } from '@bastion/providers';
import { createMemoryAuditLog, createRouter, type ProviderCall } from '@bastion/agent-runtime';
import { createMetrics } from '../metrics/metrics';
import { createService, type StartedService } from './service';
import { succeededResult } from '@bastion/agent-runtime/test-support';

const TOKEN = 'test-token-0123456789abcdef';
type Json = Record<string, unknown>;

/** Replaces every local $ref by its target, so one response schema stands on its own. */
function resolveRefs(node: unknown, doc: Json): unknown {
  if (Array.isArray(node)) return node.map((n) => resolveRefs(n, doc));
  if (!node || typeof node !== 'object') return node;
  const ref = (node as Json).$ref;
  if (typeof ref === 'string') {
    const target = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((at, key) => (at as Json)[key], doc);
    return resolveRefs(target, doc);
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolveRefs(v, doc)]));
}

function result(provider: string, correlationId: string): AgentResult {
  return succeededResult(provider, correlationId, { redactions: [{ ruleId: 'aws-access-key', count: 1 }] });
}

describe('GET /openapi.json', () => {
  let dir: string;
  let service: StartedService;
  let doc: Json;
  let release: () => void = () => undefined;
  const covered = new Set<string>();
  let ready = true;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-openapi-'));
    await writeFile(join(dir, 'token'), TOKEN);
    const call: ProviderCall = async (provider, task, o) => {
      o.onOutput?.('stdout', 'working\n');
      if (task.prompt === 'hold') await new Promise<void>((r) => (release = r));
      return result(provider, o.correlationId);
    };
    const audit = createMemoryAuditLog();
    const metrics = createMetrics();
    const router = createRouter({
      providers: [{ id: 'gemini-cli', capabilities: { analyze: true, edit: false } }],
      call,
      audit,
      metrics,
    });
    service = await createService({
      router,
      metrics,
      audit,
      tokenFile: join(dir, 'token'),
      port: 0,
      maxInFlight: 1,
      readiness: async () => (ready ? { ready: true } : { ready: false, reason: 'docker engine unreachable (ENOENT)' }),
    });
  });
  afterAll(async () => {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  const request = (path: string, init: RequestInit & { auth?: boolean } = {}) =>
    fetch(`${service.url}${path}`, {
      ...init,
      headers: {
        'content-type': 'application/json',
        ...(init.auth === false ? {} : { authorization: `Bearer ${TOKEN}` }),
        ...(init.headers as Record<string, string>),
      },
    });

  /** Checks a real answer against the document's schema for that path, method and status. */
  async function conforms(res: Response, path: string, method: string): Promise<unknown> {
    const operation = ((doc.paths as Json)[path] as Json)[method] as Json;
    const response = (operation.responses as Json)[String(res.status)] as Json | undefined;
    expect({ path, method, status: res.status, documented: response !== undefined }).toEqual({
      path,
      method,
      status: res.status,
      documented: true,
    });
    covered.add(`${method} ${path} ${res.status}`);
    const content = resolveRefs(response!.content, doc) as Json;
    const type = (res.headers.get('content-type') ?? '').split(';')[0];
    expect(Object.keys(content)).toContain(type);
    const media = content[type] as { schema: Json; itemSchema?: Json };
    if (type === 'application/json') {
      const body: unknown = await res.json();
      const parsed = z.fromJSONSchema(media.schema as never).safeParse(body);
      expect(parsed.success ? 'valid' : parsed.error.message).toBe('valid');
      return body;
    }
    const text = await res.text();
    if (type === 'text/event-stream') {
      const item = z.fromJSONSchema(media.itemSchema as never);
      const blocks = text.split('\n\n').filter((b) => /^data: /m.test(b));
      expect(blocks.length).toBeGreaterThan(0);
      for (const block of blocks) {
        expect(block).toMatch(/^id: \d+$/m);
        const data: unknown = JSON.parse(/^data: (.*)$/m.exec(block)![1]);
        const parsed = item.safeParse(data);
        expect(parsed.success ? 'valid' : `${block}: ${parsed.error.message}`).toBe('valid');
      }
    }
    return text;
  }

  it('is public, OpenAPI 3.1, and names the providers this service runs as the provider enum', async () => {
    const res = await request('/openapi.json', { auth: false });
    expect(res.status).toBe(200);
    doc = (await res.json()) as Json;
    expect(doc.openapi).toBe('3.1.0');
    const taskRequest = ((doc.components as Json).schemas as Json).TaskRequest as {
      properties: { provider: { enum: string[] } };
    };
    expect(taskRequest.properties.provider.enum).toEqual(['gemini-cli']);
    covered.add('get /openapi.json 200');
  });

  it('describes every answer of every route: real responses validate against the document', async () => {
    await conforms(await request('/healthz', { auth: false }), '/healthz', 'get');
    await conforms(await request('/readyz', { auth: false }), '/readyz', 'get');
    ready = false;
    const notReady = (await conforms(await request('/readyz', { auth: false }), '/readyz', 'get')) as {
      reason: string;
    };
    expect(notReady.reason).toContain('docker engine unreachable');
    ready = true;
    await conforms(await request('/metrics'), '/metrics', 'get');
    await conforms(await request('/metrics', { auth: false }), '/metrics', 'get');

    const body = JSON.stringify({ prompt: 'explain' });
    const done = (await conforms(
      await request('/v1/tasks?wait=true', { method: 'POST', body }),
      '/v1/tasks',
      'post',
    )) as AgentResult;
    expect(done.status).toBe('succeeded');
    await conforms(
      await request('/v1/tasks', { method: 'POST', body: JSON.stringify({ prompt: 'x', provider: 'nope' }) }),
      '/v1/tasks',
      'post',
    );
    await conforms(await request('/v1/tasks', { method: 'POST', body, auth: false }), '/v1/tasks', 'post');
    const accepted = await request('/v1/tasks', { method: 'POST', body: JSON.stringify({ prompt: 'hold' }) });
    const { id } = (await conforms(accepted, '/v1/tasks', 'post')) as { id: string };
    const full = await request('/v1/tasks', { method: 'POST', body });
    expect(full.headers.get('retry-after')).toMatch(/^\d+$/);
    await conforms(full, '/v1/tasks', 'post');
    await conforms(await request(`/v1/tasks/${id}`), '/v1/tasks/{id}', 'get');
    release();
    await conforms(await request(`/v1/tasks/${id}/events`), '/v1/tasks/{id}/events', 'get');
    await conforms(await request('/v1/tasks/missing'), '/v1/tasks/{id}', 'get');
    await conforms(await request('/v1/tasks/missing/events'), '/v1/tasks/{id}/events', 'get');
    await conforms(await request('/v1/tasks/missing', { auth: false }), '/v1/tasks/{id}', 'get');
    await conforms(await request('/v1/tasks/stream', { method: 'POST', body }), '/v1/tasks/stream', 'post');
    await conforms(
      await request('/v1/tasks/stream', { method: 'POST', body: '{"prompt":""}' }),
      '/v1/tasks/stream',
      'post',
    );
  });

  it('answers an unknown route 404 NOT_FOUND naming the routes there are, in the documented error shape', async () => {
    const res = await request('/v1/task');
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error).toMatchObject({
      code: 'NOT_FOUND',
      retryable: false,
      message: expect.stringContaining('/openapi.json'),
    });
    const errorBody = resolveRefs({ $ref: '#/components/schemas/ErrorBody' }, doc);
    expect(z.fromJSONSchema(errorBody as never).safeParse(body).success).toBe(true);
    // The validator is not a rubber stamp: a code outside the closed set or a missing field fails.
    expect(
      z.fromJSONSchema(errorBody as never).safeParse({ error: { ...body.error, code: 'NO_SUCH_ROUTE' } }).success,
    ).toBe(false);
    expect(z.fromJSONSchema(errorBody as never).safeParse({ error: { code: 'NOT_FOUND', message: 'x' } }).success).toBe(
      false,
    );
  });

  it('exercised each documented path and method', () => {
    const documented = Object.entries(doc.paths as Json).flatMap(([path, ops]) =>
      Object.keys(ops as Json).map((m) => `${m} ${path}`),
    );
    const seen = new Set([...covered].map((c) => c.split(' ').slice(0, 2).join(' ')));
    expect(documented.filter((d) => !seen.has(d))).toEqual([]);
  });
});
