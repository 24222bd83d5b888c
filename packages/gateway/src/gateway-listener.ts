import http from 'node:http';
import net from 'node:net';
import type { ApiProxy } from './api-proxy';
import { handleConnect, type TunnelTarget } from './connect-tunnel';
import type { EgressAdmission } from './egress-admission';
import type { ForwardProxy } from './forward-proxy';
import type { GatewayAudit } from './gateway-audit';
import { MAX_CONNECTIONS, MAX_HEADER_BYTES } from './request-guard';
import { routeRequest, routeTunnelRequest } from './request-route';

/** Node's own parser limits, stated here so a change in Node's defaults does not widen them. */
const SERVER_OPTIONS: http.ServerOptions = {
  keepAlive: true,
  maxHeaderSize: MAX_HEADER_BYTES,
  requestTimeout: 300_000,
  headersTimeout: 30_000,
};

const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n';

export interface GatewayListenerParts {
  audit: GatewayAudit;
  admission: EgressAdmission;
  forward: ForwardProxy;
  /** Without it, origin-form requests (the provider API) are refused. */
  api?: ApiProxy;
}

/**
 * The gateway's connections: the outer server (API requests, absolute-form plain HTTP, CONNECT)
 * and the inner one that parses plain HTTP found inside a tunnel. It owns the per-connection
 * state — which tunnel a socket belongs to and every socket a tunnel holds — so close() can end
 * all of them. Nothing a sandbox sends may throw out of a handler: failures become a 502 via the
 * audit and are counted, never raised to the process.
 */
export class GatewayListener {
  private readonly server: http.Server;
  private readonly inner: http.Server;
  /** The destination of each tunnel whose bytes the inner server parses. */
  private readonly tunnelTargets = new WeakMap<net.Socket, TunnelTarget>();
  /** Every socket a tunnel holds (both ends). */
  private readonly tunnels = new Set<net.Socket>();

  constructor(private readonly parts: GatewayListenerParts) {
    const { audit } = parts;
    this.inner = http.createServer(SERVER_OPTIONS, this.guard(this.onTunnelRequest));
    this.inner.on('clientError', this.onClientError);
    this.inner.on('connect', (_req: http.IncomingMessage, socket: net.Socket) => {
      audit.record({ kind: 'protocol', host: '', reason: 'CONNECT inside a tunnel is refused' });
      socket.on('error', () => socket.destroy());
      socket.end(BAD_REQUEST);
    });

    this.server = http.createServer(SERVER_OPTIONS, this.guard(this.onRequest));
    this.server.maxConnections = MAX_CONNECTIONS;
    this.server.on('clientError', this.onClientError);
    // Protocol upgrades (websocket, h2c) are not proxied: refused rather than left to Node's default.
    this.server.on('upgrade', this.refuseUpgrade);
    this.inner.on('upgrade', this.refuseUpgrade);
    this.server.on('connect', this.onConnect);
  }

  /** Number of sockets tunnels hold now. */
  get tunnelSockets(): number {
    return this.tunnels.size;
  }

  async listen(path: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(path, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    // A listening server's later 'error' (e.g. EMFILE on accept) is logged, not thrown to the process.
    this.server.on('error', (err: NodeJS.ErrnoException) => {
      this.parts.audit.countInternalError('server');
      this.parts.audit.log?.warn({ event: 'egress.server-error', code: err.code ?? err.name }, 'gateway server error');
    });
  }

  /** Stops accepting and ends every connection, including open tunnels. */
  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      this.inner.closeAllConnections();
      for (const s of this.tunnels) s.destroy();
    });
  }

  private readonly onRequest = (req: http.IncomingMessage, res: http.ServerResponse): unknown => {
    const route = routeRequest(req.url);
    if (route.to === 'refuse') return this.parts.audit.refuse(res, route.status, route.v);
    if (route.to === 'forward') return this.parts.forward.handle(req, res, route.url);
    if (!this.parts.api)
      return this.parts.audit.refuse(res, 403, {
        kind: 'api',
        host: 'api',
        reason: 'no provider API is routed through this gateway',
      });
    return this.parts.api.handle(req, res, route.pathAndQuery);
  };

  private readonly onTunnelRequest = (req: http.IncomingMessage, res: http.ServerResponse): unknown => {
    const tunnel = this.tunnelTargets.get(req.socket);
    const route = routeTunnelRequest(tunnel, req.url);
    if (route.to === 'refuse') return this.parts.audit.refuse(res, route.status, route.v);
    return this.parts.forward.handle(req, res, route.url, tunnel);
  };

  private readonly onConnect = (req: http.IncomingMessage, client: net.Socket, head: Buffer): void => {
    const { audit, admission } = this.parts;
    try {
      handleConnect(
        {
          admit: (host) => admission.admit(host),
          record: (v) => audit.record(v),
          inner: this.inner,
          targets: this.tunnelTargets,
          sockets: this.tunnels,
          onUpstreamError: (host, code) =>
            audit.log?.warn({ event: 'egress.upstream-error', host, code }, 'upstream failed'),
          onInternalError: (socket, err) => audit.internalError(socket, err),
        },
        req,
        client,
        head,
      );
    } catch (err) {
      audit.internalError(client, err);
    }
  };

  private readonly refuseUpgrade = (_req: http.IncomingMessage, socket: net.Socket): void => {
    this.parts.audit.record({ kind: 'protocol', host: '', reason: 'protocol upgrades are not proxied' });
    socket.on('error', () => socket.destroy());
    socket.end(BAD_REQUEST);
  };

  private readonly onClientError = (err: NodeJS.ErrnoException, socket: net.Socket): void => {
    this.parts.audit.countMalformed();
    if (!socket.writable) return void socket.destroy();
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
  };

  private guard(handler: (req: http.IncomingMessage, res: http.ServerResponse) => unknown) {
    return (req: http.IncomingMessage, res: http.ServerResponse): void => {
      try {
        const pending = handler(req, res);
        if (pending instanceof Promise) pending.catch((err: unknown) => this.parts.audit.internalError(res, err));
      } catch (err) {
        this.parts.audit.internalError(res, err);
      }
    };
  }
}
