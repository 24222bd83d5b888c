import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SANDBOX_GATEWAY } from '@bastion/gateway';
import { createMemoryAuditLog } from '@bastion/agent-runtime';
import type { NetworkObligation } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import { createRoutedEgress } from './routed-egress';

const KEY = 'AIzaSy-routed-egress-key-0123456789abcd';

function post(socketPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, method: 'POST', path: '/v1beta/models/gemini-2.5-flash:generateContent', agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end('{}');
  });
}

describe("routed egress (the failure simulator's gateway provisioner)", () => {
  const servers: http.Server[] = [];
  const upstream = async () => {
    const server = http.createServer((_req, res) => res.end('{}'));
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
});
