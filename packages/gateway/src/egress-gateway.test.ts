import { GEMINI_API, type UpstreamApi } from '@bastion/providers';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { startEgressGateway, type EgressGatewayOptions } from './egress-gateway';
import { viaGateway } from './test-support/via-gateway';
import type { Violation } from './violation';

const REAL_KEY = 'AIzaSy-real-key-0123456789abcdefghijkl';

interface Seen {
  method?: string;
  url?: string;
  headers: http.IncomingHttpHeaders;
}

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

describe('egress gateway', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
  });
  const start = async (o: EgressGatewayOptions) => {
    const gw = await startEgressGateway(o);
    closers.push(() => gw.close());
    return gw;
  };
  const serve = async (h: http.RequestListener) => {
    const s = await listen(h);
    closers.push(
      () =>
        new Promise((r) => {
          s.server.closeAllConnections();
          s.server.close(r);
        }),
    );
    return s;
  };

  describe('provider API reverse proxy', () => {
    it('drops every credential the sandbox sends and injects the real key', async () => {
      const upstream = await serve((_req, res) => res.end('{"ok":true}'));
      const gw = await start({
        allow: [],
        deny: [],
        api: { declaration: GEMINI_API, upstream: `http://127.0.0.1:${upstream.port}`, apiKey: REAL_KEY },
      });
      const r = await viaGateway(gw, {
        method: 'POST',
        path: '/v1beta/models/gemini-2.5-flash:generateContent?key=placeholder&alt=json',
        headers: {
          'x-goog-api-key': 'placeholder',
          authorization: 'Bearer placeholder',
          'content-type': 'application/json',
        },
        body: '{"contents":[]}',
      });
      expect(r.status).toBe(200);
      expect(upstream.seen[0].url).toBe('/v1beta/models/gemini-2.5-flash:generateContent?alt=json');
      expect(upstream.seen[0].headers['x-goog-api-key']).toBe(REAL_KEY);
      expect(upstream.seen[0].headers.authorization).toBeUndefined();
      expect(upstream.seen[0].headers.host).toBe(`127.0.0.1:${upstream.port}`);
    });

    it('routes a body-addressed API by its declaration: its auth header, its paths, its model field and its error format', async () => {
      // An Anthropic-shaped declaration (the claude-code provider declares the real one).
      const messagesApi: UpstreamApi = {
        name: 'messages-api',
        defaultBaseUrl: 'https://api.example.test',
        baseUrlEnv: 'MESSAGES_BASE_URL',
        apiKeyEnv: 'MESSAGES_API_KEY',
        authHeader: 'x-api-key',
        secret: 'messages-api-key',
        paths: /^\/v1\//,
        model: { in: 'body', field: 'model' },
        errors: {
          forbidden: (message) => JSON.stringify({ type: 'error', error: { type: 'permission_error', message } }),
          rateLimited: (message) => JSON.stringify({ type: 'error', error: { type: 'rate_limit_error', message } }),
        },
      };
      const bodies: string[] = [];
      const upstream = await serve((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          bodies.push(Buffer.concat(chunks).toString());
          res.end('{"type":"message"}');
        });
      });
      const violations: Violation[] = [];
      const gw = await start({
        allow: [],
        deny: [],
        api: {
          declaration: messagesApi,
          upstream: `http://127.0.0.1:${upstream.port}`,
          apiKey: REAL_KEY,
          models: ['small-model'],
        },
        onViolation: (v) => violations.push(v),
      });
      const ask = (model: string) =>
        viaGateway(gw, {
          method: 'POST',
          path: '/v1/messages',
          headers: { 'x-api-key': 'placeholder', 'content-type': 'application/json' },
          body: JSON.stringify({ model, max_tokens: 8, messages: [] }),
        });

      const ok = await ask('small-model');
      expect(ok.status).toBe(200);
      expect(upstream.seen[0].headers['x-api-key']).toBe(REAL_KEY);
      expect(upstream.seen[0].headers['x-goog-api-key']).toBeUndefined();
      expect(JSON.parse(bodies[0])).toMatchObject({ model: 'small-model' });

      const refused = await ask('big-model');
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body)).toEqual({
        type: 'error',
        error: { type: 'permission_error', message: expect.stringContaining('model "big-model" is not allowed') },
      });
      expect(violations).toEqual([expect.objectContaining({ kind: 'model', model: 'big-model' })]);
      expect(upstream.seen).toHaveLength(1);

      const listing = await viaGateway(gw, { method: 'GET', path: '/v1/models' });
      expect(listing.status).toBe(200);
      const notApi = await viaGateway(gw, { method: 'GET', path: '/admin' });
      expect(notApi.status).toBe(403);
      expect(notApi.body).toContain('is not a messages-api API path');
    });

    it('also serves API calls a client sends through HTTP_PROXY to the relay address', async () => {
      const upstream = await serve((_req, res) => res.end('ok'));
      const gw = await start({
        allow: [],
        deny: [],
        api: { declaration: GEMINI_API, upstream: `http://127.0.0.1:${upstream.port}`, apiKey: REAL_KEY },
      });
      const r = await viaGateway(gw, {
        method: 'POST',
        path: 'http://127.0.0.1:8080/v1beta/models/m:generateContent',
        body: '{}',
      });
      expect(r.status).toBe(200);
      expect(upstream.seen[0].headers['x-goog-api-key']).toBe(REAL_KEY);
    });

    it('streams server-sent events through without buffering', async () => {
      const upstream = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"n":1}\n\n');
        setTimeout(() => res.end('data: {"n":2}\n\n'), 300);
      });
      const gw = await start({
        allow: [],
        deny: [],
        api: { declaration: GEMINI_API, upstream: `http://127.0.0.1:${upstream.port}`, apiKey: REAL_KEY },
      });
      const started = Date.now();
      const r = await viaGateway(gw, {
        method: 'POST',
        path: '/v1beta/models/m:streamGenerateContent?alt=sse',
        body: '{}',
      });
      expect(r.body).toBe('data: {"n":1}\n\ndata: {"n":2}\n\n');
      expect(r.chunks[0].text).toBe('data: {"n":1}\n\n');
      expect(r.chunks[0].at - started).toBeLessThan(250);
    });

    it('records an upstream 429 with RetryInfo and hands it to the runtime', async () => {
      const body = JSON.stringify({
        error: {
          code: 429,
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }],
        },
      });
      const upstream = await serve((_req, res) => res.writeHead(429, { 'content-type': 'application/json' }).end(body));
      const seen: number[] = [];
      const gw = await start({
        allow: [],
        deny: [],
        api: { declaration: GEMINI_API, upstream: `http://127.0.0.1:${upstream.port}`, apiKey: REAL_KEY },
        onUpstreamRateLimited: ({ retryAfterMs }) => seen.push(retryAfterMs),
      });
      const r = await viaGateway(gw, { method: 'POST', path: '/v1beta/models/m:generateContent', body: '{}' });
      expect(r.status).toBe(429);
      expect(JSON.parse(r.body).error.status).toBe('RESOURCE_EXHAUSTED');
      expect(seen).toEqual([1500]);
      expect(gw.upstreamRateLimited).toEqual({ retryAfterMs: 1500 });
    });

    it('falls back to Retry-After when the 429 body has no RetryInfo', async () => {
      const upstream = await serve((_req, res) => res.writeHead(429, { 'retry-after': '3' }).end('slow down'));
      const gw = await start({
        allow: [],
        deny: [],
        api: { declaration: GEMINI_API, upstream: `http://127.0.0.1:${upstream.port}`, apiKey: REAL_KEY },
      });
      await viaGateway(gw, { method: 'POST', path: '/v1beta/models/m:generateContent', body: '{}' });
      expect(gw.upstreamRateLimited).toEqual({ retryAfterMs: 3000 });
    });

    it('never lets the real key back into the sandbox, even when the upstream echoes it', async () => {
      const upstream = await serve((req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const key = String(req.headers['x-goog-api-key']);
        res.write(`you sent ${key.slice(0, 10)}`);
        setTimeout(() => res.end(`${key.slice(10)} and ${key}`), 20);
      });
      const gw = await start({
        allow: [],
        deny: [],
        api: {
          declaration: GEMINI_API,
          upstream: `http://127.0.0.1:${upstream.port}`,
          apiKey: REAL_KEY,
          placeholder: 'PLACEHOLDER',
        },
      });
      const r = await viaGateway(gw, { method: 'POST', path: '/v1beta/models/m:generateContent', body: '{}' });
      expect(r.body).toBe('you sent PLACEHOLDER and PLACEHOLDER');
    });

    it('refuses paths that are not provider API paths, and everything when no API is configured', async () => {
      const upstream = await serve((_req, res) => res.end('ok'));
      const gw = await start({
        allow: [],
        deny: [],
        api: { declaration: GEMINI_API, upstream: `http://127.0.0.1:${upstream.port}`, apiKey: REAL_KEY },
      });
      const r = await viaGateway(gw, { method: 'GET', path: '/admin' });
      expect(r.status).toBe(403);
      expect(r.body).toMatch(/^bastion egress gateway: GET \/admin is not a gemini API path\n$/);
      const bare = await start({ allow: [], deny: [] });
      expect((await viaGateway(bare, { method: 'POST', path: '/v1beta/models/m:generateContent' })).status).toBe(403);
      expect(upstream.seen).toHaveLength(0);
    });
  });

  describe('forward proxy', () => {
    it('reaches an allowed site, and refuses a denied or unlisted one with a one-line 403 and a violation', async () => {
      const site = await serve((req, res) => res.end(`hello ${req.url}`));
      const violations: unknown[] = [];
      const gw = await start({
        allow: ['127.0.0.1', '*.example.test'],
        deny: ['blocked.example.test'],
        robots: false,
        onViolation: (v) => violations.push(v),
      });
      const ok = await viaGateway(gw, {
        method: 'GET',
        path: `http://127.0.0.1:${site.port}/page?q=1`,
        headers: { host: `127.0.0.1:${site.port}` },
      });
      expect(ok).toMatchObject({ status: 200, body: 'hello /page?q=1' });

      const denied = await viaGateway(gw, { method: 'GET', path: 'http://blocked.example.test/' });
      expect(denied.status).toBe(403);
      expect(denied.body).toBe(
        'bastion egress gateway: blocked.example.test is denied by the policy (deny: blocked.example.test)\n',
      );
      const unlisted = await viaGateway(gw, { method: 'GET', path: 'http://elsewhere.test/' });
      expect(unlisted.status).toBe(403);
      expect(violations).toEqual([
        { kind: 'domain', host: 'blocked.example.test', reason: expect.stringContaining('denied') },
        { kind: 'domain', host: 'elsewhere.test', reason: expect.stringContaining('not in the policy') },
      ]);
      expect(gw.violations).toEqual(violations);
    });

    it('throttles a burst past the rate limit with 429 and Retry-After', async () => {
      const site = await serve((_req, res) => res.end('ok'));
      let now = 0;
      const gw = await start({
        allow: ['127.0.0.1'],
        deny: [],
        robots: false,
        rateLimits: [{ domain: '127.0.0.1', requestsPerMinute: 60, burst: 2 }],
        clock: () => now,
      });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await viaGateway(gw, { method: 'GET', path: `http://127.0.0.1:${site.port}/` })).status);
      expect(statuses).toEqual([200, 200, 429, 429]);
      const limited = await viaGateway(gw, { method: 'GET', path: `http://127.0.0.1:${site.port}/` });
      expect(limited.headers['retry-after']).toBe('1');
      now += 1000;
      expect((await viaGateway(gw, { method: 'GET', path: `http://127.0.0.1:${site.port}/` })).status).toBe(200);
      expect(gw.violations.filter((v) => v.kind === 'rate-limit')).toHaveLength(3);
    });

    it("obeys the site's robots.txt and its crawl-delay", async () => {
      const site = await serve((req, res) => {
        if (req.url === '/robots.txt') return res.end('User-agent: *\nDisallow: /private\nCrawl-delay: 0.3\n');
        res.end('page');
      });
      const gw = await start({ allow: ['127.0.0.1'], deny: [] });
      const refused = await viaGateway(gw, { method: 'GET', path: `http://127.0.0.1:${site.port}/private/x` });
      expect(refused.status).toBe(403);
      expect(refused.body).toMatch(/robots\.txt disallows \/private\/x/);
      expect(gw.violations).toEqual([expect.objectContaining({ kind: 'robots' })]);
      const t0 = Date.now();
      await viaGateway(gw, { method: 'GET', path: `http://127.0.0.1:${site.port}/a` });
      await viaGateway(gw, { method: 'GET', path: `http://127.0.0.1:${site.port}/b` });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect(site.seen.filter((s) => s.url === '/robots.txt')).toHaveLength(1);
    });

    it('tunnels CONNECT to an allowed host and refuses a denied one', async () => {
      const site = await serve((_req, res) => res.end('through the tunnel'));
      const gw = await start({ allow: ['127.0.0.1'], deny: [], robots: false });
      const connect = (target: string) =>
        new Promise<{ status: number; socket: net.Socket; rest: string }>((resolve, reject) => {
          const req = http.request({ socketPath: gw.hostSocketPath, method: 'CONNECT', path: target, agent: false });
          req.on('connect', (res, socket, head) =>
            resolve({ status: res.statusCode ?? 0, socket, rest: head.toString() }),
          );
          req.on('error', reject);
          req.end();
        });
      const ok = await connect(`127.0.0.1:${site.port}`);
      expect(ok.status).toBe(200);
      const reply = await new Promise<string>((resolve) => {
        let text = '';
        ok.socket.on('data', (d) => (text += d.toString()));
        ok.socket.on('end', () => resolve(text));
        ok.socket.write(`GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`);
      });
      expect(reply).toMatch(/through the tunnel$/);
      const denied = await connect('evil.test:443');
      expect(denied.status).toBe(403);
      denied.socket.destroy();
      expect(gw.violations).toEqual([expect.objectContaining({ kind: 'domain', host: 'evil.test' })]);
    });

    it('answers 502 with a plain reason when an allowed site is down', async () => {
      const gw = await start({ allow: ['127.0.0.1'], deny: [], robots: false });
      const r = await viaGateway(gw, { method: 'GET', path: 'http://127.0.0.1:1/' });
      expect(r.status).toBe(502);
      expect(r.body).toMatch(/could not be reached \(ECONNREFUSED\)/);
    });
  });

  describe('lifecycle and secrecy', () => {
    it('makes the socket usable by the sandbox user only and removes its directory on close, idempotently', async () => {
      const gw = await startEgressGateway({ allow: [], deny: [] });
      // Issue 22: a per-call directory in the private runtime directory, not a 0755 dir in /tmp.
      const dir = await stat(gw.hostSocketDir);
      const sock = await stat(gw.hostSocketPath);
      if (process.getuid!() === 0)
        expect([dir.uid, dir.mode & 0o777, sock.uid, sock.mode & 0o777]).toEqual([1001, 0o700, 1001, 0o600]);
      else expect([dir.mode & 0o777, sock.mode & 0o777]).toEqual([0o711, 0o666]);
      expect((await stat(dirname(gw.hostSocketDir))).mode & 0o777).toBe(0o700);
      await Promise.all([gw.close(), gw.close()]);
      await gw[Symbol.asyncDispose]();
      await expect(stat(gw.hostSocketDir)).rejects.toMatchObject({ code: 'ENOENT' });
    });

    it('keeps the real key out of logs and violation events', async () => {
      const lines: unknown[] = [];
      const logger = {
        info: (o: object, m?: string) => lines.push([o, m]),
        warn: (o: object, m?: string) => lines.push([o, m]),
      };
      const upstream = await serve((_req, res) =>
        res.writeHead(429).end(`{"error":{"message":"bad key ${REAL_KEY}"}}`),
      );
      const gw = await start({
        allow: [],
        deny: ['evil.test'],
        api: { declaration: GEMINI_API, upstream: `http://127.0.0.1:${upstream.port}`, apiKey: REAL_KEY },
        logger,
      });
      const r = await viaGateway(gw, { method: 'POST', path: '/v1beta/models/m:generateContent', body: '{}' });
      await viaGateway(gw, { method: 'GET', path: `http://evil.test/?key=${REAL_KEY}` });
      expect(r.body).not.toContain(REAL_KEY);
      expect(lines.length).toBeGreaterThan(1);
      expect(JSON.stringify([lines, gw.violations, gw.upstreamRateLimited])).not.toContain(REAL_KEY.slice(6));
    });
  });
});
