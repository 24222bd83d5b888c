import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSecretStore } from '@bastion/security';
import type { NetworkObligation } from '@bastion/policy';
import { createGatewayProvisioner } from './gateway-provisioner';
import { SANDBOX_GATEWAY } from './sandbox-gateway';

const KEY = 'AIzaSy-provisioner-key-0123456789abcdef';

function post(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method: 'POST', path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe('gateway provisioner', () => {
  let api: http.Server;
  let port: number;
  beforeAll(async () => {
    api = http.createServer((_req, res) => res.end('{}'));
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    port = (api.address() as AddressInfo).port;
  });
  afterAll(
    () =>
      new Promise((r) => {
        api.closeAllConnections();
        api.close(r);
      }),
  );

  const network: Extract<NetworkObligation, { mode: 'gateway' }> = {
    mode: 'gateway',
    api: 'gemini',
    models: ['gemini-2.5-flash', 'gemini-2.5-flash-lite'],
    allow: [],
    deny: [],
    rateLimits: [{ domain: '127.0.0.1', requestsPerMinute: 2, burst: 2 }],
    robots: { respect: true, crawlDelay: true, userAgent: 'BastionAgent' },
  };
  const call = () => {
    const events: { rateLimited: (number | undefined)[]; causes: unknown[]; violations: { kind: string }[] } = {
      rateLimited: [],
      causes: [],
      violations: [],
    };
    return {
      events,
      handle: {
        correlationId: 'c',
        onViolation: (v: { kind: string }) => events.violations.push(v),
        onRateLimited: (ms?: number, cause?: unknown) => {
          events.rateLimited.push(ms);
          events.causes.push(cause);
        },
        onUnreachable: () => undefined,
      },
    };
  };

  it("keeps one rate budget across calls, so three calls share the policy's 2 requests", async () => {
    const provisioner = createGatewayProvisioner({
      secrets: createSecretStore({ values: { 'gemini-api-key': KEY } }),
      env: { GOOGLE_GEMINI_BASE_URL: `http://127.0.0.1:${port}` },
    });
    const statuses: number[] = [];
    const limited: (number | undefined)[][] = [];
    for (let i = 0; i < 3; i++) {
      const c = call();
      const attachment = await provisioner.attach(network, c.handle);
      const socket = `${attachment.mounts[0].hostPath}/${SANDBOX_GATEWAY.socketName}`;
      statuses.push(await post(socket, '/v1beta/models/gemini-2.5-flash:generateContent'));
      limited.push(c.events.rateLimited);
      await attachment.close();
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(limited[2]).toHaveLength(1);
    expect(limited[2][0]).toBeGreaterThan(0);
  });

  it("tells the call whose limit it was: the policy's rule, or the provider's own 429", async () => {
    const limitedApi = http.createServer((_req, res) =>
      res.writeHead(429, { 'retry-after': '7' }).end('{"error":{"code":429}}'),
    );
    await new Promise<void>((r) => limitedApi.listen(0, '127.0.0.1', r));
    try {
      const upstreamPort = (limitedApi.address() as AddressInfo).port;
      const provisioner = createGatewayProvisioner({
        secrets: createSecretStore({ values: { 'gemini-api-key': KEY } }),
        env: { GOOGLE_GEMINI_BASE_URL: `http://127.0.0.1:${upstreamPort}` },
      });
      const causes: unknown[] = [];
      for (const rateLimits of [[], [{ domain: '127.0.0.1', requestsPerMinute: 1, burst: 1 }]]) {
        const c = call();
        const attachment = await provisioner.attach({ ...network, rateLimits }, c.handle);
        const socket = `${attachment.mounts[0].hostPath}/${SANDBOX_GATEWAY.socketName}`;
        // Without a policy limit the provider's 429 ends the call; with one, the first request
        // spends the policy's budget (and meets the provider's 429), the second meets the policy.
        for (let i = 0; i < (rateLimits.length === 0 ? 1 : 2); i++)
          expect(await post(socket, '/v1beta/models/gemini-2.5-flash:generateContent')).toBe(429);
        causes.push(c.events.causes.at(-1));
        await attachment.close();
      }
      expect(causes).toEqual([{ source: 'upstream' }, { source: 'policy', rule: '127.0.0.1' }]);
    } finally {
      limitedApi.closeAllConnections();
      await new Promise((r) => limitedApi.close(r));
    }
  });

  it("pins the Gemini CLI to the policy's first model and refuses others as a model violation", async () => {
    const provisioner = createGatewayProvisioner({
      secrets: createSecretStore({ values: { 'gemini-api-key': KEY } }),
      env: { GOOGLE_GEMINI_BASE_URL: `http://127.0.0.1:${port}` },
    });
    const c = call();
    const attachment = await provisioner.attach({ ...network, rateLimits: [] }, c.handle);
    try {
      expect(attachment.env.GEMINI_MODEL).toBe('gemini-2.5-flash');
      expect(JSON.stringify(attachment.env)).not.toContain(KEY);
      const socket = `${attachment.mounts[0].hostPath}/${SANDBOX_GATEWAY.socketName}`;
      expect(await post(socket, '/v1beta/models/gemini-2.5-pro:generateContent')).toBe(403);
      expect(c.events.violations).toEqual([
        expect.objectContaining({ kind: 'model', reason: expect.stringContaining('gemini-2.5-pro') }),
      ]);
    } finally {
      await attachment.close();
    }
  });
});
