import { isIP } from 'node:net';
import { normalizeHost } from '@bastion/policy';

/**
 * Everything the sandbox sends is checked here before the gateway opens a socket or hands a value
 * to Node's networking: a port of 99999 reaching `net.connect` throws ERR_SOCKET_BAD_PORT out of
 * the server's handler and takes the whole host process (and every other call) down with it.
 */

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface Target {
  /** Normalised: lower case, no brackets, no trailing dot. */
  host: string;
  port: number;
}

/** Largest request head the gateway parses (Node's default is the same 16 KiB; set explicitly). */
export const MAX_HEADER_BYTES = 16 * 1024;
/** More header lines than any client we proxy sends; Node would silently drop the rest. */
export const MAX_HEADER_COUNT = 100;
/**
 * Provider API bodies up to this size are held so a reset pooled connection can be retried with
 * them; larger ones (inline files) are streamed and not retried. Bounds the gateway's memory per
 * request whatever the sandbox sends.
 */
export const API_RETRY_BUFFER_BYTES = 1024 * 1024;
/** Connections one call's gateway serves at once; a sandbox cannot hold the host's sockets. */
export const MAX_CONNECTIONS = 256;

/** Methods a provider API client uses. */
export const API_METHODS: ReadonlySet<string> = new Set(['GET', 'POST']);
/** Methods the plain-HTTP forward proxy carries; TRACE and friends are refused. */
export const FORWARD_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
]);

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** A DNS name of LDH labels (underscores tolerated, as real hosts use them) or an IP literal. */
export function checkHost(raw: string): Checked<string> {
  const host = normalizeHost(raw);
  if (host.length === 0) return { ok: false, reason: 'the host name is empty' };
  if (host.length > 253) return { ok: false, reason: 'the host name is longer than 253 characters' };
  if (isIP(host) !== 0) return { ok: true, value: host };
  if (!host.split('.').every((label) => LABEL.test(label)))
    return { ok: false, reason: 'the host name is not a valid DNS name or IP address' };
  return { ok: true, value: host };
}

export function checkPort(raw: string): Checked<number> {
  if (!/^\d{1,5}$/.test(raw)) return { ok: false, reason: 'the port is not a number' };
  const port = Number(raw);
  if (port < 1 || port > 65535) return { ok: false, reason: `port ${port} is outside 1-65535` };
  return { ok: true, value: port };
}

/** A CONNECT request target: `host:port` or `[v6]:port` (RFC 9110 authority-form), nothing else. */
export function checkConnectTarget(raw: string | undefined): Checked<Target> {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/@\s]+):([^:]*)$/.exec(raw ?? '');
  if (!m) return { ok: false, reason: 'CONNECT needs host:port' };
  const host = checkHost(m[1]);
  if (!host.ok) return host;
  const port = checkPort(m[2]);
  if (!port.ok) return port;
  return { ok: true, value: { host: host.value, port: port.value } };
}

/** An absolute-form proxy request target. Only http: (https goes through CONNECT). */
export function checkForwardUrl(raw: string): Checked<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    return { ok: false, reason: `the request target is not a URL (${(err as Error).name})` };
  }
  if (url.protocol !== 'http:')
    return { ok: false, reason: `${url.protocol} URLs go through CONNECT, not a plain proxy request` };
  if (url.username !== '' || url.password !== '')
    return { ok: false, reason: 'credentials in a proxied URL are refused' };
  const host = checkHost(url.hostname);
  if (!host.ok) return host;
  if (url.port !== '') {
    const port = checkPort(url.port);
    if (!port.ok) return port;
  }
  return { ok: true, value: url };
}

/** Header count and method, for requests Node's parser already accepted. */
export function checkRequestHead(
  method: string | undefined,
  rawHeaders: readonly string[],
  allowed: ReadonlySet<string>,
): Checked<string> {
  if (method === undefined || !allowed.has(method))
    return { ok: false, reason: `method ${method ?? '(none)'} is not allowed here` };
  if (rawHeaders.length / 2 > MAX_HEADER_COUNT)
    return { ok: false, reason: `more than ${MAX_HEADER_COUNT} header lines` };
  return { ok: true, value: method };
}
