import http from 'node:http';
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RateLimiter } from '@bastion/policy';
import { EgressAdmission } from './egress-admission';
import { ForwardProxy } from './forward-proxy';
import { GatewayAudit } from './gateway-audit';
import { GatewayListener } from './gateway-listener';

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

/** A listener without a provider API, allowing only 127.0.0.1, on a socket in a fresh directory. */
async function started() {
  const dir = await mkdtemp(join(tmpdir(), 'gw-listener-'));
  const audit = new GatewayAudit();
  const admission = new EgressAdmission({ allow: ['127.0.0.1'], deny: [], limiter: new RateLimiter([]) });
  const forward = new ForwardProxy({ admission, audit, secrets: [] });
  const listener = new GatewayListener({ audit, admission, forward });
  const socketPath = join(dir, 'gw.sock');
  await listener.listen(socketPath);
  return {
    audit,
    listener,
    socketPath,
    close: once(async () => {
      await listener.close();
      forward.close();
      await rm(dir, { recursive: true, force: true });
    }),
  };
}

/** Writes raw bytes on the gateway socket and returns everything it answers until it closes. */
function raw(socketPath: string, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const s = net.connect(socketPath, () => s.write(bytes));
    s.on('data', (c) => (out += c.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

describe('GatewayListener', () => {
  it('refuses origin-form (API) requests with 403 when no provider API is routed through it', async () => {
    const gw = await started();
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.get({ socketPath: gw.socketPath, path: '/v1/models' }, resolve).on('error', reject),
      );
      res.resume();
      expect(res.statusCode).toBe(403);
      expect(res.headers['x-bastion-violation']).toBe('api');
      expect(gw.audit.violations).toEqual([
        { kind: 'api', host: 'api', reason: 'no provider API is routed through this gateway' },
      ]);
    } finally {
      await gw.close();
    }
  });

  it('refuses protocol upgrades and unparsable requests as malformed, answering each on the socket', async () => {
    const gw = await started();
    try {
      const upgrade = await raw(
        gw.socketPath,
        'GET http://127.0.0.1/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n',
      );
      expect(upgrade).toMatch(/^HTTP\/1\.1 400 /);
      const garbage = await raw(gw.socketPath, 'NOT HTTP AT ALL\r\n\r\n');
      expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
      expect(gw.audit.stats.malformed).toBe(2);
      expect(gw.audit.violations.map((v) => v.reason)).toEqual(['protocol upgrades are not proxied']);
    } finally {
      await gw.close();
    }
  });

  it('refuses a CONNECT to a host outside the allowlist before opening any tunnel', async () => {
    const gw = await started();
    try {
      const answer = await raw(
        gw.socketPath,
        'CONNECT denied.example:443 HTTP/1.1\r\nHost: denied.example:443\r\n\r\n',
      );
      expect(answer).toMatch(/^HTTP\/1\.1 403 /);
      expect(gw.audit.violations).toMatchObject([{ kind: 'domain', host: 'denied.example' }]);
    } finally {
      await gw.close();
    }
  });

  it('close() ends an open tunnel and its upstream socket', async () => {
    const accepted: net.Socket[] = [];
    const upstream = net.createServer((s) => {
      accepted.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const { port } = upstream.address() as net.AddressInfo;
    const gw = await started();
    try {
      const client = net.connect(gw.socketPath);
      const established = new Promise<string>((resolve) => client.once('data', (c) => resolve(c.toString())));
      client.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      expect(await established).toMatch(/^HTTP\/1\.1 200 /);
      // The tunnel is counted once its first bytes decide its kind (TLS here).
      client.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00]));
      const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
      client.on('error', () => undefined);
      await new Promise((r) => setTimeout(r, 100));
      expect(gw.listener.tunnelSockets).toBe(2);
      await gw.close();
      await closed;
      expect(gw.listener.tunnelSockets).toBe(0);
    } finally {
      await gw.close();
      for (const s of accepted) s.destroy();
      await new Promise((r) => upstream.close(r));
    }
  });
});
