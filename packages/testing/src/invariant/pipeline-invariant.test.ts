import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPolicyEngine } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import { providerRegistry, type AgentProvider, type PlanContext } from '@bastion/providers';
import { createAgentRunner, createMemoryAuditLog, createRuntime, defaultBindings } from '@bastion/agent-runtime';
import { type ExecutorRequest, type SandboxAttachment, SANDBOX_IMAGE } from '@bastion/sandbox';
import { createMemoryExecutor } from '../memory-executor/memory-executor';
import { FAKE_CURSOR_AGENT_PATH } from '../fake-cursor-agent/fake-cursor-agent';

const SECRET = 'sk-ant-' + 'api03-' + 'Q'.repeat(90) + 'AA';
const STAGES = [
  'provider.planned',
  'policy.decision',
  'executor.started',
  'executor.finished',
  'sanitizer.finished',
  'provider.parsed',
];

/** What each registered provider's agent would print, with a secret in its answer. */
function agentOutput(request: ExecutorRequest): string {
  if (request.image.includes('gemini'))
    return JSON.stringify({ session_id: 's', response: `found ${SECRET}`, stats: { models: {} } });
  return (
    JSON.stringify({
      type: 'result',
      subtype: 'success',
      is_error: false,
      duration_ms: 1,
      duration_api_ms: 1,
      result: `found ${SECRET}`,
      session_id: 's',
    }) + '\n'
  );
}

describe('the pipeline invariant, for every registered provider', () => {
  const env = {
    BASTION_CURSOR_AGENT: FAKE_CURSOR_AGENT_PATH,
    CURSOR_API_KEY: 'cursor-key-for-invariant-test',
    GEMINI_API_KEY: 'gemini-key-for-invariant-test',
    PATH: process.env.PATH,
  };
  const bindings = defaultBindings({ env });
  const workspace = mkdtempSync(join(tmpdir(), 'bastion-invariant-'));
  afterAll(() => rmSync(workspace, { recursive: true, force: true }));
  writeFileSync(join(workspace, 'README.md'), '# hello\n');

  it('binds every registered provider, gemini-cli and cursor among them', () => {
    expect(bindings.map((b) => b.provider.id)).toEqual(providerRegistry.ids);
    expect(providerRegistry.ids).toEqual(expect.arrayContaining(['gemini-cli', 'cursor']));
  });

  for (const binding of bindings) {
    const id = binding.provider.id;

    it(`${id}: every call goes provider.plan → policy → executor → sanitizer → provider.parse, and the output is sanitized`, async () => {
      const audit = createMemoryAuditLog();
      const executor = createMemoryExecutor({ script: (request) => ({ stdout: agentOutput(request), exitCode: 0 }) });
      const noNetwork = {
        attach: async (): Promise<SandboxAttachment> => ({ mounts: [], env: {}, close: async () => undefined }),
      };
      const engine = createPolicyEngine();
      const runtime = createRuntime({
        policy: () => engine,
        audit,
        executor,
        secrets: createSecretStore({ env }),
        egress: noNetwork,
      });
      const runner = createAgentRunner({ pipeline: runtime.pipeline, bindings: [binding] });
      const result = await runner.run(id, { prompt: 'what is in here?', workspace });
      await runtime.close();

      expect(result.error).toBeNull();
      expect(executor.requests).toHaveLength(1);
      const stages = audit.events
        .filter(
          (e) =>
            e.correlationId === result.correlationId &&
            typeof e.event === 'string' &&
            STAGES.includes(e.event as string),
        )
        .map((e) => e.event);
      expect(stages).toEqual(STAGES);
      expect(result.response).toContain('[REDACTED:');
      expect(JSON.stringify(result)).not.toContain(SECRET);
      expect(audit.lines.join('')).not.toContain(SECRET);
    });

    it(`${id}: a provider holds no handle: only plan, parse and streamText, fed plain data`, () => {
      const provider: AgentProvider = binding.provider;
      // Its manifest is data (the error formatters of its upstreams are pure functions); its only
      // hooks are plan, parse and streamText (one output line → what a follower of the run sees).
      const hooks = Object.entries(provider)
        .filter(([, value]) => typeof value === 'function')
        .map(([key]) => key);
      expect(hooks.sort()).toEqual(['parse', 'plan', 'streamText']);
      const manifestKeys = [
        'id',
        'image',
        'upstreams',
        'capabilities',
        'flags',
        'hostBinary',
        'defaultModelEnv',
        'sandboxSecrets',
      ];
      expect(
        Object.keys(provider)
          .filter((k) => !hooks.includes(k) && k !== 'specificationVersion')
          .every((k) => manifestKeys.includes(k)),
      ).toBe(true);
      const seen: unknown[] = [];
      const spy: AgentProvider = {
        ...provider,
        plan: (task, context) => {
          seen.push(context);
          return provider.plan(task, context);
        },
      };
      const context: PlanContext = {
        correlationId: 'c',
        mode: 'read-only',
        workspaceMountPath: '/workspace',
        image: SANDBOX_IMAGE,
        gatewayUrl: 'http://127.0.0.1:8080',
        maxArgBytes: 16384,
        agentInstall: { hostDir: '/opt/agent', executable: 'cursor-agent', network: 'none' },
      };
      const spec = spy.plan({ prompt: 'p', intent: 'analyze' }, context);
      // Everything a provider sees and returns is JSON data: no functions, sockets or clients.
      expect(JSON.parse(JSON.stringify(seen[0]))).toEqual(seen[0]);
      expect(JSON.parse(JSON.stringify(spec))).toEqual(spec);
      // streamText turns a line of text into plain data too.
      const pieces = provider.streamText?.('{"type":"assistant","message":{"content":[{"type":"text","text":"hi"}]}}');
      expect(JSON.parse(JSON.stringify(pieces))).toEqual(pieces);
    });
  }
});
