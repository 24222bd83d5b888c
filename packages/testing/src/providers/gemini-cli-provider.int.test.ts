import { createPolicyEngine } from '@bastion/policy';
import { createGeminiCliProvider } from '@bastion/providers';
import { createSecretStore } from '@bastion/security';
import {
  createAgentRunner,
  createMemoryAuditLog,
  createRuntime,
  execCommand,
  readOnlyBinding,
  type AgentRunner,
  type Runtime,
} from '@bastion/agent-runtime';
import { createDockerExecutor } from '@bastion/sandbox';
import { createGatewayProvisioner } from '@bastion/gateway';
import { startFakeGeminiApi, type StartedFakeGeminiApi } from '../fake-gemini-api/fake-gemini-api';
import { describeWithEngine, managedContainers } from '../suite/docker-suite';

const REAL_KEY = 'AIzaSyB' + 'x9Qw3Er7Ty1Ui5Op8As2Df6Gh4Jk0Lz3Xc';
const LEAKED = 'ghp_' + 'R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3sXYZ';

describeWithEngine('gemini-cli provider: the real CLI in the sandbox against the fake API', () => {
  let api: StartedFakeGeminiApi;
  let runtime: Runtime;
  let runner: AgentRunner;
  let audit: ReturnType<typeof createMemoryAuditLog>;
  let sessionId: string;

  beforeAll(async () => {
    api = await startFakeGeminiApi({ expectedApiKey: REAL_KEY });
  });
  afterAll(async () => {
    await api.close();
  });

  beforeEach(() => {
    api.reset();
    audit = createMemoryAuditLog();
    const secrets = createSecretStore({ env: { GEMINI_API_KEY: REAL_KEY } });
    const engine = createPolicyEngine();
    const executor = createDockerExecutor();
    sessionId = executor.identity.sessionId;
    runtime = createRuntime({
      policy: () => engine,
      audit,
      secrets,
      executor,
      egress: createGatewayProvisioner({ secrets, env: { GOOGLE_GEMINI_BASE_URL: api.url } }),
    });
    runner = createAgentRunner({ pipeline: runtime.pipeline, bindings: [readOnlyBinding(createGeminiCliProvider())] });
  });

  afterEach(async () => {
    await runtime.close();
    // Scoped to this runtime's session: other suites may run containers in parallel.
    expect(await managedContainers(undefined, sessionId)).toEqual([]);
    const everything = JSON.stringify(audit.lines);
    expect(everything).not.toContain(REAL_KEY);
    expect(everything).not.toContain(LEAKED);
  });

  it('returns the scripted answer as response, with usage stats', async () => {
    api.script('Bastion says: the answer is 4.');
    const r = await runner.run('gemini-cli', { prompt: 'What is 2+2?' });
    expect(r.error).toBeNull();
    expect(r).toMatchObject({
      status: 'succeeded',
      provider: 'gemini-cli',
      mode: 'read-only',
      response: 'Bastion says: the answer is 4.',
    });
    expect(r.stats).toMatchObject({
      models: expect.arrayContaining([expect.any(String)]),
      tokens: { total: expect.any(Number) },
    });
    expect(r.execution?.backend).toBe('docker');
  });

  it("redacts a secret in the model's answer", async () => {
    api.script(`Here is a token I found: ${LEAKED}`);
    const r = await runner.run('gemini-cli', { prompt: 'find tokens' });
    expect(r.status).toBe('succeeded');
    expect(r.response).toContain('[REDACTED:');
    expect(JSON.stringify(r)).not.toContain(LEAKED);
    expect(r.redactions.map((x) => x.ruleId)).toContain('github-pat');
  });

  it('ends a 429 at the gateway with RATE_LIMITED and the advised retryAfterMs, instead of minutes of CLI retries', async () => {
    api.setFault({ kind: 'rate-limit', retryDelay: '7s', on: 'content' });
    const t0 = Date.now();
    const r = await runner.run('gemini-cli', { prompt: 'hello' });
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.status).toBe('failed');
    expect(r.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 7000 });
  });

  it('reports a rejected key as AUTH_FAILED', async () => {
    api.setFault({ kind: 'bad-key' });
    const r = await runner.run('gemini-cli', { prompt: 'hello' });
    expect(r.error).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
  });

  it('reports a stream cut mid-way as PROVIDER_FAILED within its deadline', async () => {
    api.setFault({ kind: 'stream-cut', on: 'content' });
    const t0 = Date.now();
    const r = await runner.run('gemini-cli', { prompt: 'hello', timeoutMs: 60_000 });
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(r.error?.code).toBe('PROVIDER_FAILED');
  });

  it('keeps the real key out of the sandbox: only the gateway sends it, the placeholder never leaves the host', async () => {
    api.script('ok');
    const r = await runner.run('gemini-cli', { prompt: 'hello' });
    expect(r.status).toBe('succeeded');
    const keys = api.requests.map((q) => q.headers['x-goog-api-key']);
    expect(keys.length).toBeGreaterThan(0);
    expect(new Set(keys)).toEqual(new Set([REAL_KEY]));

    // Look for the key from inside the same image, with the same gateway: environment, every
    // process's environ, files under /tmp and HOME, the process list. If it were anywhere, the
    // sanitizer's known-secret rule would have fired on the output too.
    const probe = await execCommand(runtime.pipeline, {
      provider: 'exec',
      image: 'bastion/gemini-cli:latest',
      command: [
        'sh',
        '-c',
        'env; cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"; ps auxww; grep -rs . /tmp /run/bastion 2>/dev/null | head -c 100000; echo probe-done',
      ],
      network: { mode: 'gateway', api: 'gemini', domains: [] },
    });
    expect(probe.stdout).toContain('probe-done');
    expect(probe.stdout).toContain('GEMINI_API_KEY=bastion-placeholder-key');
    expect(probe.stdout).not.toContain(REAL_KEY);
    expect(probe.redactions.map((x) => x.ruleId)).not.toContain('known-secret');
  });

  it("starts the CLI's node with no V8 flag, so Node keeps its built-in code cache, and a heap not cut to the cgroup", async () => {
    // On Node 20 a heap flag (--max-old-space-size) changed V8's flag hash (the cached-data tag), and
    // Node then compiled its internal modules from source: ~70 ms a call, measured. The image's
    // Node 24 no longer hashes memory-tuning flags (the tag is the same with it), but the wrapper
    // still passes none: the sandbox hides the cgroup tree, so Node sizes the heap as on the host.
    const memoryBytes = 768 * 1024 ** 2;
    const probe = 'v8.cachedDataVersionTag() + " " + v8.getHeapStatistics().heap_size_limit';
    const [wrapper, plain] = await Promise.all([
      execCommand(runtime.pipeline, {
        provider: 'exec',
        image: 'bastion/gemini-cli:latest',
        command: ['sh', '-x', '/opt/bastion/bin/gemini', '--version'],
        resources: { memoryBytes },
      }),
      execCommand(runtime.pipeline, {
        provider: 'exec',
        image: 'bastion/gemini-cli:latest',
        command: ['node', '-p', probe],
        resources: { memoryBytes },
      }),
    ]);
    expect(wrapper).toMatchObject({ status: 'succeeded', stdout: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
    expect(wrapper.stderr).toMatch(
      /exec node \/opt\/gemini-cli\/node_modules\/@google\/gemini-cli\/bundle\/gemini\.js --version/,
    );
    expect(wrapper.stderr).not.toMatch(/--max-old-space-size|--max-semi-space-size|--v8-options/);
    const [plainTag, plainHeap] = plain.stdout.trim().split(' ').map(Number);
    expect(plainTag).toBeGreaterThan(0);
    expect(plainHeap).toBeGreaterThan(memoryBytes);
  });
});
