import { DEFAULT_POLICY_INPUT, Policy, createPolicyEngine, type PolicyInput } from '@bastion/policy';
import { createClaudeCodeProvider } from '@bastion/providers';
import { createSecretStore } from '@bastion/security';
import {
  createAgentRunner,
  createMemoryAuditLog,
  createRuntime,
  execCommand,
  readOnlyBinding,
  type Runtime,
} from '@bastion/agent-runtime';
import { createDockerExecutor } from '@bastion/sandbox';
import { createGatewayProvisioner } from '@bastion/gateway';
import { startFakeAnthropicApi, type StartedFakeAnthropicApi } from '../fake-anthropic-api/fake-anthropic-api';
import { describeWhenReady, managedContainers } from '../suite/docker-suite';
import { CLAUDE_CODE_IMAGE, claudeCodeSuiteProblem, REAL_ANTHROPIC_KEY } from './claude-code-support';

const ALLOWED = 'claude-sonnet-4-5';

/** A Messages request naming `model`, sent from inside the sandbox through the gateway relay; prints the status and error type. */
const postFromSandbox = (model: string) =>
  `fetch(process.env.ANTHROPIC_BASE_URL + "/v1/messages", { method: "POST", headers: { "content-type": "application/json", "x-api-key": process.env.ANTHROPIC_API_KEY, "anthropic-version": "2023-06-01" }, body: JSON.stringify({ model: "${model}", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }) })` +
  '.then(async (r) => console.log("status " + r.status + " " + ((await r.json()).error?.type ?? "ok")))';

// The Anthropic API names the model in the JSON body, not the path: the manifest says so, and the
// gateway holds a policy's model list to that field and pins the CLI's default (ANTHROPIC_MODEL).
describeWhenReady(
  'claude-code under a model allowlist: the model in the request body is held to the policy',
  claudeCodeSuiteProblem(),
  () => {
    let api: StartedFakeAnthropicApi;
    let runtime: Runtime;
    let sessionId: string;
    const audit = createMemoryAuditLog();

    beforeAll(async () => {
      api = await startFakeAnthropicApi({ expectedApiKey: REAL_ANTHROPIC_KEY });
      const policy = Policy.parse({
        ...DEFAULT_POLICY_INPUT,
        providers: [{ name: 'exec' }, { name: 'claude-code', models: [ALLOWED] }],
      } satisfies PolicyInput);
      const secrets = createSecretStore({ values: { 'anthropic-api-key': REAL_ANTHROPIC_KEY } });
      const executor = createDockerExecutor();
      sessionId = executor.identity.sessionId;
      const egress = createGatewayProvisioner({ secrets, env: { ANTHROPIC_BASE_URL: api.url } });
      runtime = createRuntime({ policy: () => createPolicyEngine({ policy }), audit, secrets, executor, egress });
    });
    afterAll(async () => {
      await runtime.close();
      expect(await managedContainers(undefined, sessionId)).toEqual([]);
      await api.close();
    });
    beforeEach(() => api.reset());

    it("pins the CLI to the policy's first model when the task names none", async () => {
      const runner = createAgentRunner({
        pipeline: runtime.pipeline,
        bindings: [readOnlyBinding(createClaudeCodeProvider())],
      });
      api.script('pinned answer');
      const r = await runner.run('claude-code', { prompt: 'say something' });
      expect(r.error).toBeNull();
      expect(r).toMatchObject({ status: 'succeeded', response: 'pinned answer' });
      expect(api.requests.map((q) => (q.body as { model?: string }).model)).toEqual([ALLOWED]);
    });

    it("ends a call whose request body names another model with POLICY_DENIED at the gateway (a 403 in the API's own shape), and lets the allowed one through", async () => {
      const run = (model: string) =>
        execCommand(runtime.pipeline, {
          provider: 'claude-code',
          image: CLAUDE_CODE_IMAGE,
          command: ['node', '-e', postFromSandbox(model)],
          network: { mode: 'gateway', api: 'anthropic', domains: [] },
        });
      const [other, allowed] = await Promise.all([run('claude-opus-5-5'), run(ALLOWED)]);
      // The gateway ends the call on the refusal (the client may be killed before it prints the 403 it got).
      expect(other).toMatchObject({
        status: 'denied',
        error: { code: 'POLICY_DENIED', message: expect.stringContaining('"claude-opus-5-5" is not allowed') },
      });
      if (other.stdout !== '') expect(other.stdout).toContain('status 403 permission_error');
      expect(allowed.stdout).toContain('status 200 ok');
      expect(api.requests.map((q) => (q.body as { model?: string }).model)).toEqual([ALLOWED]);
    });
  },
);
