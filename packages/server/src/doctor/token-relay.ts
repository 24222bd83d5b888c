import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The header a request to the relay must carry; the relay removes it before forwarding. */
export const RELAY_TOKEN_HEADER = 'x-bastion-relay-token';

export interface TokenRelay extends AsyncDisposable {
  readonly port: number;
  readonly token: string;
  close(): Promise<void>;
}

/**
 * A loopback HTTP relay to a Unix socket (the egress gateway's) for a client that needs a TCP
 * address, such as the Gemini SDK in `bastion doctor`. Any local user can connect to a loopback
 * port, so only requests carrying this relay's random token are forwarded (issue 22: a host
 * socket Bastion makes must not lend the gateway's key injection to another user); others get 403
 * and nothing reaches the socket.
 */
export async function startTokenRelay(socketPath: string): Promise<TokenRelay> {
  const token = randomBytes(24).toString('hex');
  const server = createServer((req, res) => {
    if (!tokenMatches(req.headers[RELAY_TOKEN_HEADER], token)) {
      req.resume();
      res.writeHead(403).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers[RELAY_TOKEN_HEADER];
    const upstream = request({ socketPath, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  return { port: (server.address() as AddressInfo).port, token, close, [Symbol.asyncDispose]: close };
}

function tokenMatches(got: string | string[] | undefined, token: string): boolean {
  if (typeof got !== 'string' || got.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(got), Buffer.from(token));
}
