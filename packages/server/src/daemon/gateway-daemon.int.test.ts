import Dockerode from 'dockerode';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithDocker, managedContainers } from '@bastion/sandbox/test-support';
import { stopDaemonChild, waitForDaemonListening } from '../test-support/daemon-child';

const ROOT = join(__dirname, '../../../..');

/**
 * Runs in the sandbox of a `bastion exec` that a long-running `bastion daemon` serves (its policy
 * grants egress, so the call gets a gateway in the daemon's process). Before issue 22 the first
 * request below threw ERR_SOCKET_BAD_PORT out of the gateway and killed the daemon with every
 * other caller's call. Then 10,000 deterministic malformed requests, then one the policy refuses,
 * which must still get its 403.
 */
const FLOOD = String.raw`
const net = require('net');
const send = (b, ms) => new Promise((r) => {
  const s = net.connect(8080, '127.0.0.1');
  let o = '';
  const done = () => { clearTimeout(t); s.destroy(); r(o); };
  const t = setTimeout(done, ms);
  s.setEncoding('latin1');
  s.on('data', (c) => (o += c));
  s.on('error', done);
  s.on('close', done);
  s.write(b);
});
let seed = 22;
const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
const pick = (a) => a[Math.floor(rnd() * a.length)];
const methods = ['GET', 'POST', 'CONNECT', 'TRACE', 'PUT', 'G ET', '', 'HEAD'];
const hosts = ['allowed.example.test', '[zz', 'a..b', '', 'x'.repeat(300), '%00', 'exfil.evil.test', '[::1'];
const ports = ['0', '65536', '99999', '-1', '1e3', '', '4294967297', ' 1'];
const gen = (i) => {
  switch (i % 5) {
    case 0: return 'CONNECT ' + pick(hosts) + ':' + pick(ports) + ' HTTP/1.1\r\n\r\n';
    case 1: return pick(methods) + ' http://' + pick(hosts) + ':' + pick(ports) + '/x HTTP/1.1\r\nhost: x\r\n\r\n';
    case 2: return pick(methods) + ' //' + pick(hosts) + '/v1beta/models/' + pick(hosts) + ':generateContent HTTP/1.1\r\ncontent-length: 0\r\n\r\n';
    case 3: return Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 120) }, () => Math.floor(rnd() * 256)));
    default: return 'GET http://' + pick(hosts) + '/ HTTP/1.1\r\n' + Array.from({ length: Math.floor(rnd() * 150) }, (_, j) => 'x-' + j + ': ' + j).join('\r\n') + '\r\n\r\n';
  }
};
(async () => {
  const badPort = (await send('CONNECT allowed.example.test:99999 HTTP/1.1\r\nhost: allowed.example.test:99999\r\n\r\n', 3000)).split('\r\n')[0];
  let at = 0, answered = 0;
  const worker = async () => { while (at < 10000) { const b = gen(at++); if ((await send(b, 250)).length > 0) answered++; } };
  await Promise.all(Array.from({ length: 64 }, worker));
  const after = (await send('CONNECT exfil.evil.test:443 HTTP/1.1\r\n\r\n', 3000)).split('\r\n')[0];
  console.log(JSON.stringify({ badPort, sent: at, answered, after }));
})();
`;

describeWithDocker('the egress gateway inside a long-running bastion daemon', () => {
  const docker = new Dockerode();
  let dir: string;
  let bundle: string;
  let env: NodeJS.ProcessEnv;
  let daemon: ChildProcess | undefined;
  let session = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-gw-daemon-'));
    bundle = join(dir, 'bastion.cjs');
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs'), '--outfile', bundle], {
      encoding: 'utf8',
    });
    expect(built.status).toBe(0);
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'version: 1\nnetwork:\n  mode: gateway\n  allow: [allowed.example.test]\n');
    // A private runtime directory: no other test's `bastion exec` finds this daemon.
    const xdg = join(dir, 'xdg');
    mkdirSync(xdg, { mode: 0o700 });
    // XDG_CACHE_HOME: this test's own bundle keeps its code caches in the test's directory.
    env = { ...process.env, XDG_RUNTIME_DIR: xdg, XDG_CACHE_HOME: join(dir, 'cache'), BASTION_AUDIT_LOG: '/dev/null' };
    delete env.BASTION_NO_DAEMON;
    const child = spawn(process.execPath, [bundle, 'daemon', '--pool-size', '1', '--policy', policy], {
      cwd: dir,
      env: { ...env, BASTION_AUDIT_LOG: join(dir, 'daemon-audit.log') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    daemon = child;
    const line = await waitForDaemonListening(child);
    session = /session ([0-9a-f-]+)/.exec(line)?.[1] ?? '';
    expect(session).not.toBe('');
  }, 90_000);

  afterAll(async () => {
    await stopDaemonChild(daemon);
    if (session) {
      const deadline = Date.now() + 20_000;
      while ((await managedContainers(docker, session)).length > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 250));
      expect(await managedContainers(docker, session)).toEqual([]);
    }
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const bastion = (args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolveRun, reject) => {
      const child = spawn(process.execPath, [bundle, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolveRun({ code, stdout, stderr }));
    });

  it('survives CONNECT :99999 and 10,000 malformed requests from a sandbox, and serves the next call', async () => {
    const flood = await bastion(['exec', '--json', '--', 'node', '-e', FLOOD]);
    expect({ code: flood.code, stderr: flood.stderr.slice(0, 500) }).toMatchObject({ code: 0 });
    const doc = JSON.parse(flood.stdout) as { status: string; stdout: string };
    const seen = JSON.parse(doc.stdout.trim().split('\n').pop() as string) as {
      badPort: string;
      sent: number;
      answered: number;
      after: string;
    };
    expect(seen.badPort).toBe('HTTP/1.1 400 Bad Request');
    expect(seen.sent).toBe(10_000);
    expect(seen.answered).toBeGreaterThan(5_000);
    expect(seen.after).toBe('HTTP/1.1 403 Forbidden');
    // The daemon lives on and serves the next caller.
    expect(daemon?.exitCode).toBeNull();
    const next = await bastion(['exec', '--json', '--', 'echo', 'still served']);
    expect(next.code).toBe(0);
    expect((JSON.parse(next.stdout) as { stdout: string }).stdout).toBe('still served\n');
    const audit = readFileSync(join(dir, 'daemon-audit.log'), 'utf8');
    expect(audit).toContain('egress.violation');
    expect(audit).not.toContain('egress.internal-error');
  }, 120_000);
});
