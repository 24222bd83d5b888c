import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { createProxyServer } from 'http-proxy-3';
import { BastionError, type Clock } from '@bastion/core';
import { RateLimiter, matchDomain, type RateLimiterRule } from '@bastion/policy';
import type { UpstreamApi } from '@bastion/providers';
import { createApiProxy, type ApiProxy } from './api-proxy';
import { handleConnect, type Admission, type TunnelTarget } from './connect-tunnel';
import { DEFAULT_RETRY_AFTER_MS } from './retry-delay';
import { FORWARD_METHODS, MAX_CONNECTIONS, MAX_HEADER_BYTES, checkForwardUrl, checkRequestHead } from './request-guard';
import { scrubResponseHeaders } from './response-headers';
import { RobotsGate } from './robots-txt';
import { sharedRuntimeDir, type RuntimeDir } from '@bastion/sandbox';
import { API_KEY_PLACEHOLDER, SANDBOX_GATEWAY } from './sandbox-gateway';
import { oneLine, type GatewayLogger, type Violation } from './violation';
import type { UsageMeter } from './usage-meter';
import type { GatewayFailureSite, GatewayHealth } from './gateway-health';

export type { GatewayLogger, Violation, ViolationKind } from './violation';

export interface EgressGatewayOptions {
  /** Domain patterns the proxy may reach (see @bastion/policy matchDomain); deny wins. */
  allow: string[];
  deny: string[];
  /**
   * The reverse proxy for one declared model API (`declaration`: its paths, auth header, where it
   * names the model, its error format) at `upstream` (its base URL); without it, origin-form
   * requests are refused.
   */
  api?: {
    declaration: UpstreamApi;
    upstream: string;
    apiKey: string;
    placeholder?: string;
    models?: readonly string[];
  };
  rateLimits?: RateLimiterRule[];
  /** A limiter that outlives this gateway (the provisioner's shared budget); overrides `rateLimits`. */
  limiter?: RateLimiter;
  /** robots.txt for plain-HTTP GETs: true/false, or the policy's robots settings. Default true. */
  robots?: boolean | { respect?: boolean; crawlDelay?: boolean; userAgent?: string; maxCrawlWaitMs?: number };
  /** A robots gate that outlives this gateway (shared cache and crawl spacing); overrides `robots` settings. */
  robotsGate?: RobotsGate;
  /** Secret values that must never reach the sandbox in a response header. */
  knownSecrets?: readonly string[];
  onViolation?(violation: Violation): void;
  /** A CONNECT or plain-HTTP request passed the domain lists and rate limit (provenance counts these). */
  onAdmitted?(host: string): void;
  /** The provider API answered 429, or the policy's budget for it is spent. */
  onUpstreamRateLimited?(info: { retryAfterMs: number; source: 'upstream' | 'policy'; rule?: string }): void;
  /** The provider API could not be reached at all (refused, reset, DNS): the call cannot succeed. */
  onUpstreamUnreachable?(info: { code: string }): void;
  logger?: GatewayLogger;
  /** Clock for the rate limiter (tests). */
  clock?: Clock;
  /** Where the per-call socket directory is made. Default: the process's private runtime directory. */
  runtimeDir?: RuntimeDir;
  /** Counts model usage from the API's responses and ends the call at its budget (usage-meter.ts). */
  meter?: UsageMeter;
  /** Runtime-wide totals of `stats` (for /metrics), which outlive this per-call gateway. */
  health?: GatewayHealth;
}

export interface GatewayStats {
  /** Requests refused before any socket call because they were malformed (bad port, host, method, head). */
  malformed: number;
  /** Unexpected exceptions caught inside a handler: each was audited and answered 502. */
  internalErrors: number;
}

