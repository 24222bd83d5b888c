import { GEMINI_API } from '@bastion/providers';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import fc from 'fast-check';
import { DEFAULT_POLICY_INPUT, Policy, createPolicyEngine, type PolicyInput } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import { createAuditLog } from '../audit/audit-log';
import { createDockerExecutor, SANDBOX_IMAGE } from '@bastion/sandbox';
import { createRuntime } from '../runtime';
import { describeWithDocker, managedContainers } from '@bastion/sandbox/test-support';
import { GATEWAY_PROBE, unhide, type ProbeResult, malformedRequest } from '@bastion/gateway/test-support';
import {
  startEgressGateway,
  type StartedEgressGateway,
  createGatewayProvisioner,
  SANDBOX_GATEWAY,
  gatewayEnv,
  wrapCommandWithRelay,
} from '@bastion/gateway';

const IMAGE = SANDBOX_IMAGE;
const REAL_KEY = `AIzaSy${randomUUID().replace(/-/g, '')}`;
const SESSION = `gateway-int-${randomUUID()}`;

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
  const api = await viaProxy('POST', '/v1beta/models/gemini-2.5-flash:generateContent?key=' + process.env.GEMINI_API_KEY, '{"contents":[]}');
  const denied = await viaProxy('GET', 'http://denied.example.test/secret');
  const burst = [];
  for (let i = 0; i < 6; i++) burst.push((await viaProxy('GET', 'http://127.0.0.1:' + sitePort + '/burst/' + i)).status);
  const key = findKey(Buffer.from(secretProbe, 'hex').toString());
  // Control: the same search does find the placeholder, which the sandbox is meant to hold.
  const control = findKey(process.env.GEMINI_API_KEY);
  console.log(JSON.stringify({ uid: process.getuid(), allowed, denied, burst, api, key, control }));
})();
`;

describeWithDocker('egress gateway inside the real sandbox', () => {
  const docker = new Docker();
  let site: http.Server;
  let upstream: http.Server;
  let gateway: StartedEgressGateway;
  const apiSeen: http.IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    site = http.createServer((req, res) =>
      req.url === '/robots.txt' ? res.writeHead(404).end() : res.end(`site says hi to ${req.url}`),
    );
    upstream = http.createServer((req, res) => {
      apiSeen.push(req.headers);
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ candidates: [{ content: { parts: [{ text: 'hello from the fake API' }] } }] }));
    });
    await Promise.all([site, upstream].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
    gateway = await startEgressGateway({
      allow: ['127.0.0.1'],
      deny: ['denied.example.test'],
      rateLimits: [{ domain: '127.0.0.1', requestsPerMinute: 6, burst: 4 }],
      api: {
        declaration: GEMINI_API,
        upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
        apiKey: REAL_KEY,
      },
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await Promise.all(
      [site, upstream].filter(Boolean).map(
        (s) =>
          new Promise((r) => {
            s.closeAllConnections();
            s.close(r);
          }),
      ),
    );
    const left = await docker.listContainers({
      all: true,
      filters: { label: ['dev.bastion.managed=true', `dev.bastion.session=${SESSION}`] },
    });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    expect(left).toEqual([]);
  });

  it('reaches an allowed site, refuses a denied one, throttles a burst and never exposes the real key', async () => {
    const env = {
      ...gatewayEnv([GEMINI_API]),
      SITE_PORT: String((site.address() as AddressInfo).port),
      KEY_PROBE_HEX: Buffer.from(REAL_KEY).toString('hex'),
    };
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
    expect(result.denied.body).toBe(
      'bastion egress gateway: denied.example.test is denied by the policy (deny: denied.example.test)\n',
    );
    // The API upstream is 127.0.0.1 too, and API requests draw on the same rule (issue 22): the
    // allowed request and the API call took two tokens, two more pass, the rest is throttled.
    expect(result.burst).toEqual([200, 200, 429, 429, 429, 429]);
    expect(result.api.status).toBe(200);
    expect(apiSeen.map((h) => h['x-goog-api-key'])).toEqual([REAL_KEY]);
    expect(result.key.hits).toEqual([]);
    expect(result.key.psLines).toBeGreaterThan(1);
    expect(result.control.hits).toEqual(
      expect.arrayContaining([
        'env:GEMINI_API_KEY',
        'ps',
        '/tmp/agent-scratch.txt',
        expect.stringMatching(/^\/proc\/\d+\/environ$/),
      ]),
    );
    expect(gateway.violations).toEqual([
      expect.objectContaining({ kind: 'domain', host: 'denied.example.test' }),
      ...[1, 2, 3, 4].map(() => expect.objectContaining({ kind: 'rate-limit', host: '127.0.0.1' })),
    ]);
  });

  it('survives CONNECT :99999 and 10,000 fuzzed requests sent from inside the sandbox, then still serves', async () => {
    // Generated on the host (fast-check is not in the image); huge heads are the unit fuzz's job.
    const sitePort = (site.address() as AddressInfo).port;
    const requests = fc
      .sample(malformedRequest(sitePort), { numRuns: 16_000, seed: 22 })
      .filter((b) => b.length < 4096)
      .slice(0, 10_000);
    expect(requests).toHaveLength(10_000);
    const api = http.createServer((_req, res) => res.end('{"candidates":[]}'));
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    const fuzzGateway = await startEgressGateway({
      allow: ['127.0.0.1', 'api2.cursor.sh'],
      deny: [],
      robots: false,
      api: {
        declaration: GEMINI_API,
        upstream: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
        apiKey: REAL_KEY,
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'bastion-fuzz-'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'requests.json'), JSON.stringify(requests.map((b) => b.toString('base64'))), {
      mode: 0o644,
    });
    try {
      const plan = {
        raw: ['CONNECT api2.cursor.sh:99999 HTTP/1.1\r\nhost: api2.cursor.sh:99999\r\n\r\n'],
        fuzz: '/fuzz/requests.json',
        after: 'gemini-2.5-flash',
      };
      const result = await runProbe(docker, fuzzGateway, plan, [`${dir}:/fuzz:ro`]);
      expect(result.raw).toEqual(['HTTP/1.1 400 Bad Request']);
      expect(result.fuzz?.sent).toBe(10_000);
      expect(result.fuzz?.answered).toBeGreaterThan(5_000);
      expect(result.after?.status).toBe(200);
      expect(fuzzGateway.stats.internalErrors).toBe(0);
      expect(fuzzGateway.stats.malformed).toBeGreaterThan(1_000);
      // This process (the gateway's host) is alive and the gateway answers from the host side too.
      const direct = await new Promise<number>((resolve, reject) => {
        const req = http.request(
          { socketPath: fuzzGateway.hostSocketPath, path: `http://127.0.0.1:${sitePort}/after`, agent: false },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(direct).toBe(200);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await fuzzGateway.close();
      await new Promise((r) => {
        api.closeAllConnections();
        api.close(r);
      });
    }
  }, 120_000);
});

