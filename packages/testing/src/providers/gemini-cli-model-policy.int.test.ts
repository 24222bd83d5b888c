import { DEFAULT_POLICY_INPUT, Policy, createPolicyEngine, type PolicyInput } from '@bastion/policy';
import { createGeminiCliProvider } from '@bastion/providers';
import { createSecretStore } from '@bastion/security';
import {
  createAgentRunner,
  createMemoryAuditLog,
  createRuntime,
  readOnlyBinding,
  type Runtime,
} from '@bastion/agent-runtime';
import { createDockerExecutor } from '@bastion/sandbox';
import { createGatewayProvisioner } from '@bastion/gateway';
import { startFakeGeminiApi, type StartedFakeGeminiApi } from '../fake-gemini-api/fake-gemini-api';
import { describeWithEngine, managedContainers } from '../suite/docker-suite';

const REAL_KEY = 'AIzaSyC' + 'm0d3lP0l1cyT3stK3yAbCdEfGhIjKlMnOp';

// Issue 22: with `providers: [{name: gemini-cli, models: [...]}]` the CLI's own router still used
// other models (a flash-lite classifier, then whatever it picked). The gateway now refuses them,
// so the runtime pins the CLI to the policy's first model (GEMINI_MODEL, which bypasses the router).
describeWithEngine('gemini-cli under a model allowlist: the real CLI stays on the allowed model', () => {
  let api: StartedFakeGeminiApi;
  let runtime: Runtime;
  let sessionId: string;

  beforeAll(async () => {
    api = await startFakeGeminiApi({ expectedApiKey: REAL_KEY });
  });
  afterAll(async () => {
    await runtime?.close();
    expect(await managedContainers(undefined, sessionId)).toEqual([]);
    await api.close();
  });

  it('answers through the allowed model only, with no router classifier call to another one', async () => {
    const policy = Policy.parse({
      ...DEFAULT_POLICY_INPUT,
      providers: [{ name: 'gemini-cli', api: true, models: ['gemini-2.5-flash'] }],
    } satisfies PolicyInput);
    const engine = createPolicyEngine({ policy });
    const secrets = createSecretStore({ env: { GEMINI_API_KEY: REAL_KEY } });
    const executor = createDockerExecutor();
    sessionId = executor.identity.sessionId;
    const audit = createMemoryAuditLog();
    runtime = createRuntime({
      policy: () => engine,
      audit,
      secrets,
      executor,
      egress: createGatewayProvisioner({ secrets, env: { GOOGLE_GEMINI_BASE_URL: api.url } }),
    });
    const runner = createAgentRunner({
      pipeline: runtime.pipeline,
      bindings: [readOnlyBinding(createGeminiCliProvider())],
    });
    api.script('pinned answer');
    const r = await runner.run('gemini-cli', { prompt: 'say something' });
    expect(r.error).toBeNull();
    expect(r).toMatchObject({ status: 'succeeded', response: 'pinned answer' });
    expect([...new Set(api.requests.map((q) => q.model))]).toEqual(['gemini-2.5-flash']);
    expect(audit.lines.filter((l) => JSON.stringify(l).includes('gateway.violation'))).toEqual([]);
  }, 60_000);
});
