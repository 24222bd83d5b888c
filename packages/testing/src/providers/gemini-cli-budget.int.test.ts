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

const REAL_KEY = 'AIzaSyC' + 'bUdg3tT3stK3yAbCdEfGhIjKlMnOpQrSt';

/** The real Gemini CLI in the Docker sandbox against the fake API: the gateway counts and enforces. */
describeWithEngine('gemini-cli model budgets: the gateway counts usage and ends the run at its budget', () => {
  let api: StartedFakeGeminiApi;
  let runtime: Runtime;
  let sessionId: string;
  let runner: ReturnType<typeof createAgentRunner>;

  beforeAll(async () => {
    api = await startFakeGeminiApi({ expectedApiKey: REAL_KEY });
    const policy = Policy.parse({
      ...DEFAULT_POLICY_INPUT,
      providers: [{ name: 'gemini-cli', api: true, models: ['gemini-2.5-flash'] }],
      budget: { daily: { maxInputTokens: 5000 } },
    } satisfies PolicyInput);
    const engine = createPolicyEngine({ policy });
    const secrets = createSecretStore({ env: { GEMINI_API_KEY: REAL_KEY } });
    const executor = createDockerExecutor();
    sessionId = executor.identity.sessionId;
    runtime = createRuntime({
      policy: () => engine,
      audit: createMemoryAuditLog(),
      secrets,
      executor,
      egress: createGatewayProvisioner({ secrets, env: { GOOGLE_GEMINI_BASE_URL: api.url } }),
    });
    runner = createAgentRunner({ pipeline: runtime.pipeline, bindings: [readOnlyBinding(createGeminiCliProvider())] });
  });
  afterAll(async () => {
    await runtime?.close();
    expect(await managedContainers(undefined, sessionId)).toEqual([]);
    await api?.close();
  });

  const reported = (from: number) => {
    const recs = api.requests.slice(from).filter((q) => q.usage);
    return {
      inputTokens: recs.reduce((n, q) => n + (q.usage?.promptTokenCount ?? 0), 0),
      outputTokens: recs.reduce((n, q) => n + (q.usage?.candidatesTokenCount ?? 0), 0),
      requests: api.requests.slice(from).filter((q) => q.kind === 'stream' || q.kind === 'generate').length,
    };
  };

  it('reports in result.usage exactly what the API reported, with no budget reached', async () => {
    const from = api.requests.length;
    api.script({ text: 'counted answer', usage: { promptTokenCount: 321, candidatesTokenCount: 17 } });
    const r = await runner.run('gemini-cli', { prompt: 'say something' });
    expect(r.error).toBeNull();
    const fake = reported(from);
    expect(fake.outputTokens).toBeGreaterThanOrEqual(17);
    expect(r.usage).toMatchObject(fake);
    // gemini-2.5-flash is in the price table: 0.30 / 2.50 USD per million tokens.
    expect(r.usage?.costUsd).toBeCloseTo((fake.inputTokens * 0.3 + fake.outputTokens * 2.5) / 1e6, 6);
  }, 60_000);

  it('ends a streamed answer at a budget of 25 output tokens: BUDGET_EXCEEDED within one event of the limit, sandbox gone', async () => {
    const from = api.requests.length;
    api.script({
      chunks: ['one ', 'two ', 'three ', 'four ', 'five ', 'six '],
      chunkDelayMs: 300,
      usagePerChunk: [10, 20, 30, 40, 50, 60].map((n) => ({ promptTokenCount: 100, candidatesTokenCount: n })),
    });
    const started = Date.now();
    const r = await runner.run('gemini-cli', { prompt: 'count slowly', budget: { maxOutputTokens: 25 } });
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ code: 'BUDGET_EXCEEDED', retryable: false });
    expect(r.error?.message).toMatch(/maxOutputTokens=25 was reached: this run used \d+ input and 30 output tokens/);
    expect(r.usage).toMatchObject({ outputTokens: 30 });
    // Cut after the third event: the fake's last three chunks (900 ms) were never waited for.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(api.requests.slice(from).filter((q) => q.kind === 'stream')).toHaveLength(1);
    expect(await managedContainers(undefined, sessionId)).toEqual([]);
  }, 60_000);

  it('holds the policy daily budget across calls: the call that reaches it ends, the next is refused at its first request', async () => {
    const before = runner; // same runtime, same provisioner: the daily account is shared
    api.script({ text: 'big one', usage: { promptTokenCount: 6000, candidatesTokenCount: 5 } });
    const spent = await before.run('gemini-cli', { prompt: 'spend the day' });
    expect(spent.error).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(spent.error?.message).toMatch(
      /daily budget of tenant "default" for gemini-cli maxInputTokens=5000 was reached/,
    );
    const from = api.requests.length;
    api.script('never sent');
    const refused = await before.run('gemini-cli', { prompt: 'one more' });
    expect(refused.error).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    expect(refused.usage).toMatchObject({ requests: 0, outputTokens: 0 });
    expect(api.requests.slice(from).filter((q) => q.kind === 'stream' || q.kind === 'generate')).toEqual([]);
    expect(await managedContainers(undefined, sessionId)).toEqual([]);
  }, 90_000);
});