async function runProbe(
  docker: Docker,
  gateway: StartedEgressGateway,
  plan: object,
  binds: string[] = [],
): Promise<ProbeResult> {
  const env = { ...gatewayEnv([GEMINI_API]), PROBE_PLAN: JSON.stringify(plan) };
  const container = await docker.createContainer({
    Image: IMAGE,
    Cmd: wrapCommandWithRelay(['node', '-e', GATEWAY_PROBE]),
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    User: '1001:1001',
    Labels: { 'dev.bastion.managed': 'true', 'dev.bastion.session': SESSION },
    HostConfig: {
      NetworkMode: 'none',
      Binds: [`${gateway.hostSocketDir}:${SANDBOX_GATEWAY.mountDir}:ro`, ...binds],
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=16m' },
      PidsLimit: 64,
    },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const output = demux((await container.logs({ stdout: true, stderr: true })) as Buffer);
    expect({ StatusCode, output: output.slice(-2000) }).toMatchObject({ StatusCode: 0 });
    return JSON.parse(output.trim().split('\n').pop() as string) as ProbeResult;
  } finally {
    await container.remove({ force: true });
  }
}

describeWithDocker('egress policy across real calls (runtime pipeline, Docker sandbox)', () => {
  const KEY = `AIzaSy${randomUUID().replace(/-/g, '')}`;
  const seenModels: string[] = [];
  let api: http.Server;
  let site: http.Server;
  let apiUrl: string;
  let sitePort: number;
  const runtimes: { runtime: ReturnType<typeof createRuntime>; sessionId: string }[] = [];
  const docker = new Docker();

  beforeAll(async () => {
    // A careless upstream: it reflects the key it was sent in headers and the body, and sets a cookie.
    api = http.createServer((req, res) => {
      seenModels.push(/models\/([^:]+)/.exec(req.url ?? '')?.[1] ?? '?');
      const key = String(req.headers['x-goog-api-key']);
      res.setHeader('x-goog-api-key', key);
      res.setHeader('x-reflect', `you sent ${key}`);
      res.setHeader('set-cookie', [`session=${key}`]);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ candidates: [{ content: { parts: [{ text: `echo ${key}` }] } }] }));
    });
    site = http.createServer((req, res) =>
      req.url === '/robots.txt' ? res.writeHead(404).end() : res.end(`page ${req.url}`),
    );
    await Promise.all([api, site].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    sitePort = (site.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const { runtime, sessionId } of runtimes) {
      await runtime.close();
      expect(await managedContainers(docker, sessionId)).toEqual([]);
    }
    await Promise.all(
      [api, site].map(
        (s) =>
          new Promise((r) => {
            s.closeAllConnections();
            s.close(r);
          }),
      ),
    );
  });

  const newRuntime = (network: PolicyInput['network']) => {
    const policy = Policy.parse({
      ...DEFAULT_POLICY_INPUT,
      providers: [{ name: 'gemini-cli', api: true, models: ['gemini-2.5-flash'] }],
      network,
    } satisfies PolicyInput);
    const engine = createPolicyEngine({ policy });
    const secrets = createSecretStore({ values: { 'gemini-api-key': KEY } });
    const executor = createDockerExecutor();
    const runtime = createRuntime({
      policy: () => engine,
      secrets,
      executor,
      audit: createAuditLog({ level: 'silent' }),
      egress: createGatewayProvisioner({ secrets, env: { GOOGLE_GEMINI_BASE_URL: apiUrl } }),
    });
    runtimes.push({ runtime, sessionId: executor.identity.sessionId });
    return runtime;
  };
  const call = (runtime: ReturnType<typeof createRuntime>, plan: object) =>
    runtime.pipeline.runSpec({
      provider: 'gemini-cli',
      image: IMAGE,
      command: ['node', '-e', GATEWAY_PROBE],
      env: { PROBE_PLAN: JSON.stringify(plan) },
      network: { mode: 'gateway', api: 'gemini', domains: [] },
    });
  const lastLine = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop() as string) as ProbeResult;

  it('answers a disallowed model 403 and ends the call POLICY_DENIED naming the model', async () => {
    const runtime = newRuntime({ mode: 'gateway', allow: [], deny: [] });
    seenModels.length = 0;
    const started = Date.now();
    const run = await call(runtime, {
      api: [{ model: 'gemini-2.5-flash' }, { model: 'gemini-2.5-pro' }],
      sleepMs: 60_000,
    });
    await run.release();
    expect(run.error?.code).toBe('POLICY_DENIED');
    expect(run.error?.message).toContain('gemini-2.5-pro');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(seenModels).toEqual(['gemini-2.5-flash']);
  }, 60_000);

  it("holds the policy's API rate limit across three calls of one runtime", async () => {
    const runtime = newRuntime({
      mode: 'gateway',
      allow: [],
      deny: [],
      rateLimits: [{ domain: '127.0.0.1', requestsPerMinute: 2, burst: 2 }],
    });
    const results = [];
    for (let i = 0; i < 3; i++) {
      const run = await call(runtime, { api: [{ model: 'gemini-2.5-flash' }], sleepMs: 30_000 * (i === 2 ? 1 : 0) });
      await run.release();
      results.push({
        code: run.error?.code ?? null,
        message: run.error?.message,
        status: run.error ? undefined : lastLine(run.stdout).api?.[0]?.status,
      });
    }
    expect(results.slice(0, 2)).toEqual([
      { code: null, message: undefined, status: 200 },
      { code: null, message: undefined, status: 200 },
    ]);
    expect(results[2].code).toBe('RATE_LIMITED');
    // The policy's limit, not the provider's 429: the fix is in the policy, not the provider account.
    expect(results[2].message).toMatch(/policy's rate limit for 127\.0\.0\.1/);
    expect(results[2].message).not.toMatch(/answered 429/);
  }, 90_000);

  it('counts the plain-HTTP requests inside one CONNECT tunnel against the rate limit', async () => {
    const runtime = newRuntime({
      mode: 'gateway',
      allow: ['127.0.0.1'],
      deny: [],
      rateLimits: [{ domain: '127.0.0.1', requestsPerMinute: 3, burst: 3 }],
    });
    const run = await call(runtime, { tunnel: { port: sitePort, paths: ['/a', '/b', '/c', '/d', '/e'] } });
    await run.release();
    expect(run.error).toBeNull();
    // CONNECT's token pays for /a; /b and /c take the other two; /d and /e are over the budget.
    expect(lastLine(run.stdout).tunnel).toEqual({ statuses: [200, 200, 200, 200, 429, 429] });
  }, 60_000);

  it("never lets a reflecting upstream's headers carry the real key into the sandbox", async () => {
    const runtime = newRuntime({ mode: 'gateway', allow: [], deny: [] });
    const run = await call(runtime, { api: [{ model: 'gemini-2.5-flash' }] });
    await run.release();
    expect(run.error).toBeNull();
    const seen = lastLine(run.stdout).api![0]!;
    expect(seen.status).toBe(200);
    const headers = unhide(seen.headers);
    const body = unhide(seen.body);
    expect(body).toContain('echo bastion-placeholder-key');
    expect(headers + body).not.toContain(KEY);
    expect(JSON.parse(headers)).not.toHaveProperty('x-goog-api-key');
    expect(JSON.parse(headers)).not.toHaveProperty('set-cookie');
    expect(JSON.parse(headers)).not.toHaveProperty('x-reflect');
  }, 60_000);
});

/** Docker multiplexes stdout/stderr of a non-TTY container with 8-byte frame headers. */
function demux(buf: Buffer): string {
  let out = '';
  for (let i = 0; i + 8 <= buf.length;) {
    const size = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return out;
}
