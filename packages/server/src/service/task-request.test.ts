import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { notRunResult, type AgentResult, type AgentTaskInput } from '@bastion/providers';
import { createMemoryAuditLog, createWorkspaceAccess } from '@bastion/agent-runtime';
import { createBastionMcpServer } from '../mcp/mcp-server';
import { createMetrics } from '../metrics/metrics';
import type { Router, RouteOptions } from '@bastion/agent-runtime';
import { createService } from './service';
import { admitTaskRequest } from './task-request';

const TOKEN = 'admission-token-0123456789';

/** A router that records what reaches it: a refused workspace must never get here. */
function recordingRouter() {
  const routed: AgentTaskInput[] = [];
  const router: Pick<Router, 'route' | 'health' | 'providerIds'> = {
    providerIds: ['gemini-cli'],
    async route(task: AgentTaskInput, options: RouteOptions = {}) {
      routed.push(task);
      return {
        ...notRunResult({
          provider: 'gemini-cli',
          correlationId: options.correlationId ?? 'c',
          error: { code: 'INTERNAL', message: 'x', retryable: false },
        }),
        status: 'succeeded',
        error: null,
      } as AgentResult;
    },
    health: () => [],
  };
  return { router, routed };
}

describe('workspace admission of service and MCP requests', () => {
  const base = mkdtempSync(join(tmpdir(), 'bastion-admit-'));
  const root = join(base, 'root');
  const project = join(root, 'project');
  mkdirSync(project, { recursive: true });
  for (const d of [base, root, project]) chmodSync(d, 0o755);
  // As root (CI), the project belongs to an ordinary uid, as a caller's checkout would.
  if (process.getuid?.() === 0) chownSync(project, 4242, 4242);
  symlinkSync(project, join(root, 'via-link'));
  symlinkSync('/etc', join(root, 'etc'));
  writeFileSync(join(base, 'token'), TOKEN);
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  const access = () =>
    createWorkspaceAccess({
      roots: [root],
      refuseRootOwned: true,
      state: { uid: process.getuid?.() ?? 0, tmpdir: tmpdir() },
    });

  it('passes a request without a workspace and rewrites an accepted one to its real path', async () => {
    const a = await access();
    expect(await admitTaskRequest({ prompt: 'p' }, a)).toEqual({ ok: true, request: { prompt: 'p' } });
    expect(await admitTaskRequest({ prompt: 'p', workspace: join(root, 'via-link') }, a)).toEqual({
      ok: true,
      request: { prompt: 'p', workspace: project },
    });
  });

  it('refuses every workspace when no access is configured, naming the way to configure roots', async () => {
    const res = await admitTaskRequest({ prompt: 'p', workspace: project });
    expect(res.ok).toBe(false);
    expect(!res.ok && res.error.toInfo()).toMatchObject({
      code: 'INVALID_INPUT',
      retryable: false,
      message: expect.stringContaining('--workspace-root'),
    });
  });

  it('POST /v1/tasks answers 400 INVALID_INPUT for a refused workspace and the router never sees it', async () => {
    const { router, routed } = recordingRouter();
    const audit = createMemoryAuditLog();
    const service = await createService({
      router,
      metrics: createMetrics(),
      tokenFile: join(base, 'token'),
      port: 0,
      audit,
      workspaceAccess: await access(),
    });
    try {
      const post = (workspace?: string) =>
        fetch(`${service.url}/v1/tasks?wait=true`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: 'p', ...(workspace ? { workspace } : {}) }),
        });
      const refused = await post(join(root, 'etc'));
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: unknown }).error).toMatchObject({
        code: 'INVALID_INPUT',
        retryable: false,
        details: { reason: 'forbidden' },
      });
      expect(routed).toEqual([]);
      expect(audit.events.filter((e) => e.event === 'service.workspace_refused')).toHaveLength(1);
      expect(audit.events.filter((e) => e.event === 'service.accepted')).toHaveLength(0);
      const accepted = await post(join(root, 'via-link'));
      expect(accepted.status).toBe(200);
      expect(routed).toEqual([expect.objectContaining({ prompt: 'p', workspace: project })]);
    } finally {
      await service.close();
    }
  });

  it('a service started without workspaceAccess refuses any workspace', async () => {
    const { router, routed } = recordingRouter();
    const service = await createService({ router, metrics: createMetrics(), tokenFile: join(base, 'token'), port: 0 });
    try {
      const res = await fetch(`${service.url}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'p', workspace: project }),
      });
      expect(res.status).toBe(400);
      expect(routed).toEqual([]);
    } finally {
      await service.close();
    }
  });

  it('MCP run_task answers a refused workspace with an INVALID_INPUT result and routes nothing', async () => {
    const { router, routed } = recordingRouter();
    const audit = createMemoryAuditLog();
    const server = createBastionMcpServer({ router, workspaceAccess: await access(), audit });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'test', version: '1' });
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    try {
      const answered: string[] = [];
      for (const workspace of ['/', join(root, 'etc'), base]) {
        const res = await client.callTool({ name: 'run_task', arguments: { prompt: 'p', workspace } });
        expect(res.isError).toBe(true);
        const result = JSON.parse((res.content as { text: string }[])[0].text) as { correlationId: string };
        expect(result).toMatchObject({ status: 'denied', error: { code: 'INVALID_INPUT', retryable: false } });
        answered.push(result.correlationId);
      }
      expect(routed).toEqual([]);
      // Each refusal is audited as the service's are, under the correlation id the client got back.
      const refusals = audit.events.filter((e) => e.event === 'mcp.workspace_refused');
      expect(refusals).toHaveLength(3);
      expect(refusals[0]).toMatchObject({
        stage: 'mcp',
        tool: 'run_task',
        error: { code: 'INVALID_INPUT', details: { reason: expect.any(String) } },
      });
      expect(refusals.map((e) => e.correlationId)).toEqual(answered);
      await client.callTool({ name: 'run_task', arguments: { prompt: 'p', workspace: join(root, 'via-link') } });
      expect(routed).toEqual([expect.objectContaining({ workspace: project })]);
      expect(audit.events.filter((e) => e.event === 'mcp.workspace_refused')).toHaveLength(3);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
