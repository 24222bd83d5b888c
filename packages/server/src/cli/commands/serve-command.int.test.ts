import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { waitForServeUrl } from '../../test-support/serve-child';

const REPO = join(__dirname, '../../../../..');
const BIN = join(REPO, 'packages/server/bin/bastion.cjs');
const TOKEN = 'serve-test-token-0123456789';

/** What a host without a Docker engine looks like to dockerode and the docker CLI. */
function noEngineEnv(dir: string): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}`,
    BASTION_BACKEND: 'docker',
    BASTION_AUDIT_LOG: join(dir, 'audit.log'),
    BASTION_DATA_DIR: join(dir, 'state'),
  };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );
}

describe('bastion serve and mcp, as their clients meet them', () => {
  let dir: string;
  let tokenFile: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-serve-cmd-'));
    tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('on a busy port exits 125 saying the port is in use and naming --port', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--token-file', tokenFile], {
        env: noEngineEnv(dir),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      expect(await exited(child)).toBe(125);
      expect(stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(stderr).toMatch(/--port/);
    } finally {
      blocker.close();
    }
  }, 30_000);

  it('serve starts without a Docker engine: /readyz answers 503 naming the cause and the fix, tasks fail SANDBOX_UNAVAILABLE', async () => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--token-file', tokenFile], {
      env: noEngineEnv(dir),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      const url = await waitForServeUrl(child);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).toBe(503);
      const { reason } = (await ready.json()) as { reason: string };
      expect(reason).toMatch(/Docker engine unreachable/i);
      expect(reason).toContain('--backend bwrap');

      const res = await fetch(`${url}/v1/tasks?wait=true`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'explain' }),
      });
      const result = (await res.json()) as {
        status: string;
        error: { code: string; retryable: boolean; message: string };
      };
      expect(result.status).toBe('failed');
      expect(result.error).toMatchObject({ code: 'SANDBOX_UNAVAILABLE', retryable: true });
      expect(result.error.message).toMatch(/Docker engine unreachable.*--backend bwrap/i);
      expect((await fetch(`${url}/openapi.json`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
    expect(child.exitCode).toBe(0);
  }, 60_000);

  it('mcp starts without a Docker engine: run_task answers SANDBOX_UNAVAILABLE naming the cause, sanitize still works', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp'],
      env: noEngineEnv(dir),
      stderr: 'ignore',
    });
    const client = new Client({ name: 'no-engine-test', version: '1' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['run_task', 'sanitize']);
      const run = await client.callTool({ name: 'run_task', arguments: { prompt: 'explain' } });
      expect(run.isError).toBe(true);
      expect(run.structuredContent).toMatchObject({
        status: 'failed',
        error: {
          code: 'SANDBOX_UNAVAILABLE',
          message: expect.stringMatching(/Docker engine unreachable.*--backend bwrap/i),
        },
      });
      const clean = await client.callTool({ name: 'sanitize', arguments: { text: 'key AKIAIOSFODNN7EXAMPLF here' } });
      expect(JSON.stringify(clean.structuredContent)).not.toContain('AKIAIOSFODNN7EXAMPLF');
    } finally {
      await client.close();
    }
  }, 60_000);
});
