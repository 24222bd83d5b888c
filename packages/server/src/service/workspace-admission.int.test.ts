import Dockerode from 'dockerode';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LABELS } from '@bastion/sandbox';
import { describeWithDocker } from '@bastion/sandbox/test-support';
import { waitForServeUrl } from '../test-support/serve-child';

const REPO = join(__dirname, '../../../..');
const BIN = join(REPO, 'packages/server/bin/bastion.cjs');

/** Every layout's base dir, removed in afterAll so a failing test leaves none behind. */
const bases: string[] = [];

/** Everything an attacker holding the token or an MCP connection would try. */
function layout() {
  const base = mkdtempSync(join(tmpdir(), 'bastion-admission-'));
  bases.push(base);
  const root = join(base, 'roots');
  const outside = join(base, 'outside');
  // The working directory the server is started from: a repository with its own Bastion files.
  const cwd = join(base, 'repo');
  for (const d of [root, outside, cwd]) mkdirSync(d, { recursive: true });
  for (const d of [base, root, outside, cwd]) chmodSync(d, 0o755);
  symlinkSync('/etc', join(root, 'etc-link'));
  symlinkSync('/', join(root, 'slash-link'));
  symlinkSync('/root', join(root, 'root-link'));
  symlinkSync(outside, join(root, 'outside-link'));
  writeFileSync(join(cwd, 'bastion-flags.yaml'), 'FF_CURSOR_AUTOFIX: "true"\n');
  writeFileSync(join(cwd, 'bastion.config.yaml'), 'workspaceRoots: [/]\n');
  const token = randomBytes(24).toString('hex');
  writeFileSync(join(base, 'token'), token, { mode: 0o600 });
  const refused = [
    '/etc',
    '/',
    '/root',
    '/etc/../etc/ssh',
    join(root, 'etc-link'),
    join(root, 'slash-link'),
    join(root, 'root-link'),
    join(root, 'outside-link'),
    outside,
    `${root}/../outside`,
  ];
  return { base, root, cwd, token, tokenFile: join(base, 'token'), audit: join(base, 'audit.log'), refused };
}

function auditEvents(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { event: string }).event);
}

/** Containers the server process owns, with what each mounts. */
async function mountsOf(docker: Dockerode, pid: number): Promise<string[]> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${LABELS.managed}=true`, `${LABELS.owner}=${hostname()}:${pid}`] },
  });
  return list.flatMap((c) => (c.Mounts ?? []).map((m) => m.Source ?? ''));
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

describeWithDocker('serve and mcp admit only workspaces below their roots (real processes)', () => {
  const docker = new Dockerode();
  // serve keeps its embedded task store beside the audit log (its layout's own dir), not in the shared ~/.local/state.
  const env = (audit: string) =>
    ({
      ...process.env,
      BASTION_AUDIT_LOG: audit,
      BASTION_AUDIT_LEVEL: 'info',
      BASTION_BACKEND: 'docker',
      BASTION_DATA_DIR: `${audit}.state`,
    }) as Record<string, string>;
  afterAll(() => {
    for (const base of bases) rmSync(base, { recursive: true, force: true });
  });

  it('serve refuses /etc, /, /root, links into them and paths outside the roots with 400 INVALID_INPUT, before anything is accepted or mounted', async () => {
    const l = layout();
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--port', '0', '--token-file', l.tokenFile, '--workspace-root', l.root],
      { cwd: l.cwd, env: env(l.audit), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    try {
      const url = await waitForServeUrl(child);
      const post = (path: string, workspace: string) =>
        fetch(`${url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${l.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'cat every file', intent: 'edit', workspace }),
        });
      for (const workspace of l.refused) {
        for (const path of ['/v1/tasks?wait=true', '/v1/tasks/stream']) {
          const res = await post(path, workspace);
          expect({ workspace, path, status: res.status }).toEqual({ workspace, path, status: 400 });
          const body = (await res.json()) as { error: { code: string; retryable: boolean; message: string } };
          expect(body.error).toMatchObject({ code: 'INVALID_INPUT', retryable: false });
          expect(body.error.message).toMatch(/never accepted|outside the configured workspace roots/);
        }
      }
      const mounts = await mountsOf(docker, child.pid!);
      for (const m of mounts) for (const bad of ['/etc', '/', '/root', l.root]) expect(m).not.toBe(bad);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
    const events = auditEvents(l.audit);
    expect(events.filter((e) => e === 'service.workspace_refused')).toHaveLength(l.refused.length * 2);
    expect(
      events.filter(
        (e) =>
          e === 'service.accepted' || e.startsWith('router.') || e.startsWith('provider.') || e.startsWith('executor.'),
      ),
    ).toEqual([]);
    expect(await mountsOf(docker, child.pid!)).toEqual([]);
  }, 60_000);

  it('serve will not start with a forbidden workspace root', async () => {
    const l = layout();
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--port', '0', '--token-file', l.tokenFile, '--workspace-root', '/etc'],
      { cwd: l.cwd, env: env(l.audit), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    await exited(child);
    expect(child.exitCode).toBe(125);
    expect(stderr).toMatch(/workspace root \/etc is never accepted/);
  }, 30_000);

  it('mcp run_task refuses the same paths as INVALID_INPUT results, and without roots refuses every workspace saying how to configure one', async () => {
    const l = layout();
    const connect = async (args: string[]) => {
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [BIN, 'mcp', ...args],
        cwd: l.cwd,
        env: env(l.audit),
        stderr: 'ignore',
      });
      const client = new Client({ name: 'admission-test', version: '1' });
      await client.connect(transport);
      return client;
    };
    const call = async (client: Client, workspace: string) => {
      const res = await client.callTool({
        name: 'run_task',
        arguments: { prompt: 'cat /etc/shadow', intent: 'edit', workspace },
      });
      return {
        isError: res.isError,
        result: JSON.parse((res.content as { text: string }[])[0].text) as {
          status: string;
          execution: unknown;
          error: { code: string; retryable: boolean; message: string };
        },
      };
    };
    const withRoots = await connect(['--workspace-root', l.root]);
    try {
      for (const workspace of l.refused) {
        const { isError, result } = await call(withRoots, workspace);
        expect({ workspace, isError }).toEqual({ workspace, isError: true });
        expect(result).toMatchObject({
          status: 'denied',
          execution: null,
          error: { code: 'INVALID_INPUT', retryable: false },
        });
      }
    } finally {
      await withRoots.close();
    }
    // The repository's bastion.config.yaml says workspaceRoots: [/]; it must change nothing.
    const noRoots = await connect([]);
    try {
      const { result } = await call(noRoots, l.root);
      expect(result.error).toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringContaining('--workspace-root'),
      });
    } finally {
      await noRoots.close();
    }
    const events = auditEvents(l.audit);
    expect(
      events.filter((e) => e.startsWith('router.') || e.startsWith('provider.') || e.startsWith('executor.')),
    ).toEqual([]);
  }, 60_000);
});
