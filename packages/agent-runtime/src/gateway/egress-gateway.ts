import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { pipeline } from 'node:stream';
import { join } from 'node:path';
import { createProxyServer } from 'http-proxy-3';
import { BastionError } from '@bastion/core';
import { RateLimiter, matchDomain, normalizeHost, type RateLimiterRule } from '@bastion/policy';
import { KeyScrubber } from './key-scrubber';
import { DEFAULT_RETRY_AFTER_MS, retryAfterFrom } from './retry-delay';
import { RobotsGate } from './robots-txt';
import { sharedRuntimeDir, type RuntimeDir } from '../runtime-dir/runtime-dir';
import { API_KEY_PLACEHOLDER, SANDBOX_GATEWAY, defaultApiUpstream } from './sandbox-gateway';

export type ViolationKind = 'domain' | 'rate-limit' | 'robots' | 'api' | 'protocol';

/** A refused request, as data. Never carries a credential. */
export interface Violation {
  kind: ViolationKind;
  host: string;
  reason: string;
}

export interface GatewayLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface EgressGatewayOptions {
  /** Domain patterns the proxy may reach (see @bastion/policy matchDomain); deny wins. */
  allow: string[];
  deny: string[];
  /** The provider API reverse proxy; without it, origin-form requests are refused. */
  api?: { upstream?: string; apiKey: string; placeholder?: string };
  rateLimits?: RateLimiterRule[];
  /** robots.txt for plain-HTTP GETs: true/false, or the policy's robots settings. Default true. */
  robots?: boolean | { respect?: boolean; crawlDelay?: boolean; userAgent?: string; maxCrawlWaitMs?: number };
  onViolation?(violation: Violation): void;
  onUpstreamRateLimited?(info: { retryAfterMs: number }): void;
  /** The provider API could not be reached at all (refused, reset, DNS): the call cannot succeed. */
  onUpstreamUnreachable?(info: { code: string }): void;
  logger?: GatewayLogger;
  /** Clock for the rate limiter (tests). */
  clock?: () => number;
  /** Where the per-call socket directory is made. Default: the process's private runtime directory. */
  runtimeDir?: RuntimeDir;
}

export interface StartedEgressGateway {
  /** Bind-mount this at SANDBOX_GATEWAY.mountDir (read-only is fine). */
  readonly hostSocketDir: string;
  readonly hostSocketPath: string;
  readonly violations: readonly Violation[];
  /** Set once the provider API answered 429. */
  readonly upstreamRateLimited?: { retryAfterMs: number };
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const API_PATH = /^\/(upload\/)?v1(alpha|beta)?\//;
const CREDENTIAL_HEADERS = ['authorization', 'x-goog-api-key', 'x-api-key', 'proxy-authorization', 'cookie'];
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'te', 'trailer'];

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 500);
}

/**
 * Starts the per-call egress gateway: one HTTP server on a fresh Unix socket that is (a) the
 * provider API's reverse proxy, holding the real key, and (b) an HTTP/CONNECT proxy that enforces
 * the domain lists, rate limits and robots.txt. Every refusal is a one-line 403/429 inside the
 * sandbox and a Violation outside.
 */
