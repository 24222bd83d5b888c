import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SANDBOX_GATEWAY } from '@bastion/gateway';
import { createMemoryAuditLog } from '@bastion/agent-runtime';
import type { NetworkObligation } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import { createRoutedEgress } from './routed-egress';

const KEY = 'AIzaSy-routed-egress-key-0123456789abcd';

function post(socketPath: string, path = '/v1beta/models/gemini-2.5-flash:generateContent'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method: 'POST', path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end('{}');
  });
}

describe("routed egress (the failure simulator's gateway provisioner)", () => {
  const servers: http.Server[] = [];
  const upstream = async (seen: string[] = []) => {
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${String(req.headers['x-api-key'] ?? req.headers['x-goog-api-key'])}`);
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  const network: Extract<NetworkObligation, { mode: 'gateway' }> = {
    mode: 'gateway',
    api: 'gemini',
    allow: [],
    deny: [],
    rateLimits: [{ domain: '127.0.0.1', requestsPerMinute: 2, burst: 2 }],
    robots: { respect: true, crawlDelay: true, userAgent: 'BastionAgent' },
  };

  it("holds the policy's API rate budget across calls, also when a call is routed to its own faulty upstream, as one runtime does", async () => {
    const [healthy, faulty] = [await upstream(), await upstream()];
    const egress = createRoutedEgress({
      secrets: createSecretStore({ values: { 'gemini-api-key': KEY } }),
      audit: createMemoryAuditLog(),
      defaultUpstream: healthy,
    });
    egress.route('call-2', faulty);
    const statuses: number[] = [];
    const limited: string[] = [];
    for (const correlationId of ['call-1', 'call-2', 'call-3']) {
      const attachment = await egress.attach(network, {
        correlationId,
        onViolation: () => undefined,
        onRateLimited: () => void limited.push(correlationId),
        onUnreachable: () => undefined,
      });
      try {
        statuses.push(await post(`${attachment.mounts[0]!.hostPath}/${SANDBOX_GATEWAY.socketName}`));
      } finally {
        await attachment.close();
      }
    }
    // Per-call provisioners gave every call a fresh budget of 2: [200, 200, 200].
    expect(statuses).toEqual([200, 200, 429]);
    expect(limited).toEqual(['call-3']);
  });

  it("sends each upstream API's traffic to its own default, and a routed call's to its fake, whichever API it names", async () => {
    const [gemini, anthropic, routed] = [[], [], []] as string[][];
    const egress = createRoutedEgress({
      secrets: createSecretStore({ values: { 'gemini-api-key': KEY, 'anthropic-api-key': 'sk-ant-routed-key' } }),
      audit: createMemoryAuditLog(),
      defaultUpstream: { gemini: await upstream(gemini), anthropic: await upstream(anthropic) },
    });
    egress.route('claude-2', await upstream(routed));
    const calls = [
      ['claude-1', 'anthropic', '/v1/messages'],
      ['gemini-1', 'gemini', '/v1beta/models/gemini-2.5-flash:generateContent'],
      ['claude-2', 'anthropic', '/v1/messages'],
    ] as const;
    for (const [correlationId, api, path] of calls) {
      const attachment = await egress.attach(
        { ...network, api, rateLimits: [] },
        { correlationId, onViolation: () => undefined, onRateLimited: () => undefined, onUnreachable: () => undefined },
      );
      try {
        expect(await post(`${attachment.mounts[0]!.hostPath}/${SANDBOX_GATEWAY.socketName}`, path)).toBe(200);
      } finally {
        await attachment.close();
      }
    }
    // The gateway injected each API's own key on the way to each upstream.
    expect(anthropic).toEqual(['POST /v1/messages sk-ant-routed-key']);
    expect(gemini).toEqual([`POST /v1beta/models/gemini-2.5-flash:generateContent ${KEY}`]);
    expect(routed).toEqual(['POST /v1/messages sk-ant-routed-key']);
  });
});
