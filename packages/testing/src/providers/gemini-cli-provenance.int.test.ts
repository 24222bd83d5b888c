import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_POLICY_INPUT, Policy, createPolicyEngine, type PolicyInput } from '@bastion/policy';
import { createGeminiCliProvider } from '@bastion/providers';
import { createOutputSanitizer, createSecretStore } from '@bastion/security';
import {
  createAgentRunner,
  createMemoryAuditLog,
  createRuntime,
  initSigningKey,
  readOnlyBinding,
  verifyProvenance,
  writeProvenance,
  type RunFacts,
  type Runtime,
} from '@bastion/agent-runtime';
import { createDockerExecutor } from '@bastion/sandbox';
import { createGatewayProvisioner } from '@bastion/gateway';
import { demoSessionAnswer, startFakeGeminiApi, type StartedFakeGeminiApi } from '../fake-gemini-api/fake-gemini-api';
import { describeWithEngine, managedContainers } from '../suite/docker-suite';

const REAL_KEY = 'AIzaSyC' + 'pr0v3nIntT3stK3yAbCdEfGhIjKlMnOpQr';
const DEPLOY_TOKEN = 'ghp_' + '0123456789abcdefABCDEF0123456789abcd';

/** The demo's session through the real Gemini CLI in Docker: the record of a real run. */
describeWithEngine('provenance of a real sandboxed Gemini CLI session', () => {
  let api: StartedFakeGeminiApi;
  let runtime: Runtime;
  let sessionId: string;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-prov-int-'));
    api = await startFakeGeminiApi({ expectedApiKey: REAL_KEY, defaultAnswer: demoSessionAnswer });
  });
  afterAll(async () => {
    await runtime?.close();
    expect(await managedContainers(undefined, sessionId)).toEqual([]);
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('signs a record that verifies, names what differs when envelope or key change, and holds no secret', async () => {
    const ws = join(dir, 'ws');
    await mkdir(join(ws, '.gemini'), { recursive: true });
    await writeFile(join(ws, 'README.md'), `# Greeter\n\nGreets users.\nDeploy token: ${DEPLOY_TOKEN}\n`);
    await writeFile(join(ws, '.gemini/settings.json'), '{"tools":{"allowed":["web_fetch"]}}\n');
    const policy = Policy.parse({
      ...DEFAULT_POLICY_INPUT,
      budget: { run: { maxOutputTokens: 4000 } },
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
    const runner = createAgentRunner({
      pipeline: runtime.pipeline,
      bindings: [readOnlyBinding(createGeminiCliProvider())],
    });

    let facts: RunFacts | undefined;
    const result = await runner.run(
      'gemini-cli',
      { prompt: 'list, read, fetch and summarise', workspace: ws },
      { onRunFacts: (f) => (facts = f) },
    );
    expect(result.error).toBeNull();
    expect(result.response).toContain('Greeter');
    expect(result.redactions).toEqual(expect.arrayContaining([expect.objectContaining({ ruleId: 'github-pat' })]));
    expect(facts).toBeDefined();

    const key = await initSigningKey(join(dir, 'key.pem'));
    const file = join(dir, 'run.provenance.json');
    const gate = runtime.pipeline.exitGate();
    await writeProvenance(
      { result, facts: facts!, key, version: 'test', workspace: ws, clean: (t) => gate.sanitizer.sanitize(t).text },
      file,
    );
    const text = await readFile(file, 'utf8');

    const ok = await verifyProvenance(text, key.publicKey, { workspace: ws });
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    const p = ok.statement.predicate;
    expect(ok.statement.subject.map((s) => s.name)).toEqual(['response']);
    expect(p.usage).toEqual(result.usage);
    expect(p.usage.requests).toBeGreaterThanOrEqual(4);
    expect(p.egress.hosts).toEqual([{ host: 'api:gemini', allowed: p.usage.requests, denied: 0 }]);
    expect(p.secrets.ids).toEqual(['gemini-api-key']);
    expect(p.budget).toEqual({ maxOutputTokens: 4000 });
    expect(p.sandbox).toMatchObject({
      backend: 'docker',
      image: expect.stringContaining('bastion/gemini-cli'),
      network: { mode: 'gateway', api: 'gemini' },
    });
    expect(p.policy).toMatchObject({ decision: 'allow', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(p.redactions).toEqual(result.redactions);

    // No secret anywhere in the file or its decoded payload: neither the API key nor the token the agent read.
    const payload = Buffer.from((JSON.parse(text) as { payload: string }).payload, 'base64').toString('utf8');
    for (const t of [text, payload]) {
      expect(t).not.toContain(REAL_KEY);
      expect(t).not.toContain(DEPLOY_TOKEN);
      expect(createOutputSanitizer({ knownSecrets: [REAL_KEY, DEPLOY_TOKEN] }).sanitize(t).redactions).toEqual([]);
    }

    // One byte of the envelope's payload changed: the signature no longer verifies.
    const env = JSON.parse(text) as { payload: string };
    const bytes = Buffer.from(env.payload, 'base64');
    bytes[bytes.length - 2] ^= 0x01;
    const tampered = await verifyProvenance(
      JSON.stringify({ ...env, payload: bytes.toString('base64') }),
      key.publicKey,
    );
    expect(tampered).toMatchObject({ ok: false, problem: expect.stringContaining('the signature does not verify') });
    // Another key: named as such.
    const wrongKey = await verifyProvenance(text, generateKeyPairSync('ed25519').publicKey);
    expect(wrongKey).toMatchObject({ ok: false, problem: expect.stringContaining('the public key differs') });
  }, 90_000);
});