export async function startEgressGateway(options: EgressGatewayOptions): Promise<StartedEgressGateway> {
  const log = options.logger;
  const violations: Violation[] = [];
  const limiter = new RateLimiter(options.rateLimits ?? [], options.clock ? { clock: options.clock } : {});
  const robotsOpt = options.robots === undefined || options.robots === true ? {} : options.robots === false ? { respect: false } : options.robots;
  const robots =
    robotsOpt.respect === false
      ? undefined
      : new RobotsGate({ userAgent: robotsOpt.userAgent ?? 'BastionAgent', crawlDelay: robotsOpt.crawlDelay ?? true, maxCrawlWaitMs: robotsOpt.maxCrawlWaitMs });

  const api = options.api
    ? { upstream: new URL(options.api.upstream ?? defaultApiUpstream()), apiKey: options.api.apiKey, placeholder: options.api.placeholder ?? API_KEY_PLACEHOLDER }
    : undefined;
  if (api && api.apiKey.length === 0) throw new BastionError('INVALID_INPUT', 'the egress gateway needs a non-empty API key');

  let upstreamRateLimited: { retryAfterMs: number } | undefined;
  const forwardAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const apiAgent = api?.upstream.protocol === 'https:' ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });

  const record = (v: Violation) => {
    violations.push(v);
    log?.warn({ event: 'egress.violation', kind: v.kind, host: v.host, reason: v.reason }, 'egress refused');
    try {
      options.onViolation?.(v);
    } catch (err) {
      log?.warn({ event: 'egress.onViolation-failed', error: (err as Error).message }, 'onViolation threw');
    }
  };

  const refuse = (res: http.ServerResponse, status: 403 | 429 | 400, v: Violation, retryAfterMs?: number) => {
    record(v);
    if (res.headersSent) return void res.destroy();
    const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain; charset=utf-8', 'x-bastion-violation': v.kind };
    if (retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    res.writeHead(status, headers);
    res.end(`bastion egress gateway: ${oneLine(v.reason)}\n`);
  };

  const badGateway = (res: http.ServerResponse | net.Socket, host: string, err: Error) => {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    log?.warn({ event: 'egress.upstream-error', host, code }, 'upstream failed');
    const body = `bastion egress gateway: ${host} could not be reached (${code})\n`;
    if (res instanceof net.Socket) {
      res.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    } else if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(body);
    } else {
      res.destroy();
    }
  };

  // (a) Provider API: the sandbox's credential is dropped, the real one added, 429s recorded.
  const apiProxy = createProxyServer({ selfHandleResponse: true, xfwd: false });
  apiProxy.on('proxyRes', (proxyRes, _req, res) => {
    const status = proxyRes.statusCode ?? 502;
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(proxyRes.headers)) if (!HOP_BY_HOP.includes(k) && v !== undefined) headers[k] = v;
    if (status === 429) {
      const chunks: Buffer[] = [];
      proxyRes.on('data', (c: Buffer) => chunks.push(c));
      proxyRes.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8').split(api!.apiKey).join(api!.placeholder);
        const retryAfterMs = retryAfterFrom(body, proxyRes.headers['retry-after'] as string | undefined);
        upstreamRateLimited = { retryAfterMs };
        log?.warn({ event: 'egress.upstream-rate-limited', retryAfterMs }, 'provider API answered 429');
        try {
          options.onUpstreamRateLimited?.({ retryAfterMs });
        } catch (err) {
          log?.warn({ event: 'egress.onUpstreamRateLimited-failed', error: (err as Error).message }, 'onUpstreamRateLimited threw');
        }
        delete headers['content-length'];
        res.writeHead(429, headers);
        res.end(body);
      });
      return;
    }
    delete headers['content-length'];
    res.writeHead(status, proxyRes.statusMessage, headers);
    res.flushHeaders();
    // pipeline, not pipe: an upstream cut mid-stream must cut the sandbox's response too, or the
    // client waits for an end that never comes (the Gemini CLI has no read timeout of its own).
    pipeline(proxyRes, new KeyScrubber(api!.apiKey, api!.placeholder), res, (err) => {
      if (err) log?.warn({ event: 'egress.upstream-cut', code: (err as NodeJS.ErrnoException).code ?? 'error' }, 'upstream response ended early');
    });
  });
  apiProxy.on('error', (err, req, res) => {
    badGateway(res as http.ServerResponse, api?.upstream.host ?? 'api', err as Error);
    try {
      options.onUpstreamUnreachable?.({ code: (err as NodeJS.ErrnoException).code ?? 'error' });
    } catch (cbErr) {
      log?.warn({ event: 'egress.onUpstreamUnreachable-failed', error: (cbErr as Error).message }, 'onUpstreamUnreachable threw');
    }
  });

  const handleApi = (req: http.IncomingMessage, res: http.ServerResponse, pathAndQuery: string) => {
    if (!api) return refuse(res, 403, { kind: 'api', host: 'api', reason: 'no provider API is routed through this gateway' });
    const url = new URL(pathAndQuery, 'http://sandbox.invalid');
    if (!API_PATH.test(url.pathname)) {
      return refuse(res, 403, { kind: 'api', host: api.upstream.host, reason: `${req.method} ${url.pathname} is not a provider API path` });
    }
    url.searchParams.delete('key');
    req.url = url.pathname + url.search;
    for (const h of CREDENTIAL_HEADERS) delete req.headers[h];
    // Identity encoding keeps response bodies readable for the key scrubber.
    req.headers['accept-encoding'] = 'identity';
    apiProxy.web(req, res, {
      target: api.upstream.origin,
      changeOrigin: true,
      secure: true,
      agent: apiAgent,
      headers: { 'x-goog-api-key': api.apiKey },
    });
  };

  // (b) Forward proxy for plain HTTP in absolute form.
  const forwardProxy = createProxyServer({ xfwd: false, changeOrigin: false });
  forwardProxy.on('error', (err, req, res) => badGateway(res as http.ServerResponse, req.headers.host ?? 'upstream', err as Error));

  const admit = (host: string): { ok: true } | { ok: false; status: 403 | 429; v: Violation; retryAfterMs?: number } => {
    const verdict = matchDomain(host, options.allow, options.deny);
    if (!verdict.allow) return { ok: false, status: 403, v: { kind: 'domain', host: normalizeHost(host), reason: verdict.reason } };
    const rate = limiter.take(normalizeHost(host));
    if (!rate.allow) {
      return {
        ok: false,
        status: 429,
        retryAfterMs: rate.retryAfterMs,
        v: { kind: 'rate-limit', host: normalizeHost(host), reason: `${normalizeHost(host)} is over its rate limit (${rate.rule}); retry in ${Math.ceil(rate.retryAfterMs / 1000)}s` },
      };
    }
    return { ok: true };
  };

  const handleForward = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const host = url.hostname;
    const admitted = admit(host);
    if (!admitted.ok) return refuse(res, admitted.status, admitted.v, admitted.retryAfterMs);
    if (robots && (req.method === 'GET' || req.method === 'HEAD')) {
      const verdict = await robots.check(url);
      if (!verdict.allow) return refuse(res, verdict.status, { kind: 'robots', host: normalizeHost(host), reason: verdict.reason });
      if (verdict.waitMs > 0) await new Promise((r) => setTimeout(r, verdict.waitMs));
    }
    req.url = url.pathname + url.search;
    delete req.headers['proxy-connection'];
    delete req.headers['proxy-authorization'];
    forwardProxy.web(req, res, { target: `http://${url.host}`, agent: forwardAgent });
  };

  const isSelf = (url: URL) =>
    (url.hostname === '127.0.0.1' || url.hostname === 'localhost') && Number(url.port || 80) === SANDBOX_GATEWAY.port;

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const target = req.url ?? '/';
    if (target.startsWith('/')) return handleApi(req, res, target);
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return refuse(res, 400, { kind: 'protocol', host: '', reason: 'the request target is not a URL' });
    }
    // A client that sends API calls through HTTP_PROXY addresses the relay itself in absolute form.
    if (isSelf(url)) return handleApi(req, res, url.pathname + url.search);
    if (url.protocol !== 'http:') {
      return refuse(res, 400, { kind: 'protocol', host: url.hostname, reason: `${url.protocol} URLs go through CONNECT, not a plain proxy request` });
    }
    handleForward(req, res, url).catch((err: Error) => badGateway(res, url.hostname, err));
  });

  // CONNECT tunnels: policy is checked on the host name; the bytes inside stay end-to-end TLS.
  const tunnels = new Set<net.Socket>();
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.add(client);
    client.on('close', () => tunnels.delete(client));
    client.on('error', () => client.destroy());
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(req.url ?? '');
    const reply = (status: string, body: string, extra = '') =>
      client.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`);
    if (!m) {
      const v: Violation = { kind: 'protocol', host: '', reason: 'CONNECT needs host:port' };
      record(v);
      return reply('400 Bad Request', `bastion egress gateway: ${v.reason}\n`);
    }
    const host = m[1].replace(/^\[|\]$/g, '');
    const port = Number(m[2]);
    const admitted = admit(host);
    if (!admitted.ok) {
      record(admitted.v);
      const retry = admitted.retryAfterMs !== undefined ? `retry-after: ${Math.max(1, Math.ceil(admitted.retryAfterMs / 1000))}\r\n` : '';
      const status = admitted.status === 403 ? '403 Forbidden' : '429 Too Many Requests';
      return reply(status, `bastion egress gateway: ${oneLine(admitted.v.reason)}\n`, `x-bastion-violation: ${admitted.v.kind}\r\n${retry}`);
    }
    const upstream = net.connect({ host, port });
    tunnels.add(upstream);
    upstream.on('close', () => tunnels.delete(upstream));
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (err) => {
      if (upstream.connecting || !client.writable) badGateway(client, host, err);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
  });

  // Registered for cleanup before anything listens: a failed start leaves no directory behind.
  // A per-call directory in the 0700 runtime directory, owned by the sandbox user: no other host
  // user can reach the socket, and the one sandbox it is mounted into sees only its own.
  const callDir = await (options.runtimeDir ?? (await sharedRuntimeDir())).createCallDir('gw');
  const hostSocketDir = callDir.path;
  const hostSocketPath = join(hostSocketDir, SANDBOX_GATEWAY.socketName);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of tunnels) s.destroy();
      });
      forwardAgent.destroy();
      apiAgent.destroy();
      apiProxy.close();
      forwardProxy.close();
      await callDir.close();
    })();
    return closing;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(hostSocketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await callDir.secureSocket(hostSocketPath);
  } catch (err) {
    await close();
    throw new BastionError('SANDBOX_UNAVAILABLE', `could not start the egress gateway in ${hostSocketDir}`, { cause: err });
  }
  log?.info({ event: 'egress.started', socket: hostSocketPath, allow: options.allow, deny: options.deny, api: api?.upstream.origin }, 'egress gateway listening');

  return {
    hostSocketDir,
    hostSocketPath,
    violations,
    get upstreamRateLimited() {
      return upstreamRateLimited;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

export { DEFAULT_RETRY_AFTER_MS };
