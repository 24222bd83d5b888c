import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { GatewayAudit } from './gateway-audit';
import { GatewayHealth } from './gateway-health';
import type { Violation } from './violation';

/** One real request against a server whose handler is `handle`; resolves with status, headers and body. */
async function exchange(handle: (res: http.ServerResponse) => void) {
  const server = http.createServer((_req, res) => handle(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/' }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        })
        .on('error', reject);
    });
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

describe('GatewayAudit', () => {
  it('records violations in order, counts protocol ones as malformed, and mirrors counts into health', () => {
    const seen: Violation[] = [];
    const health = new GatewayHealth();
    const audit = new GatewayAudit({ onViolation: (v) => seen.push(v), health });
    audit.record({ kind: 'domain', host: 'x.test', reason: 'not allowed' });
    audit.record({ kind: 'protocol', host: '', reason: 'bad' });
    audit.countInternalError('tunnel');
    expect(audit.violations.map((v) => v.kind)).toEqual(['domain', 'protocol']);
    expect(seen).toEqual(audit.violations);
    expect(audit.stats).toEqual({ malformed: 1, internalErrors: 1 });
    expect(health.snapshot()).toMatchObject({ malformed: 1, internalErrors: { request: 0, tunnel: 1, server: 0 } });
  });

  it('keeps recording when the onViolation callback throws, and logs only the error name', () => {
    const warnings: unknown[] = [];
    const audit = new GatewayAudit({
      onViolation: () => {
        throw new RangeError('caller bug with secret-ish text');
      },
      logger: { warn: (o) => warnings.push(o), info: () => undefined },
    });
    expect(() => audit.record({ kind: 'domain', host: 'x.test', reason: 'r' })).not.toThrow();
    expect(audit.violations).toHaveLength(1);
    expect(warnings).toContainEqual({ event: 'egress.onViolation-failed', error: 'RangeError' });
    expect(JSON.stringify(warnings)).not.toContain('secret-ish');
  });

  it('answers a refusal as one plain-text line with its kind and a Retry-After in whole seconds', async () => {
    const audit = new GatewayAudit();
    const got = await exchange((res) =>
      audit.refuse(res, 429, { kind: 'rate-limit', host: 'x.test', reason: 'over\nthe limit' }, 1_200),
    );
    expect(got.status).toBe(429);
    expect(got.headers['x-bastion-violation']).toBe('rate-limit');
    expect(got.headers['retry-after']).toBe('2');
    expect(got.headers['content-length']).toBe(String(Buffer.byteLength(got.body)));
    expect(got.body.trimEnd().split('\n')).toHaveLength(1);
    expect(got.body).toMatch(/^bastion egress gateway: over/);
    expect(audit.violations).toHaveLength(1);
  });

  it('turns a handler failure into a 502 that quotes nothing of the error message, and counts it', async () => {
    const audit = new GatewayAudit();
    const got = await exchange((res) => audit.internalError(res, new TypeError('request bytes: Bearer abc')));
    expect(got.status).toBe(502);
    expect(got.body).toBe('bastion egress gateway: internal error\n');
    expect(audit.stats.internalErrors).toBe(1);
  });

  it('answers a failure on a raw tunnel socket with an HTTP 502 and closes it', async () => {
    const audit = new GatewayAudit();
    const server = net.createServer((socket) => audit.internalError(socket, new Error('boom')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const text = await new Promise<string>((resolve, reject) => {
        let out = '';
        net
          .connect(port, '127.0.0.1')
          .on('data', (c) => (out += c.toString()))
          .on('end', () => resolve(out))
          .on('error', reject);
      });
      expect(text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
      expect(text).toContain('connection: close');
      expect(audit.stats.internalErrors).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
