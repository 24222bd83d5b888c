import Dockerode from 'dockerode';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createPolicyEngine } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import {
  createAuditLog,
  envAutofixFlag,
  createAgentBinding,
  createFlagService,
  createRuntimeRouter,
  createRuntime,
} from '@bastion/agent-runtime';
import { createCursorProvider } from '@bastion/providers';
import { LABELS } from '@bastion/sandbox';
import { createMetrics } from '../metrics/metrics';
import { describeWithDocker } from '@bastion/sandbox/test-support';
import { createService } from './service';

// The fake cursor-agent of @bastion/testing, used by path (the runtime may not import the testing package).
const FAKE = resolve(__dirname, '../../../testing/bin/cursor-agent');
const TOKEN = 'task-events-int-token-' + 'x'.repeat(24);
const AGENT_WORKS_MS = 2_500;
// The fake writes its init and user events, then works for a while, then answers.
const PROMPT = `What is this?\n\`\`\`bastion-fake-script\n${JSON.stringify({ delayMs: AGENT_WORKS_MS, result: 'a demo repository' })}\n\`\`\`\n`;

describeWithDocker('following a task over HTTP while the agent runs (fake cursor-agent, real Docker)', () => {
  const docker = new Dockerode();
  let root: string;
  let ws: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'task-events-int-'));
    ws = join(root, 'ws');
    mkdirSync(ws);
    writeFileSync(join(ws, 'README.md'), '# demo\n');
  });
  afterEach(async () => {
    rmSync(root, { recursive: true, force: true });
    // Other suites may run containers on this engine at the same time: look only at this process's.
    const owner = `${LABELS.owner}=${hostname()}:${process.pid}`;
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABELS.managed}=true`, owner] } })).toEqual(
      [],
    );
  });

  it('GET /v1/tasks/:id/events delivers the sanitized output while the agent still works, then the result', async () => {
    const audit = createAuditLog({ destination: join(root, 'audit.log') });
    const engine = createPolicyEngine();
    const runtime = createRuntime({
      policy: () => engine,
      audit,
      secrets: createSecretStore({ env: {}, values: { 'cursor-api-key': 'crsr_test_key_0123456789' } }),
    });
    const flags = createFlagService({ env: {}, audit });
    const router = createRuntimeRouter({
      runtime,
      flags,
      bindings: [
        createAgentBinding(createCursorProvider(), {
          agentPath: FAKE,
          env: { PATH: '/usr/bin:/bin' },
          autofix: envAutofixFlag({}),
          audit,
        }),
      ],
    });
    const tokenFile = join(root, 'token');
    writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
    const service = await createService({
      router,
      runtime,
      metrics: createMetrics(),
      tokenFile,
      audit,
      port: 0,
      workspaceAccess: { admit: async (p) => p },
    });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
    try {
      const accepted = await fetch(`${service.url}/v1/tasks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ prompt: PROMPT, provider: 'cursor', workspace: ws }),
      });
      expect(accepted.status).toBe(202);
      const { id } = (await accepted.json()) as { id: string };

      const res = await fetch(`${service.url}/v1/tasks/${id}/events`, { headers });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      const arrivals: { id: number; event: string; data: string; at: number }[] = [];
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const m = /^id: (\d+)\nevent: (\w+)\ndata: (.*)$/m.exec(block);
          if (m) arrivals.push({ id: Number(m[1]), event: m[2], data: m[3], at: Date.now() });
        }
      }

      expect(arrivals.map((a) => a.id)).toEqual(arrivals.map((_, i) => i + 1));
      const outputs = arrivals.filter((a) => a.event === 'output');
      const result = arrivals.at(-1)!;
      expect(result.event).toBe('result');
      expect(JSON.parse(result.data)).toMatchObject({
        status: 'succeeded',
        provider: 'cursor',
        response: 'a demo repository',
      });
      // The agent's first events were on the stream well before it finished working.
      expect(outputs.length).toBeGreaterThan(0);
      expect(outputs[0].data).toContain('system');
      expect(result.at - outputs[0].at).toBeGreaterThanOrEqual(AGENT_WORKS_MS - 500);

      // A client that reconnects after the first output gets the rest, not the start again.
      const resumed = await (
        await fetch(`${service.url}/v1/tasks/${id}/events`, {
          headers: { ...headers, 'last-event-id': String(outputs[0].id) },
        })
      ).text();
      const resumedIds = [...resumed.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      expect(resumedIds).toEqual(arrivals.filter((a) => a.id > outputs[0].id).map((a) => a.id));
    } finally {
      await service.close();
      await flags.close();
    }
  }, 120_000);
});
