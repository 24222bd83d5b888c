import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { AgentResult } from '@bastion/providers';
import { createMemoryAuditLog, createRouter, type ProviderCall } from '@bastion/agent-runtime';
import { createBastionMcpServer } from './mcp-server';

async function connect(call: ProviderCall, withSanitizer = false, progressIntervalMs?: number) {
  const router = createRouter({
    providers: [{ id: 'gemini-cli', capabilities: { analyze: true, edit: false } }],
    call,
    audit: createMemoryAuditLog(),
  });
  const server = createBastionMcpServer({
    router,
    ...(progressIntervalMs ? { progressIntervalMs } : {}),
    ...(withSanitizer
      ? {
          sanitizer: {
            sanitize: (t: string) => ({
              text: t.replace(/AKIA[A-Z0-9]{16}/g, '[REDACTED]'),
              redactions: [{ ruleId: 'aws-access-key', count: 1 }],
            }),
          },
        }
      : {}),
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test', version: '1' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return {
    client,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

const ok = (provider: string, correlationId: string): AgentResult => ({
  status: 'succeeded',
  correlationId,
  provider,
  mode: 'read-only',
  response: '42',
  proposedChanges: [],
  appliedChanges: [],
  redactions: [],
  policy: { decision: 'allow', reasons: [] },
  execution: null,
  error: null,
});

describe('bastion mcp', () => {
  it('offers run_task, which routes the task and answers with the AgentResult', async () => {
    const call = jest.fn<ReturnType<ProviderCall>, Parameters<ProviderCall>>(async (p, _t, o) =>
      ok(p, o.correlationId),
    );
    const { client, close } = await connect(call);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['run_task']);
      expect(tools[0].inputSchema.properties).toHaveProperty('prompt');
      const res = await client.callTool({ name: 'run_task', arguments: { prompt: 'what is this repo?' } });
      expect(res.isError).toBe(false);
      const result = JSON.parse((res.content as { text: string }[])[0].text) as AgentResult;
      expect(result).toEqual(expect.objectContaining({ status: 'succeeded', provider: 'gemini-cli', response: '42' }));
      expect(call).toHaveBeenCalledTimes(1);
    } finally {
      await close();
    }
  });

  it('rejects invalid arguments with the task schema and runs nothing', async () => {
    const call = jest.fn<ReturnType<ProviderCall>, Parameters<ProviderCall>>(async (p, _t, o) =>
      ok(p, o.correlationId),
    );
    const { client, close } = await connect(call);
    try {
      const res = await client.callTool({ name: 'run_task', arguments: { prompt: '', intent: 'destroy' } });
      expect(res.isError).toBe(true);
      expect(JSON.stringify(res.content)).toMatch(/prompt|intent/);
      expect(call).not.toHaveBeenCalled();
    } finally {
      await close();
    }
  });

  it('offers sanitize when a sanitizer is given', async () => {
    const { client, close } = await connect(jest.fn(), true);
    try {
      const res = await client.callTool({ name: 'sanitize', arguments: { text: 'key AKIAABCDEFGHIJKLMNOP' } });
      expect((res.content as { text: string }[])[0].text).toBe('key [REDACTED]');
      expect(res.structuredContent).toEqual({
        text: 'key [REDACTED]',
        redactions: [{ ruleId: 'aws-access-key', count: 1 }],
      });
    } finally {
      await close();
    }
  });

  it('declares output schemas, annotations and the provider enum, and its structured results match them', async () => {
    const { client, close } = await connect(async (p, _t, o) => ok(p, o.correlationId), true);
    try {
      const { tools } = await client.listTools();
      const run = tools.find((t) => t.name === 'run_task')!;
      const sanitize = tools.find((t) => t.name === 'sanitize')!;
      expect(run.outputSchema?.properties).toEqual(
        expect.objectContaining({
          status: expect.anything(),
          proposedChanges: expect.anything(),
          error: expect.anything(),
        }),
      );
      expect(run.outputSchema?.required).toEqual(expect.arrayContaining(['status', 'provider', 'mode']));
      expect(sanitize.outputSchema?.required).toEqual(['text', 'redactions']);
      expect(run.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, openWorldHint: true });
      expect(sanitize.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
      expect((run.inputSchema.properties as Record<string, { enum?: string[] }>).provider.enum).toEqual(['gemini-cli']);
      expect(run.description).toMatch(/FF_CURSOR_AUTOFIX/);
      expect(run.description).toMatch(/dry-run/);

      // The SDK client checks structuredContent against the declared outputSchema and throws when it does not match.
      const res = await client.callTool({ name: 'run_task', arguments: { prompt: 'what is this repo?' } });
      expect(res.structuredContent).toMatchObject({ status: 'succeeded', response: '42' });
      const refused = await client.callTool({ name: 'run_task', arguments: { prompt: 'x', provider: 'claude' } });
      expect(refused.isError).toBe(true);
      expect(JSON.stringify(refused.content)).toContain('gemini-cli');
    } finally {
      await close();
    }
  });

  it('sends progress notifications while a long run_task runs', async () => {
    const { client, close } = await connect(
      async (p, _t, o) => {
        o.onOutput?.('stdout', 'partial answer');
        await new Promise((r) => setTimeout(r, 150));
        return ok(p, o.correlationId);
      },
      false,
      20,
    );
    try {
      const updates: { progress: number; message?: string }[] = [];
      const res = await client.callTool({ name: 'run_task', arguments: { prompt: 'long' } }, undefined, {
        onprogress: (p) => updates.push(p),
      });
      expect(res.isError).toBe(false);
      expect(updates.length).toBeGreaterThanOrEqual(3);
      const values = updates.map((u) => u.progress);
      expect(values).toEqual([...values].sort((a, b) => a - b));
      expect(new Set(values).size).toBe(values.length);
      expect(updates.map((u) => u.message)).toEqual(
        expect.arrayContaining([
          'routed to gemini-cli',
          expect.stringMatching(/^agent running on gemini-cli: \d+ s, 14 characters of output$/),
        ]),
      );
      // Progress tells how far along the call is, never the agent's output itself.
      expect(JSON.stringify(updates)).not.toContain('partial answer');
    } finally {
      await close();
    }
  });
});
