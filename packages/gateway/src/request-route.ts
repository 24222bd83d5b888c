import net from 'node:net';
import { checkForwardUrl } from './request-guard';
import { SANDBOX_GATEWAY } from './sandbox-gateway';
import type { Violation } from './violation';
import type { TunnelTarget } from './connect-tunnel';

/** Where one HTTP request on the gateway goes: the provider API, the forward proxy, or a 400. */
export type RequestRoute =
  { to: 'api'; pathAndQuery: string } | { to: 'forward'; url: URL } | { to: 'refuse'; status: 400; v: Violation };

const isSelf = (url: URL) =>
  (url.hostname === '127.0.0.1' || url.hostname === 'localhost') && Number(url.port || 80) === SANDBOX_GATEWAY.port;

/**
 * A request on the gateway's own socket: origin-form goes to the provider API; absolute-form is
 * plain HTTP for the forward proxy, unless it names the relay itself (a client that sends its API
 * calls through HTTP_PROXY addresses the relay in absolute form).
 */
export function routeRequest(target: string | undefined): RequestRoute {
  const t = target ?? '/';
  if (t.startsWith('/')) return { to: 'api', pathAndQuery: t };
  const checked = checkForwardUrl(t);
  if (!checked.ok) return { to: 'refuse', status: 400, v: { kind: 'protocol', host: '', reason: checked.reason } };
  const url = checked.value;
  if (isSelf(url)) return { to: 'api', pathAndQuery: url.pathname + url.search };
  return { to: 'forward', url };
}

/**
 * Plain HTTP inside a CONNECT tunnel: only origin-form requests, and the resulting URL must stay on
 * the tunnel's host (the policy admitted that host, not whatever a request line names).
 */
export function routeTunnelRequest(
  tunnel: TunnelTarget | undefined,
  target: string | undefined,
): Exclude<RequestRoute, { to: 'api' }> {
  const t = target ?? '';
  if (tunnel === undefined || !t.startsWith('/'))
    return {
      to: 'refuse',
      status: 400,
      v: {
        kind: 'protocol',
        host: tunnel?.host ?? '',
        reason: 'a request inside a tunnel must be origin-form (/path)',
      },
    };
  const authority = net.isIPv6(tunnel.host) ? `[${tunnel.host}]` : tunnel.host;
  const checked = checkForwardUrl(`http://${authority}:${tunnel.port}${t}`);
  if (!checked.ok || checked.value.hostname.replace(/^\[|\]$/g, '') !== tunnel.host)
    return {
      to: 'refuse',
      status: 400,
      v: { kind: 'protocol', host: tunnel.host, reason: "the request target does not stay on the tunnel's host" },
    };
  return { to: 'forward', url: checked.value };
}
