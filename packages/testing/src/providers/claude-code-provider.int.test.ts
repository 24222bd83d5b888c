import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPolicyEngine } from '@bastion/policy';
import { createClaudeCodeProvider } from '@bastion/providers';
import { createSecretStore } from '@bastion/security';
import {
  createAgentRunner,
  createMemoryAuditLog,
  createRuntime,
  readOnlyBinding,
  type AgentRunner,
  type Runtime,
} from '@bastion/agent-runtime';
import { createDockerExecutor } from '@bastion/sandbox';
import { createGatewayProvisioner } from '@bastion/gateway';
import { startFakeAnthropicApi, type StartedFakeAnthropicApi } from '../fake-anthropic-api/fake-anthropic-api';
import { describeWhenReady, managedContainers } from '../suite/docker-suite';
import { claudeCodeSuiteProblem, REAL_ANTHROPIC_KEY } from './claude-code-support';

const LEAKED = 'ghp_' + 'R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXYZ';

describeWhenReady(
  'claude-code provider: the real Claude Code CLI in the sandbox against the fake Anthropic API',
  claudeCodeSuiteProblem(),
  () => {
    let api: StartedFakeAnthropicApi;
    let runtime: Runtime;
    let runner: AgentRunner;
    let audit: ReturnType<typeof createMemoryAuditLog>;
    let sessionId: string;

    beforeAll(async () => {
      api = await startFakeAnthropicApi({ expectedApiKey: REAL_ANTHROPIC_KEY });
    });
    afterAll(async () => {
      await api.close();
    });

    beforeEach(() => {
      api.reset();
      audit = createMemoryAuditLog();
      const secrets = createSecretStore({ values: { 'anthropic-api-key': REAL_ANTHROPIC_KEY } });
      const engine = createPolicyEngine();
      const executor = createDockerExecutor();
      sessionId = executor.identity.sessionId;
      const egress = createGatewayProvisioner({ secrets, env: { ANTHROPIC_BASE_URL: api.url } });
      runtime = createRuntime({ policy: () => engine, audit, secrets, executor, egress });
      runner = createAgentRunner({
        pipeline: runtime.pipeline,
        bindings: [readOnlyBinding(createClaudeCodeProvider())],
      });
    });

    afterEach(async () => {
      await runtime.close();
      // Scoped to this runtime's session: other suites may run containers in parallel.
      expect(await managedContainers(undefined, sessionId)).toEqual([]);
      const everything = JSON.stringify(audit.lines);
      expect(everything).not.toContain(REAL_ANTHROPIC_KEY);
      expect(everything).not.toContain(LEAKED);
    });

    it('returns the scripted answer as response, with turns, tokens and the model', async () => {
      api.script('Bastion says: the answer is 4.');
      const r = await runner.run('claude-code', { prompt: 'What is 2+2?' });
      expect(r.error).toBeNull();
      expect(r).toMatchObject({
        status: 'succeeded',
        provider: 'claude-code',
        mode: 'read-only',
        response: 'Bastion says: the answer is 4.',
      });
      expect(r.stats).toMatchObject({ turns: 1, tokens: { input: expect.any(Number), output: expect.any(Number) } });
      expect(r.execution?.backend).toBe('docker');
      // One Messages request, the prompt from stdin, the writing tools withheld from a read-only call.
      expect(api.requests.map((q) => `${q.method} ${q.path} ${q.status}`)).toEqual(['POST /v1/messages 200']);
      expect(api.requests[0].prompt?.trim()).toBe('What is 2+2?');
      // The sandbox sent the placeholder; the gateway swapped in the real key on the way out.
      expect(api.requests[0].headers['x-api-key']).toBe(REAL_ANTHROPIC_KEY);
      const tools = ((api.requests[0].body as { tools?: Array<{ name: string }> }).tools ?? []).map((t) => t.name);
      expect(tools).toContain('Read');
      expect(tools).not.toEqual(expect.arrayContaining(['Write']));
      expect(tools).not.toContain('Bash');
    });

    it("analyzes a workspace mounted read-only: the CLI's Read tool sees the caller's file, its writing tools are withheld", async () => {
      const ws = mkdtempSync(join(tmpdir(), 'claude-analyze-'));
      try {
        chmodSync(ws, 0o755);
        writeFileSync(join(ws, 'README.md'), '# service\nIt answers 42.\n', { mode: 0o644 });
        api.script(
          [{ type: 'tool_use', id: 'toolu_read', name: 'Read', input: { file_path: '/workspace/README.md' } }],
          'It answers 42.',
        );
        const r = await runner.run('claude-code', { prompt: 'What does this service answer?', workspace: ws });
        expect(r).toMatchObject({
          status: 'succeeded',
          mode: 'read-only',
          response: 'It answers 42.',
          proposedChanges: [],
          appliedChanges: [],
        });
        // The file's content went back to the model as the Read tool's result.
        expect(JSON.stringify(api.requests[1]?.body)).toContain('It answers 42.');
        const offered = ((api.requests[0].body as { tools?: Array<{ name: string }> }).tools ?? []).map((t) => t.name);
        expect(offered).toContain('Read');
        expect(offered.filter((name) => ['Bash', 'Edit', 'MultiEdit', 'NotebookEdit', 'Write'].includes(name))).toEqual(
          [],
        );
        expect(readdirSync(ws)).toEqual(['README.md']);
      } finally {
        rmSync(ws, { recursive: true, force: true });
      }
    });

    it("redacts a secret in the model's answer", async () => {
      api.script(`Here is a token I found: ${LEAKED}`);
      const r = await runner.run('claude-code', { prompt: 'find tokens' });
      expect(r.status).toBe('succeeded');
      expect(r.response).toContain('[REDACTED:');
      expect(JSON.stringify(r)).not.toContain(LEAKED);
      expect(r.redactions.map((x) => x.ruleId)).toContain('github-pat');
    });

    it('ends a 429 at the gateway with RATE_LIMITED and the retry-after as retryAfterMs, after one request', async () => {
      api.setFault({ kind: 'rate-limit', retryAfterSeconds: 7 });
      const t0 = Date.now();
      const r = await runner.run('claude-code', { prompt: 'hello' });
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(r.status).toBe('failed');
      expect(r.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 7000 });
      expect(api.requests.filter((q) => q.path === '/v1/messages')).toHaveLength(1);
    });

    it('reports a rejected key as AUTH_FAILED without retrying it', async () => {
      api.setFault({ kind: 'auth' });
      const r = await runner.run('claude-code', { prompt: 'hello' });
      expect(r.error).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
      expect(r.error?.message).not.toContain(REAL_ANTHROPIC_KEY);
      expect(api.requests.filter((q) => q.path === '/v1/messages')).toHaveLength(1);
    });

    it('reports 529 overloaded as a retryable PROVIDER_FAILED', async () => {
      api.setFault({ kind: 'overloaded' });
      const r = await runner.run('claude-code', { prompt: 'hello' });
      expect(r.error).toMatchObject({ code: 'PROVIDER_FAILED', retryable: true });
      expect(r.error?.message).toMatch(/overloaded/i);
    });
  },
);
