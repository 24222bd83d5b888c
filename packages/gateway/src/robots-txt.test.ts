import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_ROBOTS_REDIRECTS, RobotsGate, parseRobotsTxt } from './robots-txt';

describe('parseRobotsTxt (RFC 9309 through robots-parser)', () => {
  it('applies a group only to the agent it names, never to one whose name merely contains it', () => {
    const rules = parseRobotsTxt(
      'User-agent: agent\nDisallow: /\n\nUser-agent: *\nDisallow: /private\n',
      'BastionAgent',
    );
    expect(rules.isAllowed('/public')).toBe(true);
    expect(rules.isAllowed('/private/x')).toBe(false);
    expect(parseRobotsTxt('User-agent: bastionagent\nDisallow: /\n', 'BastionAgent').isAllowed('/x')).toBe(false);
  });

  it('treats percent-encodings that differ only in case as the same path', () => {
    const rules = parseRobotsTxt('User-agent: *\nDisallow: /a%3cd.html\n', 'BastionAgent');
    expect(rules.isAllowed('/a%3Cd.html')).toBe(false);
    expect(rules.isAllowed('/a%3cd.html')).toBe(false);
    expect(rules.isAllowed('/abd.html')).toBe(true);
  });

  it('matches a raw UTF-8 rule and its percent-encoded form both ways', () => {
    expect(parseRobotsTxt('User-agent: *\nDisallow: /ツ\n', 'BastionAgent').isAllowed('/%E3%83%84')).toBe(false);
    expect(parseRobotsTxt('User-agent: *\nDisallow: /%E3%83%84\n', 'BastionAgent').isAllowed('/ツ')).toBe(false);
  });

  it('lets the longest match win, allow on a tie, with $ and * patterns', () => {
    const rules = parseRobotsTxt(
      'User-agent: *\nDisallow: /private\nAllow: /private/ok\nDisallow: /*.pdf$\nCrawl-delay: 2\n',
      'BastionAgent/1.0',
    );
    expect(rules.isAllowed('/private/x')).toBe(false);
    expect(rules.isAllowed('/private/ok/x')).toBe(true);
    expect(rules.isAllowed('/doc.pdf')).toBe(false);
    expect(rules.isAllowed('/doc.pdf?x')).toBe(true);
    expect(rules.crawlDelayMs).toBe(2000);
  });
});

describe('RobotsGate fetching', () => {
  const servers: http.Server[] = [];
  afterAll(async () => {
    await Promise.all(
      servers.map(
        (s) =>
          new Promise((r) => {
            s.closeAllConnections();
            s.close(r);
          }),
      ),
    );
  });
  const serve = async (handler: http.RequestListener) => {
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    return { port: (server.address() as AddressInfo).port, hits };
  };
  const gate = () => new RobotsGate({ userAgent: 'BastionAgent', crawlDelay: false });

  it('follows a redirect chain to the file, and caches it per site', async () => {
    const final = await serve((_req, res) => res.end('User-agent: *\nDisallow: /secret\n'));
    const hop = await serve((req, res) => {
      const n = Number(/\/hop(\d+)/.exec(req.url ?? '')?.[1] ?? 0);
      const location = n >= 3 ? `http://127.0.0.1:${final.port}/real-robots.txt` : `/hop${n + 1}`;
      res.writeHead(n === 0 ? 301 : 302, { location }).end();
    });
    const g = gate();
    const site = new URL(`http://127.0.0.1:${hop.port}/secret/page`);
    expect(await g.check(site)).toMatchObject({ allow: false, status: 403 });
    expect(await g.check(new URL(`http://127.0.0.1:${hop.port}/open`))).toEqual({ allow: true, waitMs: 0 });
    expect(hop.hits).toEqual(['/robots.txt', '/hop1', '/hop2', '/hop3']);
    expect(final.hits).toEqual(['/real-robots.txt']);
  });

  it(`gives up after ${MAX_ROBOTS_REDIRECTS} redirects and treats the file as unavailable (allow all)`, async () => {
    const loop = await serve((req, res) => res.writeHead(302, { location: `${req.url}x` }).end());
    expect(await gate().check(new URL(`http://127.0.0.1:${loop.port}/anything`))).toEqual({ allow: true, waitMs: 0 });
    expect(loop.hits).toHaveLength(MAX_ROBOTS_REDIRECTS + 1);
  });

  it('does not follow a redirect to a host the call may not reach', async () => {
    const away = await serve((_req, res) =>
      res.writeHead(302, { location: 'http://metadata.internal.test/robots.txt' }).end(),
    );
    const verdict = await gate().check(new URL(`http://127.0.0.1:${away.port}/x`), (host) => host === '127.0.0.1');
    expect(verdict).toMatchObject({ allow: false });
  });

  it('allows everything on a 4xx and nothing on a 5xx or when the site cannot be reached', async () => {
    const missing = await serve((_req, res) => res.writeHead(404).end());
    const broken = await serve((_req, res) => res.writeHead(503).end());
    const g = gate();
    expect(await g.check(new URL(`http://127.0.0.1:${missing.port}/x`))).toEqual({ allow: true, waitMs: 0 });
    expect(await g.check(new URL(`http://127.0.0.1:${broken.port}/x`))).toMatchObject({
      allow: false,
      status: 403,
      reason: expect.stringContaining('answered 503, which RFC 9309 treats as disallowing everything'),
    });
    const closed = await serve(() => undefined);
    const port = closed.port;
    await new Promise((r) => servers.pop()!.close(r));
    expect(await g.check(new URL(`http://127.0.0.1:${port}/x`))).toMatchObject({
      allow: false,
      status: 403,
      reason: expect.stringContaining('could not be fetched (ECONNREFUSED)'),
    });
  });

  it('asks a failing site again after a short while instead of caching its outage for long', async () => {
    let status = 500;
    const flaky = await serve((_req, res) => res.writeHead(status).end('User-agent: *\nDisallow:\n'));
    let now = 1_000_000;
    const g = new RobotsGate({ userAgent: 'BastionAgent', crawlDelay: false, now: () => now });
    const url = new URL(`http://127.0.0.1:${flaky.port}/x`);
    expect((await g.check(url)).allow).toBe(false);
    status = 200;
    expect((await g.check(url)).allow).toBe(false);
    now += 31_000;
    expect((await g.check(url)).allow).toBe(true);
    expect(flaky.hits).toEqual(['/robots.txt', '/robots.txt']);
  });
});
