import { createPolicyEngine } from '@bastion/policy';
import { createGeminiCliProvider } from '@bastion/providers';
import { createSecretStore } from '@bastion/security';
import {
  createAgentRunner,
  createMemoryAuditLog,
  createRuntime,
  readOnlyBinding,
  type AgentRunner,
  type Runtime,
} from '@bastion/agent-runtime';
import { createBwrapExecutor, type BwrapExecutor } from '@bastion/sandbox';
import { createGatewayProvisioner } from '@bastion/gateway';
import { startFakeGeminiApi, type StartedFakeGeminiApi } from '../fake-gemini-api/fake-gemini-api';
import { bwrapProblem, bwrapProcesses, leftoverCgroups } from '../suite/bwrap-suite';
import { describeWhenReady, SANDBOX_IMAGES } from '../suite/docker-suite';

const REAL_KEY = 'AIzaSyB' + 'q2We4Rt6Yu8Io0Pa1Sd3Fg5Hj7Kl9Zx1Cv';

/**
 * The same provider on the daemonless backend (what FF_DEFAULT_BACKEND=bwrap gives a running
 * service): the real CLI over the gemini-cli image's root filesystem, the per-call gateway socket
 * bind-mounted at /run/bastion, the in-sandbox relay on loopback.
 */
describeWhenReady(
  'gemini-cli provider on the bwrap backend: the real CLI behind the gateway',
  bwrapProblem([SANDBOX_IMAGES.geminiCli]),
  () => {
    let api: StartedFakeGeminiApi;
    let executor: BwrapExecutor;
    let runtime: Runtime;
    let runner: AgentRunner;
    const audit = createMemoryAuditLog();

    beforeAll(async () => {
      api = await startFakeGeminiApi({ expectedApiKey: REAL_KEY });
      const secrets = createSecretStore({ env: { GEMINI_API_KEY: REAL_KEY } });
      const engine = createPolicyEngine();
      executor = createBwrapExecutor();
      runtime = createRuntime({
        policy: () => engine,
        audit,
        secrets,
        executor,
        egress: createGatewayProvisioner({ secrets, env: { GOOGLE_GEMINI_BASE_URL: api.url } }),
      });
      runner = createAgentRunner({
        pipeline: runtime.pipeline,
        bindings: [readOnlyBinding(createGeminiCliProvider())],
      });
    });

    afterAll(async () => {
      await runtime?.close();
      await api?.close();
      expect(leftoverCgroups(executor)).toEqual([]);
      expect(bwrapProcesses()).toEqual([]);
      expect(JSON.stringify(audit.lines)).not.toContain(REAL_KEY);
    });

    it('returns the scripted answer; the fake saw only the real key, injected by the gateway', async () => {
      api.reset();
      api.script('Bastion on bwrap says: 4.');
      const r = await runner.run('gemini-cli', { prompt: 'What is 2+2?' });
      expect(r.error).toBeNull();
      expect(r).toMatchObject({
        status: 'succeeded',
        response: 'Bastion on bwrap says: 4.',
        execution: expect.objectContaining({ backend: 'bwrap' }),
      });
      const keys = api.requests.map((q) => q.headers['x-goog-api-key']);
      expect(keys.length).toBeGreaterThan(0);
      expect(new Set(keys)).toEqual(new Set([REAL_KEY]));
      expect(JSON.stringify(r)).not.toContain(REAL_KEY);
    });

    it('ends a 429 at the gateway with RATE_LIMITED and the advised retryAfterMs', async () => {
      api.reset();
      api.setFault({ kind: 'rate-limit', retryDelay: '7s', on: 'content' });
      const t0 = Date.now();
      const r = await runner.run('gemini-cli', { prompt: 'hello' });
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(r.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 7000 });
    });
  },
);
