import { GEMINI_API } from '@bastion/providers';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { startEgressGateway, type EgressGatewayOptions } from './egress-gateway';
import { malformedRequest, sendRaw } from './test-support/malformed-requests';
import { viaGateway } from './test-support/via-gateway';

const REAL_KEY = 'AIzaSy-real-key-0123456789abcdefghijkl';

describe('egress gateway hardening', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (closers.length) await closers.pop()!();
  });
  const start = async (o: EgressGatewayOptions) => {
    const gw = await startEgressGateway(o);
    closers.push(() => gw.close());
    return gw;
  };
  const serve = async (handler: http.RequestListener) => {
    const server = http.createServer({ keepAlive: true }, handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(
      () =>
        new Promise((r) => {
          server.closeAllConnections();
          server.close(r);
        }),
    );
    return (server.address() as AddressInfo).port;
  };

  describe('never dies from input', () => {
    it('answers CONNECT to port 99999 with 400 and goes on serving', async () => {
      const site = await serve((_req, res) => res.end('still here'));
      const gw = await start({ allow: ['api2.cursor.sh', '127.0.0.1'], deny: [], robots: false });
      const answer = await sendRaw(
        gw.hostSocketPath,
        Buffer.from('CONNECT api2.cursor.sh:99999 HTTP/1.1\r\nhost: api2.cursor.sh:99999\r\n\r\n'),
      );
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expect(answer).toContain('port 99999 is outside 1-65535');
      for (const port of ['0', '-1', '65536', '1e3']) {
        expect(
          (await sendRaw(gw.hostSocketPath, Buffer.from(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\n\r\n`))).split(
            '\r\n',
          )[0],
        ).toBe('HTTP/1.1 400 Bad Request');
      }
      const ok = await viaGateway(gw, { path: `http://127.0.0.1:${site}/`, headers: { host: `127.0.0.1:${site}` } });
      expect(ok).toMatchObject({ status: 200, body: 'still here' });
      expect(gw.stats).toEqual({ malformed: 5, internalErrors: 0 });
      expect(gw.violations.every((v) => v.kind === 'protocol')).toBe(true);
    });

    it('refuses oversized heads, bad methods and upgrades with a status, not a crash', async () => {
      const gw = await start({ allow: ['127.0.0.1'], deny: [], robots: false });
      const huge = await sendRaw(
        gw.hostSocketPath,
        Buffer.from(`GET http://127.0.0.1/ HTTP/1.1\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`),
      );
      expect(huge.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      const trace = await sendRaw(
        gw.hostSocketPath,
        Buffer.from('TRACE http://127.0.0.1/ HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n'),
      );
      expect(trace.split('\r\n')[0]).toBe('HTTP/1.1 405 Method Not Allowed');
      const upgrade = await sendRaw(
        gw.hostSocketPath,
        Buffer.from(
          'GET http://127.0.0.1/ HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n',
        ),
      );
      expect(upgrade.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expect(gw.stats.internalErrors).toBe(0);
    });

    it('answers an origin-form target that is not a valid path with 400 (found by the sandbox fuzz)', async () => {
      const api = await serve((_req, res) => res.end('{}'));
      const warnings: object[] = [];
      const gw = await start({
        allow: [],
        deny: [],
        api: { declaration: GEMINI_API, upstream: `http://127.0.0.1:${api}`, apiKey: REAL_KEY },
        logger: { info: () => undefined, warn: (o) => warnings.push(o) },
      });
      const answer = await sendRaw(
        gw.hostSocketPath,
        Buffer.from('POST //[zz/v1beta/models/m:generateContent HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n'),
      );
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expect(gw.stats).toEqual({ malformed: 1, internalErrors: 0 });
      expect(warnings).not.toContainEqual(expect.objectContaining({ event: 'egress.internal-error' }));
    });

    it('survives 10,000 malformed HTTP and CONNECT requests and still serves a valid one (fuzz)', async () => {
      const site = await serve((_req, res) => res.end('ok'));
      const api = await serve((_req, res) => res.end('{}'));
      const gw = await start({
        allow: ['127.0.0.1', 'allowed.test'],
        deny: ['denied.test'],
        robots: false,
        api: { declaration: GEMINI_API, upstream: `http://127.0.0.1:${api}`, apiKey: REAL_KEY },
      });
      let sent = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(malformedRequest(site), { minLength: 50, maxLength: 50 }), async (batch) => {
          // Every connection ends: with an answer, or with the gateway closing it. None hangs.
          const answers = await Promise.all(batch.map((bytes) => sendRaw(gw.hostSocketPath, bytes)));
          sent += answers.length;
          for (const a of answers) if (a.length > 0) expect(a).toMatch(/^HTTP\/1\.1 \d{3} /);
        }),
        { numRuns: 200 },
      );
      expect(sent).toBe(10_000);
      expect(gw.stats.internalErrors).toBe(0);
      expect(gw.stats.malformed).toBeGreaterThan(1000);
      const ok = await viaGateway(gw, { path: `http://127.0.0.1:${site}/`, headers: { host: `127.0.0.1:${site}` } });
      expect(ok).toMatchObject({ status: 200, body: 'ok' });
      const apiOk = await viaGateway(gw, { method: 'POST', path: '/v1beta/models/m:generateContent', body: '{}' });
      expect(apiOk.status).toBe(200);
    }, 60_000);
  });

  describe('provider API policy', () => {
    it('refuses a model outside the allowlist with a Google-style 403 and a violation naming it', async () => {
      const seen: string[] = [];
      const api = await serve((req, res) => {
        seen.push(req.url ?? '');
        res.end('{}');
      });
      const violations: unknown[] = [];
      const gw = await start({
        allow: [],
        deny: [],
        api: {
          declaration: GEMINI_API,
          upstream: `http://127.0.0.1:${api}`,
          apiKey: REAL_KEY,
          models: ['gemini-2.5-flash'],
        },
        onViolation: (v) => violations.push(v),
      });
      const denied = await viaGateway(gw, {
        method: 'POST',
        path: '/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
        body: '{}',
      });
      expect(denied.status).toBe(403);
      expect(JSON.parse(denied.body).error).toMatchObject({
        code: 403,
        status: 'PERMISSION_DENIED',
        message: expect.stringContaining('gemini-2.5-pro'),
      });
      const allowed = await viaGateway(gw, {
        method: 'POST',
        path: '/v1beta/models/gemini-2.5-flash:generateContent',
        body: '{}',
      });
      expect(allowed.status).toBe(200);
      expect(seen).toEqual(['/v1beta/models/gemini-2.5-flash:generateContent']);
      expect(violations).toEqual([
        expect.objectContaining({
          kind: 'model',
          model: 'gemini-2.5-pro',
          reason: expect.stringContaining('"gemini-2.5-pro"'),
        }),
      ]);
    });

    it("applies the policy's rate limit to API requests and tells the runtime to end the call", async () => {
      const api = await serve((_req, res) => res.end('{}'));
      const limited: unknown[] = [];
      const host = '127.0.0.1';
      const now = 1_000_000;
      const gw = await start({
        clock: () => now,
        allow: [],
        deny: [],
        rateLimits: [{ domain: host, requestsPerMinute: 2, burst: 2 }],
        api: { declaration: GEMINI_API, upstream: `http://${host}:${api}`, apiKey: REAL_KEY },
        onUpstreamRateLimited: (i) => limited.push(i),
      });
      const statuses: number[] = [];
      let last = { status: 0, body: '', headers: {} as http.IncomingHttpHeaders };
      for (let i = 0; i < 4; i++) {
        last = await viaGateway(gw, { method: 'POST', path: '/v1beta/models/m:generateContent', body: '{}' });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([200, 200, 429, 429]);
      expect(JSON.parse(last.body).error).toMatchObject({
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        details: [expect.objectContaining({ retryDelay: '30s' })],
      });
      expect(limited).toEqual([
        { retryAfterMs: 30_000, source: 'policy', rule: '127.0.0.1' },
        { retryAfterMs: 30_000, source: 'policy', rule: '127.0.0.1' },
      ]);
    });

    it("never passes a reflecting upstream's credential headers or cookies to the sandbox", async () => {
      const api = await serve((req, res) => {
        res.setHeader('x-goog-api-key', String(req.headers['x-goog-api-key']));
        res.setHeader('x-reflect', `seen ${String(req.headers['x-goog-api-key'])}`);
        res.setHeader('authorization', 'Bearer upstream-token');
        res.setHeader('set-cookie', ['session=upstream']);
        res.setHeader('x-safe', 'kept');
        res.end(`{"echo":"${String(req.headers['x-goog-api-key'])}"}`);
      });
      const gw = await start({
        allow: [],
        deny: [],
        api: { declaration: GEMINI_API, upstream: `http://127.0.0.1:${api}`, apiKey: REAL_KEY },
      });
      const r = await viaGateway(gw, { method: 'POST', path: '/v1beta/models/m:generateContent', body: '{}' });
      expect(r.status).toBe(200);
      expect(r.headers['x-safe']).toBe('kept');
      for (const h of ['x-goog-api-key', 'x-reflect', 'authorization', 'set-cookie'])
        expect(r.headers[h]).toBeUndefined();
      expect(JSON.stringify(r.headers) + r.body).not.toContain(REAL_KEY);
    });

    it('drops a header carrying a known secret from a plain-HTTP site too, but keeps its cookies', async () => {
      const site = await serve((_req, res) => {
        res.setHeader('x-echo', `token=${REAL_KEY}`);
        res.setHeader('set-cookie', ['site=1']);
        res.end('ok');
      });
      const gw = await start({ allow: ['127.0.0.1'], deny: [], robots: false, knownSecrets: [REAL_KEY] });
      const r = await viaGateway(gw, { path: `http://127.0.0.1:${site}/`, headers: { host: `127.0.0.1:${site}` } });
      expect(r.status).toBe(200);
      expect(r.headers['x-echo']).toBeUndefined();
      expect(r.headers['set-cookie']).toEqual(['site=1']);
    });

    it('streams a body past the retry buffer to the API intact, holding at most 1 MiB of it', async () => {
      let received = 0;
      const api = await serve((req, res) => {
        req.on('data', (c: Buffer) => (received += c.length));
        req.on('end', () => res.end(`{"bytes":${received}}`));
      });
      const gw = await start({
        allow: [],
        deny: [],
        api: { declaration: GEMINI_API, upstream: `http://127.0.0.1:${api}`, apiKey: REAL_KEY },
      });
      const body = 'x'.repeat(3 * 1024 * 1024 + 17);
      const r = await viaGateway(gw, {
        method: 'POST',
        path: '/v1beta/models/m:generateContent',
        body,
        headers: { 'content-length': String(body.length) },
      });
      expect(r).toMatchObject({ status: 200, body: `{"bytes":${body.length}}` });
    });

    it('retries once on a fresh connection when the upstream reset a pooled keep-alive socket', async () => {
      // First connection: answers one request keep-alive, then resets on the next one (an idle
      // socket the upstream closed). Later connections answer normally.
      let connections = 0;
      const upstream = net.createServer((socket) => {
        const n = ++connections;
        let requests = 0;
        socket.on('error', () => socket.destroy());
        socket.on('data', (chunk) => {
          if (!chunk.includes('\r\n\r\n')) return;
          requests++;
          if (n === 1 && requests === 2) return void socket.resetAndDestroy();
          socket.write(
            'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n{}',
          );
        });
      });
      await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
      closers.push(() => new Promise((r) => upstream.close(r)));
      const unreachable: unknown[] = [];
      const gw = await start({
        allow: [],
        deny: [],
        api: {
          declaration: GEMINI_API,
          upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
          apiKey: REAL_KEY,
        },
        onUpstreamUnreachable: (i) => unreachable.push(i),
      });
      const first = await viaGateway(gw, { method: 'POST', path: '/v1beta/models/m:generateContent', body: '{"a":1}' });
      const second = await viaGateway(gw, {
        method: 'POST',
        path: '/v1beta/models/m:generateContent',
        body: '{"a":2}',
      });
      expect([first.status, second.status]).toEqual([200, 200]);
      expect(connections).toBe(2);
      expect(unreachable).toEqual([]);
    });
  });

  describe('requests inside a CONNECT tunnel', () => {
    it('counts every plain-HTTP request in one tunnel against the rate limit and checks robots.txt', async () => {
      const hits: string[] = [];
      const site = await serve((req, res) => {
        hits.push(req.url ?? '');
        if (req.url === '/robots.txt') return res.end('User-agent: *\nDisallow: /private\n');
        res.end(`page ${req.url}`);
      });
      const gw = await start({
        allow: ['127.0.0.1'],
        deny: [],
        rateLimits: [{ domain: '127.0.0.1', requestsPerMinute: 3, burst: 3 }],
        robots: { crawlDelay: false },
      });
      const socket = net.connect(gw.hostSocketPath);
      const received: string[] = [];
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => received.push(c));
      socket.write(`CONNECT 127.0.0.1:${site} HTTP/1.1\r\nhost: 127.0.0.1:${site}\r\n\r\n`);
      await waitFor(() => received.join('').includes('200 Connection Established'));
      const statuses: number[] = [];
      for (const path of ['/a', '/private/x', '/b', '/c', '/d']) {
        const before = received.join('').length;
        socket.write(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1:${site}\r\n\r\n`);
        await waitFor(() => responseComplete(received.join('').slice(before)));
        statuses.push(Number(/HTTP\/1\.1 (\d{3})/.exec(received.join('').slice(before))![1]));
      }
      socket.destroy();
      // The CONNECT's token pays for /a; /private/x is a robots refusal that still took a token;
      // /b takes the last one; /c and /d are over the 3-request budget.
      expect(statuses).toEqual([200, 403, 200, 429, 429]);
      expect(hits).toEqual(['/robots.txt', '/a', '/b']);
      expect(gw.violations.map((v) => v.kind)).toEqual(['robots', 'rate-limit', 'rate-limit']);
    });

    it('keeps a TLS tunnel end to end and counts it once per connection', async () => {
      const echo = net.createServer((s) => s.pipe(s));
      await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
      closers.push(() => new Promise((r) => echo.close(r)));
      const port = (echo.address() as AddressInfo).port;
      const gw = await start({
        allow: ['127.0.0.1'],
        deny: [],
        rateLimits: [{ domain: '127.0.0.1', requestsPerMinute: 1, burst: 1 }],
        robots: false,
      });
      const socket = net.connect(gw.hostSocketPath);
      const received: Buffer[] = [];
      socket.on('data', (c: Buffer) => received.push(c));
      socket.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\n\r\n`);
      await waitFor(() => Buffer.concat(received).includes('200 Connection Established'));
      const hello = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]);
      const mark = Buffer.concat(received).length;
      socket.write(hello);
      socket.write(hello);
      await waitFor(() => Buffer.concat(received).length >= mark + hello.length * 2);
      expect(Buffer.concat(received).subarray(mark)).toEqual(Buffer.concat([hello, hello]));
      socket.destroy();
      const second = await sendRaw(gw.hostSocketPath, Buffer.from(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\n\r\n`));
      expect(second.split('\r\n')[0]).toBe('HTTP/1.1 429 Too Many Requests');
    });
  });
});

function responseComplete(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return false;
  const length = /content-length: (\d+)/i.exec(text.slice(0, end));
  if (length) return Buffer.byteLength(text.slice(end + 4)) >= Number(length[1]);
  return /\r\n0\r\n\r\n$/.test(text);
}

async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting for the gateway');
    await new Promise((r) => setTimeout(r, 5));
  }
}