export interface StartedEgressGateway {
  /** Bind-mount this at SANDBOX_GATEWAY.mountDir (read-only is fine). */
  readonly hostSocketDir: string;
  readonly hostSocketPath: string;
  readonly violations: readonly Violation[];
  readonly stats: Readonly<GatewayStats>;
  /** Set once the provider API answered 429 or the policy's API budget ran out. */
  readonly upstreamRateLimited?: { retryAfterMs: number };
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Node's own parser limits, stated here so a change in Node's defaults does not widen them. */
const SERVER_OPTIONS: http.ServerOptions = {
  keepAlive: true,
  maxHeaderSize: MAX_HEADER_BYTES,
  requestTimeout: 300_000,
  headersTimeout: 30_000,
};

/**
 * Starts the per-call egress gateway: one HTTP server on a fresh Unix socket that is (a) the
 * provider API's reverse proxy, holding the real key, and (b) an HTTP/CONNECT proxy that enforces
 * the domain lists, rate limits and robots.txt. Every refusal is a one-line 403/429 inside the
 * sandbox and a Violation outside. Nothing a sandbox sends may throw out of a handler: input is
 * validated before any socket call, and an unexpected exception is audited, answered 502 and
 * counted in `stats`, never raised to the process (which may be `bastion serve`, with other calls).
 */
export async function startEgressGateway(options: EgressGatewayOptions): Promise<StartedEgressGateway> {
  const log = options.logger;
  const violations: Violation[] = [];
  const stats: GatewayStats = { malformed: 0, internalErrors: 0 };
  const limiter =
    options.limiter ?? new RateLimiter(options.rateLimits ?? [], options.clock ? { clock: options.clock } : {});
  const robotsOpt =
    options.robots === undefined || options.robots === true
      ? {}
      : options.robots === false
        ? { respect: false }
        : options.robots;
  const robots =
    robotsOpt.respect === false
      ? undefined
      : (options.robotsGate ??
        new RobotsGate({
          userAgent: robotsOpt.userAgent ?? 'BastionAgent',
          crawlDelay: robotsOpt.crawlDelay ?? true,
          maxCrawlWaitMs: robotsOpt.maxCrawlWaitMs,
        }));
  const secrets = [...(options.knownSecrets ?? []), ...(options.api ? [options.api.apiKey] : [])].filter(
    (s) => s.length > 0,
  );

  if (options.api && options.api.apiKey.length === 0)
    throw new BastionError('INVALID_INPUT', 'the egress gateway needs a non-empty API key');
  let upstreamRateLimited: { retryAfterMs: number } | undefined;
  const forwardAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

  const countMalformed = () => {
    stats.malformed++;
    options.health?.malformed();
  };
  const countInternalError = (site: GatewayFailureSite) => {
    stats.internalErrors++;
    options.health?.internalError(site);
  };

  const record = (v: Violation) => {
    violations.push(v);
    if (v.kind === 'protocol') countMalformed();
    log?.warn({ event: 'egress.violation', kind: v.kind, host: v.host, reason: v.reason }, 'egress refused');
    try {
      options.onViolation?.(v);
    } catch (err) {
      log?.warn({ event: 'egress.onViolation-failed', error: (err as Error).name }, 'onViolation threw');
    }
  };

  const refuse = (res: http.ServerResponse, status: number, v: Violation, retryAfterMs?: number) => {
    record(v);
    if (res.headersSent) return void res.destroy();
    const body = `bastion egress gateway: ${oneLine(v.reason)}\n`;
    // An explicit length: simple clients (and the sandbox's own tools) need not parse chunking.
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'x-bastion-violation': v.kind,
    };
    if (retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    res.writeHead(status, headers);
    res.end(body);
  };

  /** The last line of defence: a bug in a handler costs one request, never the process. */
  const internalError = (res: http.ServerResponse | net.Socket, err: unknown) => {
    countInternalError(res instanceof net.Socket ? 'tunnel' : 'request');
    const e = err as NodeJS.ErrnoException;
    // Name, code and the failing frame only: a message could quote request bytes.
    const at = /\(([^()]*\/gateway\/[^()]*)\)/.exec(String(e?.stack ?? ''))?.[1]?.replace(/^.*\/gateway\//, 'gateway/');
    log?.warn(
      { event: 'egress.internal-error', error: e?.name ?? 'unknown', code: e?.code, at },
      'gateway handler failed; answered 502',
    );
    const body = 'bastion egress gateway: internal error\n';
    if (res instanceof net.Socket) {
      if (res.writable)
        res.end(
          `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        );
      else res.destroy();
    } else if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(body);
    } else {
      res.destroy();
    }
  };

  const onUnreachable = (code: string) => {
    try {
      options.onUpstreamUnreachable?.({ code });
    } catch (cbErr) {
      log?.warn(
        { event: 'egress.onUpstreamUnreachable-failed', error: (cbErr as Error).name },
        'onUpstreamUnreachable threw',
      );
    }
  };

  // (a) Provider API.
  const api: ApiProxy | undefined = options.api
    ? createApiProxy({
        declaration: options.api.declaration,
        upstream: new URL(options.api.upstream),
        apiKey: options.api.apiKey,
        placeholder: options.api.placeholder ?? API_KEY_PLACEHOLDER,
        ...(options.api.models ? { models: options.api.models } : {}),
        limiter,
        secrets,
        record,
        onRateLimited: (info) => {
          upstreamRateLimited = { retryAfterMs: info.retryAfterMs };
          try {
            options.onUpstreamRateLimited?.(info);
          } catch (err) {
            log?.warn(
              { event: 'egress.onUpstreamRateLimited-failed', error: (err as Error).name },
              'onUpstreamRateLimited threw',
            );
          }
        },
        onUnreachable,
        ...(options.meter ? { meter: options.meter } : {}),
        onInternalError: (res, err) => internalError(res, err),
        ...(log ? { log } : {}),
      })
    : undefined;

  const handleApi = (req: http.IncomingMessage, res: http.ServerResponse, pathAndQuery: string) => {
    if (!api)
      return refuse(res, 403, { kind: 'api', host: 'api', reason: 'no provider API is routed through this gateway' });
    api.handle(req, res, pathAndQuery);
  };

  // (b) Forward proxy for plain HTTP in absolute form, and for plain HTTP found inside a tunnel.
  const forwardProxy = createProxyServer({ xfwd: false, changeOrigin: false });
  forwardProxy.on('proxyRes', (proxyRes) => {
    // Sites may set their own cookies; only headers that carry one of our secrets are dropped.
    if (secrets.length === 0) return;
    for (const [name, value] of Object.entries(proxyRes.headers)) {
      if (
        value !== undefined &&
        scrubResponseHeaders({ [name]: value }, secrets, { dropCredentials: false }).dropped.length > 0
      )
        delete proxyRes.headers[name];
    }
  });

  const admitDomain = (host: string): Admission => {
    const verdict = matchDomain(host, options.allow, options.deny);
    return verdict.allow
      ? { ok: true }
      : { ok: false, status: 403, v: { kind: 'domain', host, reason: verdict.reason } };
  };
  const admit = (host: string): Admission => {
    const domain = admitDomain(host);
    if (!domain.ok) return domain;
    const rate = limiter.take(host);
    if (rate.allow) {
      try {
        options.onAdmitted?.(host);
      } catch (err) {
        log?.warn({ event: 'egress.onAdmitted-failed', error: (err as Error).name }, 'onAdmitted threw');
      }
      return { ok: true };
    }
    const reason = `${host} is over its rate limit (${rate.rule}); retry in ${Math.ceil(rate.retryAfterMs / 1000)}s`;
    return { ok: false, status: 429, retryAfterMs: rate.retryAfterMs, v: { kind: 'rate-limit', host, reason } };
  };

  const handleForward = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    tunnel?: TunnelTarget,
  ) => {
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const head = checkRequestHead(req.method, req.rawHeaders, FORWARD_METHODS);
    if (!head.ok) return refuse(res, 405, { kind: 'protocol', host, reason: head.reason });
    // The CONNECT that opened a tunnel already took a token; its first request uses that one.
    const prepaid = tunnel?.prepaid === true;
    if (tunnel) tunnel.prepaid = false;
    const admitted = prepaid ? admitDomain(host) : admit(host);
    if (!admitted.ok) return refuse(res, admitted.status, admitted.v, admitted.retryAfterMs);
    if (robots && (req.method === 'GET' || req.method === 'HEAD')) {
      const verdict = await robots.check(url, (h) => admitDomain(h).ok);
      if (!verdict.allow) return refuse(res, verdict.status, { kind: 'robots', host, reason: verdict.reason });
      if (verdict.waitMs > 0) await new Promise((r) => setTimeout(r, verdict.waitMs));
    }
    req.url = url.pathname + url.search;
    delete req.headers['proxy-connection'];
    delete req.headers['proxy-authorization'];
    forwardProxy.web(
      req,
      res,
      { target: `http://${url.host}`, agent: forwardAgent, changeOrigin: tunnel !== undefined },
      (err: Error) => {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        log?.warn({ event: 'egress.upstream-error', host, code }, 'upstream failed');
        if (res.headersSent) return void res.destroy();
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`bastion egress gateway: ${host} could not be reached (${code})\n`);
      },
    );
  };

  const isSelf = (url: URL) =>
    (url.hostname === '127.0.0.1' || url.hostname === 'localhost') && Number(url.port || 80) === SANDBOX_GATEWAY.port;

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const target = req.url ?? '/';
    if (target.startsWith('/')) return handleApi(req, res, target);
    const checked = checkForwardUrl(target);
    if (!checked.ok) {
      // A client that sends API calls through HTTP_PROXY addresses the relay itself in absolute form.
      return refuse(res, 400, { kind: 'protocol', host: '', reason: checked.reason });
    }
    const url = checked.value;
    if (isSelf(url)) return handleApi(req, res, url.pathname + url.search);
    return handleForward(req, res, url);
  };

  // Plain HTTP inside a CONNECT tunnel: origin-form requests whose destination is the tunnel's.
  const tunnelTargets = new WeakMap<net.Socket, TunnelTarget>();
  const onTunnelRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const tunnel = tunnelTargets.get(req.socket);
    const target = req.url ?? '';
    if (tunnel === undefined || !target.startsWith('/'))
      return refuse(res, 400, {
        kind: 'protocol',
        host: tunnel?.host ?? '',
        reason: 'a request inside a tunnel must be origin-form (/path)',
      });
    const authority = net.isIPv6(tunnel.host) ? `[${tunnel.host}]` : tunnel.host;
    const checked = checkForwardUrl(`http://${authority}:${tunnel.port}${target}`);
    if (!checked.ok || checked.value.hostname.replace(/^\[|\]$/g, '') !== tunnel.host) {
      return refuse(res, 400, {
        kind: 'protocol',
        host: tunnel.host,
        reason: "the request target does not stay on the tunnel's host",
      });
    }
    return handleForward(req, res, checked.value, tunnel);
  };

