import type { FastifyInstance } from 'fastify';

/**
 * fastify's inject() loads light-my-request, whose `cookie` dependency is ESM-only and cannot be
 * required under Jest's CommonJS runtime; the route-module tests send real HTTP over loopback
 * instead, which also exercises the same socket path as production.
 */
export interface InjectedResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read fields of varying shape
}

const listening = new Set<FastifyInstance>();

export async function inject(
  app: FastifyInstance,
  request: string | { method?: string; url: string; payload?: unknown; headers?: Record<string, string> },
): Promise<InjectedResponse> {
  const r = typeof request === 'string' ? { url: request } : request;
  if (!listening.has(app)) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    listening.add(app);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const res = await fetch(`http://127.0.0.1:${port}${r.url}`, {
    method: r.method ?? 'GET',
    headers: { ...(r.payload !== undefined ? { 'content-type': 'application/json' } : {}), ...r.headers },
    ...(r.payload !== undefined ? { body: JSON.stringify(r.payload) } : {}),
  });
  const body = await res.text();
  return { statusCode: res.status, headers: Object.fromEntries(res.headers), body, json: () => JSON.parse(body) };
}

/** Closes every app `inject` started; call it in afterEach. */
export async function closeInjected(): Promise<void> {
  const apps = [...listening];
  listening.clear();
  await Promise.all(apps.map((app) => app.close()));
}
