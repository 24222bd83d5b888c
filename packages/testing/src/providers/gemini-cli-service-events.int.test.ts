import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPolicyEngine } from '@bastion/policy';
import { createGeminiCliProvider } from '@bastion/providers';
import { createSecretStore } from '@bastion/security';
import { createDockerExecutor } from '@bastion/sandbox';
import {
  createFlagService,
  createMemoryAuditLog,
  createRuntime,
  createRuntimeRouter,
  readOnlyBinding,
} from '@bastion/agent-runtime';
import { createGatewayProvisioner } from '@bastion/gateway';
import { createMetrics, createService } from '@bastion/server';
import { startFakeGeminiApi, type StartedFakeGeminiApi } from '../fake-gemini-api/fake-gemini-api';
import { describeWithEngine, managedContainers } from '../suite/docker-suite';

const REAL_KEY = 'AIzaSyB' + 'q2We4Rt6Yu8Io0Pa1Sd3Fg5Hj7Kl9Zx2Cv';
const TOKEN = 'gemini-events-int-token-' + 'y'.repeat(24);
const CHUNK_GAP_MS = 3_000;

describeWithEngine('following a Gemini task over HTTP while the real CLI answers (stream-json, real Docker)', () => {
  let api: StartedFakeGeminiApi;
  let root: string;

  beforeAll(async () => {
    api = await startFakeGeminiApi({ expectedApiKey: REAL_KEY });
  });
  afterAll(async () => {
    await api.close();
  });
  beforeEach(() => {
    api.reset();
    root = mkdtempSync(join(tmpdir(), 'gemini-events-int-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('GET /v1/tasks/:id/events delivers the first part of the answer while the model still streams, then the result', async () => {
    // The model streams its answer in two parts, CHUNK_GAP_MS apart: the first must reach the
    // follower that much before the result does.
    api.script({ chunks: ['The first half of the answer.', ' The second half.'], chunkDelayMs: CHUNK_GAP_MS });
    const audit = createMemoryAuditLog();
    const secrets = createSecretStore({ env: { GEMINI_API_KEY: REAL_KEY } });
    const engine = createPolicyEngine();
    const executor = createDockerExecutor();
    const runtime = createRuntime({
      policy: () => engine,
      audit,
      secrets,
      executor,
      egress: createGatewayProvisioner({ secrets, env: { GOOGLE_GEMINI_BASE_URL: api.url } }),
    });
    const flags = createFlagService({ env: {}, audit });
    const router = createRuntimeRouter({ runtime, flags, bindings: [readOnlyBinding(createGeminiCliProvider())] });
    const tokenFile = join(root, 'token');
    writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
    const service = await createService({ router, runtime, metrics: createMetrics(), tokenFile, audit, port: 0 });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
    try {
      const accepted = await fetch(`${service.url}/v1/tasks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ prompt: 'Explain this', provider: 'gemini-cli' }),
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

      const result = arrivals.at(-1)!;
      expect(result.event).toBe('result');
      expect(JSON.parse(result.data)).toMatchObject({
        status: 'succeeded',
        provider: 'gemini-cli',
        response: 'The first half of the answer. The second half.',
      });
      const outputs = arrivals.filter((a) => a.event === 'output');
      const firstHalf = outputs.find((a) => a.data.includes('The first half of the answer.'));
      expect(firstHalf).toBeDefined();
      expect(firstHalf!.data).not.toContain('The second half.');
      expect(result.at - firstHalf!.at).toBeGreaterThanOrEqual(CHUNK_GAP_MS - 500);
      // TERM=dumb warnings are filtered from output events.
      expect(outputs.some((a) => /256-color support not detected|Basic terminal detected/.test(a.data))).toBe(false);
    } finally {
      await service.close();
      await flags.close();
      await runtime.close();
    }
    // Scoped to this runtime's session: other suites may run containers in parallel.
    expect(await managedContainers(undefined, executor.identity.sessionId)).toEqual([]);
    expect(JSON.stringify(audit.lines)).not.toContain(REAL_KEY);
  }, 120_000);
});
