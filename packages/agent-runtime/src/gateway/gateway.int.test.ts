import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { startEgressGateway, type StartedEgressGateway } from './egress-gateway';
import { SANDBOX_GATEWAY, gatewayEnv, wrapCommandWithRelay } from './sandbox-gateway';

const IMAGE = 'bastion/sandbox:latest';
const REAL_KEY = `AIzaSy${randomUUID().replace(/-/g, '')}`;
const SESSION = `gateway-int-${randomUUID()}`;

function engineProblem(): string | undefined {
  const version = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' });
  if (version.status !== 0) return 'no Docker engine answers (run ops/docker/ensure-engine.sh)';
  const image = spawnSync('docker', ['image', 'inspect', IMAGE], { encoding: 'utf8' });
  if (image.status !== 0) return `image ${IMAGE} is missing (run ops/docker/build.sh)`;
  return undefined;
}

// Runs inside the sandbox as uid 1001 with no network but the relay on 127.0.0.1:8080.
const PROBE = String.raw`
const http = require('node:http');
const fs = require('node:fs');
const { execFileSync } = require('node:child_process');
const [sitePort, secretProbe] = [process.env.SITE_PORT, process.env.KEY_PROBE_HEX];
function viaProxy(method, target, body) {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port: 8080, method, path: target, agent: false, headers: { 'content-type': 'application/json', 'x-goog-api-key': process.env.GEMINI_API_KEY } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', (e) => resolve({ status: 0, body: String(e.code || e.message) }));
    req.end(body);
  });
}
function findKey(key) {
  const hits = [];
  for (const [k, v] of Object.entries(process.env)) if (String(v).includes(key) || k.includes(key)) hits.push('env:' + k);
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    for (const f of ['environ', 'cmdline']) {
      try { if (fs.readFileSync('/proc/' + pid + '/' + f).includes(key)) hits.push('/proc/' + pid + '/' + f); } catch {}
    }
  }
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = dir + '/' + e.name;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) { try { if (fs.readFileSync(p).includes(key)) hits.push(p); } catch {} }
    }
  };
  walk('/tmp');
  const ps = execFileSync('ps', ['auxeww'], { encoding: 'utf8' });
  if (ps.includes(key)) hits.push('ps');
  return { hits, psLines: ps.trim().split('\n').length };
}
(async () => {
  fs.writeFileSync('/tmp/agent-scratch.txt', 'the agent saved its key: ' + process.env.GEMINI_API_KEY);
  const allowed = await viaProxy('GET', 'http://127.0.0.1:' + sitePort + '/hello');
  const denied = await viaProxy('GET', 'http://denied.example.test/secret');
  const burst = [];
  for (let i = 0; i < 6; i++) burst.push((await viaProxy('GET', 'http://127.0.0.1:' + sitePort + '/burst/' + i)).status);
  const api = await viaProxy('POST', '/v1beta/models/gemini-2.5-flash:generateContent?key=' + process.env.GEMINI_API_KEY, '{"contents":[]}');
  const key = findKey(Buffer.from(secretProbe, 'hex').toString());
  // Control: the same search does find the placeholder, which the sandbox is meant to hold.
  const control = findKey(process.env.GEMINI_API_KEY);
  console.log(JSON.stringify({ uid: process.getuid(), allowed, denied, burst, api, key, control }));
})();
`;

const problem = engineProblem();
const underCi = process.env.CI === 'true';

if (problem !== undefined && !underCi) {
  console.warn(`\n!!! SKIPPING the egress gateway integration test: ${problem}. Under CI=true this fails. !!!\n`);
}

(problem !== undefined && !underCi ? describe.skip : describe)('egress gateway inside the real sandbox', () => {
  const docker = new Docker();
  let site: http.Server;
  let upstream: http.Server;
  let gateway: StartedEgressGateway;
  const apiSeen: http.IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    if (problem !== undefined) throw new Error(`the gateway integration test needs Docker: ${problem}`);
    site = http.createServer((req, res) => (req.url === '/robots.txt' ? res.writeHead(404).end() : res.end(`site says hi to ${req.url}`)));
    upstream = http.createServer((req, res) => {
      apiSeen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ candidates: [{ content: { parts: [{ text: 'hello from the fake API' }] } }] }));
    });
    await Promise.all([site, upstream].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
    gateway = await startEgressGateway({
      allow: ['127.0.0.1'],
      deny: ['denied.example.test'],
      rateLimits: [{ domain: '127.0.0.1', requestsPerMinute: 6, burst: 4 }],
      api: { upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, apiKey: REAL_KEY },
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([site, upstream].filter(Boolean).map((s) => new Promise((r) => { s.closeAllConnections(); s.close(r); })));
    const left = await docker.listContainers({ all: true, filters: { label: ['dev.bastion.managed=true', `dev.bastion.session=${SESSION}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    expect(left).toEqual([]);
  });

  it('reaches an allowed site, refuses a denied one, throttles a burst and never exposes the real key', async () => {
    const env = { ...gatewayEnv(), SITE_PORT: String((site.address() as AddressInfo).port), KEY_PROBE_HEX: Buffer.from(REAL_KEY).toString('hex') };
    const container = await docker.createContainer({
      Image: IMAGE,
      Cmd: wrapCommandWithRelay(['node', '-e', PROBE]),
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      User: '1001:1001',
      Labels: { 'dev.bastion.managed': 'true', 'dev.bastion.session': SESSION },
      HostConfig: {
        NetworkMode: 'none',
        Binds: [`${gateway.hostSocketDir}:${SANDBOX_GATEWAY.mountDir}:ro`],
        ReadonlyRootfs: true,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges'],
        Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=16m' },
        PidsLimit: 64,
      },
    });
    let output = '';
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const logs = (await container.logs({ stdout: true, stderr: true })) as Buffer;
      output = demux(logs);
      expect({ StatusCode, output }).toMatchObject({ StatusCode: 0 });
    } finally {
      await container.remove({ force: true });
    }

    const result = JSON.parse(output.trim().split('\n').pop() as string);
    expect(result.uid).toBe(1001);
    expect(result.allowed).toEqual({ status: 200, body: 'site says hi to /hello' });
    expect(result.denied.status).toBe(403);
    expect(result.denied.body).toBe('bastion egress gateway: denied.example.test is denied by the policy (deny: denied.example.test)\n');
    // One token went to the allowed request: three more pass, the rest of the burst is throttled.
    expect(result.burst).toEqual([200, 200, 200, 429, 429, 429]);
    expect(result.api.status).toBe(200);
    expect(apiSeen.map((h) => h['x-goog-api-key'])).toEqual([REAL_KEY]);
    expect(result.key.hits).toEqual([]);
    expect(result.key.psLines).toBeGreaterThan(1);
    expect(result.control.hits).toEqual(expect.arrayContaining(['env:GEMINI_API_KEY', 'ps', '/tmp/agent-scratch.txt', expect.stringMatching(/^\/proc\/\d+\/environ$/)]));
    expect(gateway.violations).toEqual([
      expect.objectContaining({ kind: 'domain', host: 'denied.example.test' }),
      ...[1, 2, 3].map(() => expect.objectContaining({ kind: 'rate-limit', host: '127.0.0.1' })),
    ]);
  });
});

/** Docker multiplexes stdout/stderr of a non-TTY container with 8-byte frame headers. */
function demux(buf: Buffer): string {
  let out = '';
  for (let i = 0; i + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return out;
}