  const guard =
    (handler: (req: http.IncomingMessage, res: http.ServerResponse) => unknown) =>
    (req: http.IncomingMessage, res: http.ServerResponse): void => {
      try {
        const pending = handler(req, res);
        if (pending instanceof Promise) pending.catch((err: unknown) => internalError(res, err));
      } catch (err) {
        internalError(res, err);
      }
    };

  const onClientError = (err: NodeJS.ErrnoException, socket: net.Socket) => {
    countMalformed();
    if (!socket.writable) return void socket.destroy();
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
  };

  const tunnels = new Set<net.Socket>();
  const inner = http.createServer(SERVER_OPTIONS, guard(onTunnelRequest));
  inner.on('clientError', onClientError);
  inner.on('connect', (_req: http.IncomingMessage, socket: net.Socket) => {
    record({ kind: 'protocol', host: '', reason: 'CONNECT inside a tunnel is refused' });
    socket.on('error', () => socket.destroy());
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });

  const server = http.createServer(SERVER_OPTIONS, guard(onRequest));
  server.maxConnections = MAX_CONNECTIONS;
  server.on('clientError', onClientError);
  // Protocol upgrades (websocket, h2c) are not proxied: refused rather than left to Node's default.
  const refuseUpgrade = (_req: http.IncomingMessage, socket: net.Socket) => {
    record({ kind: 'protocol', host: '', reason: 'protocol upgrades are not proxied' });
    socket.on('error', () => socket.destroy());
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  };
  server.on('upgrade', refuseUpgrade);
  inner.on('upgrade', refuseUpgrade);
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    try {
      handleConnect(
        {
          admit,
          record,
          inner,
          targets: tunnelTargets,
          sockets: tunnels,
          onUpstreamError: (host, code) => log?.warn({ event: 'egress.upstream-error', host, code }, 'upstream failed'),
          onInternalError: (socket, err) => internalError(socket, err),
        },
        req,
        client,
        head,
      );
    } catch (err) {
      internalError(client, err);
    }
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
        inner.closeAllConnections();
        for (const s of tunnels) s.destroy();
      });
      forwardAgent.destroy();
      api?.close();
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
    throw new BastionError('SANDBOX_UNAVAILABLE', `could not start the egress gateway in ${hostSocketDir}`, {
      cause: err,
    });
  }
  // A listening server's later 'error' (e.g. EMFILE on accept) is logged, not thrown to the process.
  server.on('error', (err: NodeJS.ErrnoException) => {
    countInternalError('server');
    log?.warn({ event: 'egress.server-error', code: err.code ?? err.name }, 'gateway server error');
  });
  log?.info(
    {
      event: 'egress.started',
      socket: hostSocketPath,
      allow: options.allow,
      deny: options.deny,
      api: options.api ? new URL(options.api.upstream).origin : undefined,
    },
    'egress gateway listening',
  );

  return {
    hostSocketDir,
    hostSocketPath,
    violations,
    stats,
    get upstreamRateLimited() {
      return upstreamRateLimited;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

export { DEFAULT_RETRY_AFTER_MS };
