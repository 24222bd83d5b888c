import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { AgentResult } from '@bastion/providers';
import { createMemoryAuditLog } from '../audit/audit-log';
import { createRouter, type ProviderCall } from '../router/router';
import { createBastionMcpServer } from './mcp-server';

async function connect(call: ProviderCall, withSanitizer = false) {
  const router = createRouter({ providers: [{ id: 'gemini-cli', capabilities: { analyze: true, edit: false, needsAgentInstall: false } }], call, audit: createMemoryAuditLog() });
  const server = createBastionMcpServer({
    router,
    ...(withSanitizer ? { sanitizer: { sanitize: (t: string) => ({ text: t.replace(/AKIA[A-Z0-9]{16}/g, '[REDACTED]'), redactions: [{ ruleId: 'aws-access-key', count: 1 }] }) } } : {}),
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test', version: '1' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return { client, close: async () => { await client.close(); await server.close(); } };
}

const ok = (provider: string, correlationId: string): AgentResult => ({
  status: 'succeeded', correlationId, provider, mode: 'read-only', response: '42', proposedChanges: [], appliedChanges: [], redactions: [],
  policy: { decision: 'allow', reasons: [] }, execution: null, error: null,
});

describe('bastion mcp', () => {
  it('offers run_task, which routes the task and answers with the AgentResult', async () => {
    const call = jest.fn<ReturnType<ProviderCall>, Parameters<ProviderCall>>(async (p, _t, o) => ok(p, o.correlationId));
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
    const call = jest.fn<ReturnType<ProviderCall>, Parameters<ProviderCall>>(async (p, _t, o) => ok(p, o.correlationId));
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
      expect(res.structuredContent).toEqual({ text: 'key [REDACTED]', redactions: [{ ruleId: 'aws-access-key', count: 1 }] });
    } finally {
      await close();
    }
  });
});
