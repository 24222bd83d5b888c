import type http from 'node:http';
import net from 'node:net';
import { checkConnectTarget, type Target } from './request-guard';
import { oneLine, type Violation } from './violation';

export type Admission = { ok: true } | { ok: false; status: 403 | 429; v: Violation; retryAfterMs?: number };

export interface TunnelTarget extends Target {
  /** The CONNECT took one rate-limit token; the first request seen inside uses it. */
  prepaid: boolean;
}

export interface ConnectTunnelOptions {
  /** Domain allowlist and rate limit for the tunnel's host (takes a token). */
  admit(host: string): Admission;
  record(v: Violation): void;
  /** Serves plain HTTP found inside a tunnel, request by request, knowing the tunnel's target. */
  inner: http.Server;
  targets: WeakMap<net.Socket, TunnelTarget>;
  /** Every socket a tunnel holds, so the gateway's close() can end them. */
  sockets: Set<net.Socket>;
  onUpstreamError(host: string, code: string): void;
  /** A listener threw: answer 502 on the socket and count it (never reaches the process). */
  onInternalError(client: net.Socket, err: unknown): void;
}

const TLS_HANDSHAKE = 0x16;

function reply(client: net.Socket, status: string, body: string, extra = ''): void {
  if (!client.writable) return void client.destroy();
  client.end(
    `HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`,
  );
}

/**
 * CONNECT: the target is validated (host syntax, port 1-65535) before any socket call, then the
 * policy is checked on the host name. What the client sends first decides how the tunnel is
 * counted: a TLS handshake stays end-to-end encrypted and counts once per connection (the gateway
 * cannot see requests inside); anything else is parsed as HTTP by the gateway, so every request in
 * it draws on the rate limit and is checked against robots.txt like a plain proxy request.
 */
export function handleConnect(
  o: ConnectTunnelOptions,
  req: http.IncomingMessage,
  client: net.Socket,
  head: Buffer,
): void {
  o.sockets.add(client);
  client.on('close', () => o.sockets.delete(client));
  client.on('error', () => client.destroy());

  const target = checkConnectTarget(req.url);
  if (!target.ok) {
    const v: Violation = { kind: 'protocol', host: '', reason: target.reason };
    o.record(v);
    return reply(client, '400 Bad Request', `bastion egress gateway: ${oneLine(v.reason)}\n`);
  }
  const { host, port } = target.value;
  const admitted = o.admit(host);
  if (!admitted.ok) {
    o.record(admitted.v);
    const retry =
      admitted.retryAfterMs !== undefined
        ? `retry-after: ${Math.max(1, Math.ceil(admitted.retryAfterMs / 1000))}\r\n`
        : '';
    const status = admitted.status === 403 ? '403 Forbidden' : '429 Too Many Requests';
    return reply(
      client,
      status,
      `bastion egress gateway: ${oneLine(admitted.v.reason)}\n`,
      `x-bastion-violation: ${admitted.v.kind}\r\n${retry}`,
    );
  }

  const upstream = net.connect({ host, port });
  o.sockets.add(upstream);
  upstream.on('close', () => o.sockets.delete(upstream));
  client.on('close', () => upstream.destroy());
  upstream.on('error', (err) => {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (upstream.connecting) {
      o.onUpstreamError(host, code);
      const body = `bastion egress gateway: ${host} could not be reached (${code})\n`;
      return reply(client, '502 Bad Gateway', body);
    }
    client.destroy();
  });
  upstream.once('connect', () => {
    try {
      open();
    } catch (err) {
      upstream.destroy();
      o.onInternalError(client, err);
    }
  });
  const open = () => {
    if (!client.writable) return void upstream.destroy();
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    const start = (first: Buffer) => {
      try {
        route(first);
      } catch (err) {
        upstream.destroy();
        o.onInternalError(client, err);
      }
    };
    const route = (first: Buffer) => {
      client.pause();
      if (first[0] === TLS_HANDSHAKE) {
        upstream.write(first);
        upstream.pipe(client);
        client.pipe(upstream);
        return;
      }
      // Plain HTTP: the gateway speaks to the target itself, per request, under the same rules.
      upstream.destroy();
      o.targets.set(client, { host, port, prepaid: true });
      client.unshift(first);
      o.inner.emit('connection', client);
      client.resume();
    };
    if (head.length > 0) start(head);
    else client.once('data', start);
  };
}
