import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RELAY_TOKEN_HEADER, startTokenRelay, type TokenRelay } from './token-relay';

let dir: string;
let upstream: Server;
let seen: { url: string; headers: IncomingHttpHeaders }[];
let relay: TokenRelay;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bastion-relay-test-'));
  seen = [];
  // Stands in for the egress gateway's socket, which injects the real key.
  upstream = createServer((req, res) => {
    seen.push({ url: req.url!, headers: req.headers });
    res.end('answered with the key');
  });
  await new Promise<void>((resolve) => upstream.listen(join(dir, 'gateway.sock'), resolve));
  relay = await startTokenRelay(join(dir, 'gateway.sock'));
});
afterEach(async () => {
  await relay.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

const get = (headers: Record<string, string>) =>
  fetch(`http://127.0.0.1:${relay.port}/v1beta/models/m:countTokens`, { headers });

describe('the doctor preflight relay', () => {
  it('forwards a request carrying its token to the gateway socket, without the token', async () => {
    const r = await get({ [RELAY_TOKEN_HEADER]: relay.token });
    expect([r.status, await r.text()]).toEqual([200, 'answered with the key']);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('/v1beta/models/m:countTokens');
    expect(seen[0]!.headers[RELAY_TOKEN_HEADER]).toBeUndefined();
  });

  it('answers 403 to another local client (no token, a wrong one) and forwards nothing', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { [RELAY_TOKEN_HEADER]: 'x'.repeat(relay.token.length) },
      { [RELAY_TOKEN_HEADER]: 'short' },
    ];
    for (const headers of attempts) {
      const r = await get(headers);
      expect(r.status).toBe(403);
    }
    expect(seen).toEqual([]);
  });
});
