import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithDocker, describeWithBwrap } from '@bastion/sandbox/test-support';

const ROOT = join(__dirname, '../../../..');
const BIN = join(ROOT, 'packages/server/bin/bastion.cjs');

/** Inside the sandbox: GETs through $HTTP_PROXY as curl -x would, and prints each status and body line. */
const CLIENT = `
const u = new URL(process.env.HTTP_PROXY || 'http://unset.invalid:1');
const get = (t) => new Promise((r) => {
  const q = require('http').request({ host: u.hostname, port: u.port, path: t, headers: { host: new URL(t).host } }, (res) => {
    let b = ''; res.on('data', (d) => (b += d)); res.on('end', () => r(res.statusCode + ' ' + b.split('\\n')[0]));
  });
  q.on('error', (e) => r(e.code)); q.end();
});
(async () => {
  console.log('env', process.env.HTTPS_PROXY, process.env.NO_PROXY);
  for (const t of process.argv.slice(1)) console.log(await get(t));
})();
`;

function execJson(
  args: string[],
): Promise<{ status: number | null; doc: Record<string, unknown> & { stdout: string } }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'exec', '--json', ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, BASTION_AUDIT_LOG: '/dev/null' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, doc: JSON.parse(out) }));
  });
}

let upstream: Server;
let port: number;
let dir: string;

/** The test's own upstream and an egress policy that allows it by name. */
function withUpstreamAndPolicy(): void {
  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'packages/server/dist/bastion.cjs')))
      spawnSync(process.execPath, [join(ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
    // The test's own upstream on the host's loopback: only the host-side gateway can reach it.
    upstream = createServer((req, res) => res.end(`upstream saw ${req.url}`));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    port = (upstream.address() as AddressInfo).port;
    dir = mkdtempSync(join(tmpdir(), 'bastion-exec-egress-'));
    writeFileSync(
      join(dir, 'egress.yaml'),
      [
        'version: 1',
        'resources:',
        '  defaults: { memory: 256m, cpus: 0.5, pids: 32, nofile: 1024, tmpfs: 64m, timeoutMs: 60000, outputBytes: 1m }',
        '  max: { memory: 512m, cpus: 1, pids: 64, nofile: 1024, tmpfs: 64m, timeoutMs: 60000, outputBytes: 8m }',
        'network:',
        '  mode: gateway',
        '  allow: [localhost]',
        '  deny: []',
        '',
      ].join('\n'),
    );
  }, 120_000);
  afterAll(async () => {
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });
}

describeWithDocker('bastion exec --policy with egress (real engine, issue 22)', () => {
  withUpstreamAndPolicy();

  it('reaches an allowed host through the gateway with the agents’ proxy env, and is refused for any other', async () => {
    const { status, doc } = await execJson([
      '--policy',
      join(dir, 'egress.yaml'),
      '--',
      'node',
      '-e',
      CLIENT,
      `http://localhost:${port}/allowed`,
      'http://exfil.evil.test/x',
    ]);
    expect(status).toBe(0);
    expect(doc.stdout.split('\n')).toEqual([
      'env http://127.0.0.1:8080 127.0.0.1,localhost',
      `200 upstream saw /allowed`,
      "403 bastion egress gateway: exfil.evil.test is not in the policy's allow list",
      '',
    ]);
  }, 60_000);

  it('gets no gateway and no proxy env when the policy grants no egress', async () => {
    const { status, doc } = await execJson(['--', 'node', '-e', CLIENT, `http://localhost:${port}/allowed`]);
    expect(status).toBe(0);
    // No proxy, no route, no DNS: the name does not even resolve.
    expect(doc.stdout).toMatch(/^env undefined undefined\n(EAI_AGAIN|ENOTFOUND)\n$/);
  }, 60_000);
});

describeWithBwrap('bastion exec --policy with egress on bubblewrap (issue 22)', () => {
  withUpstreamAndPolicy();

  it('reaches an allowed host through the gateway and is refused for any other, as on Docker', async () => {
    const { status, doc } = await execJson([
      '--backend',
      'bwrap',
      '--policy',
      join(dir, 'egress.yaml'),
      '--',
      'node',
      '-e',
      CLIENT,
      `http://localhost:${port}/allowed`,
      'http://exfil.evil.test/x',
    ]);
    expect(status).toBe(0);
    expect(doc.stdout.split('\n')).toEqual([
      'env http://127.0.0.1:8080 127.0.0.1,localhost',
      `200 upstream saw /allowed`,
      "403 bastion egress gateway: exfil.evil.test is not in the policy's allow list",
      '',
    ]);
  }, 60_000);
});
