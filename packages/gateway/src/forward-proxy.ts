import http from 'node:http';
import { createProxyServer } from 'http-proxy-3';
import type { TunnelTarget } from './connect-tunnel';
import type { EgressAdmission } from './egress-admission';
import type { GatewayAudit } from './gateway-audit';
import { FORWARD_METHODS, checkRequestHead } from './request-guard';
import { scrubResponseHeaders } from './response-headers';
import { RobotsGate } from './robots-txt';

export type RobotsSetting =
  boolean | { respect?: boolean; crawlDelay?: boolean; userAgent?: string; maxCrawlWaitMs?: number };

/** The robots gate a gateway uses: none when robots.txt is not respected, else the shared one or a new one. */
export function robotsGateFor(setting: RobotsSetting | undefined, shared?: RobotsGate): RobotsGate | undefined {
  const opt = setting === undefined || setting === true ? {} : setting === false ? { respect: false } : setting;
  if (opt.respect === false) return undefined;
  return (
    shared ??
    new RobotsGate({
      userAgent: opt.userAgent ?? 'BastionAgent',
      crawlDelay: opt.crawlDelay ?? true,
      maxCrawlWaitMs: opt.maxCrawlWaitMs,
    })
  );
}

export interface ForwardProxyOptions {
  admission: EgressAdmission;
  audit: GatewayAudit;
  robots?: RobotsGate;
  /** Response headers carrying one of these values are dropped before the sandbox sees them. */
  secrets: readonly string[];
}

/**
 * The forward proxy for plain HTTP in absolute form and for plain HTTP found inside a tunnel:
 * request head, admission (domain lists, rate limit), robots.txt, then http-proxy-3 with one
 * keep-alive agent for the gateway's life.
 */
export class ForwardProxy {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly proxy = createProxyServer({ xfwd: false, changeOrigin: false });

  constructor(private readonly options: ForwardProxyOptions) {
    const { secrets } = options;
    this.proxy.on('proxyRes', (proxyRes) => {
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
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL, tunnel?: TunnelTarget): Promise<void> {
    const { admission, audit, robots } = this.options;
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const head = checkRequestHead(req.method, req.rawHeaders, FORWARD_METHODS);
    if (!head.ok) return audit.refuse(res, 405, { kind: 'protocol', host, reason: head.reason });
    // The CONNECT that opened a tunnel already took a token; its first request uses that one.
    const prepaid = tunnel?.prepaid === true;
    if (tunnel) tunnel.prepaid = false;
    const admitted = prepaid ? admission.admitDomain(host) : admission.admit(host);
    if (!admitted.ok) return audit.refuse(res, admitted.status, admitted.v, admitted.retryAfterMs);
    if (robots && (req.method === 'GET' || req.method === 'HEAD')) {
      const verdict = await robots.check(url, (h) => admission.admitDomain(h).ok);
      if (!verdict.allow) return audit.refuse(res, verdict.status, { kind: 'robots', host, reason: verdict.reason });
      if (verdict.waitMs > 0) await new Promise((r) => setTimeout(r, verdict.waitMs));
    }
    req.url = url.pathname + url.search;
    delete req.headers['proxy-connection'];
    delete req.headers['proxy-authorization'];
    this.proxy.web(
      req,
      res,
      { target: `http://${url.host}`, agent: this.agent, changeOrigin: tunnel !== undefined },
      (err: Error) => {
        const code = (err as NodeJS.ErrnoException).code ?? 'error';
        audit.log?.warn({ event: 'egress.upstream-error', host, code }, 'upstream failed');
        if (res.headersSent) return void res.destroy();
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`bastion egress gateway: ${host} could not be reached (${code})\n`);
      },
    );
  }

  close(): void {
    this.agent.destroy();
    this.proxy.close();
  }
}
