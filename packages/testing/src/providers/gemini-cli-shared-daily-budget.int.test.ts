import { Client } from 'pg';
import { DEFAULT_POLICY_INPUT, Policy, createPolicyEngine, type PolicyInput } from '@bastion/policy';
import type { BastionError } from '@bastion/core';
import { createGeminiCliProvider } from '@bastion/providers';
import { createSecretStore } from '@bastion/security';
import { createAgentRunner, createMemoryAuditLog, createRuntime, readOnlyBinding } from '@bastion/agent-runtime';
import { createDockerExecutor } from '@bastion/sandbox';
import { DailyUsage, createGatewayProvisioner } from '@bastion/gateway';
import { openTaskLedger, parseDatabaseLocation } from '@bastion/server';
import { describeWithPostgres } from '@bastion/server/test-support';
import { startFakeGeminiApi, type StartedFakeGeminiApi } from '../fake-gemini-api/fake-gemini-api';
import { describeWithEngine, managedContainers } from '../suite/docker-suite';

const REAL_KEY = 'AIzaSyC' + 'sH4r3dBudg3tK3yAbCdEfGhIjKlMnOpQr';

/**
 * Two workers, each with its own runtime, gateway and connections, on one PostgreSQL: the policy's
 * daily budget is one budget for both, and a restarted worker still sees the day's spend.
 */
describeWithEngine('daily budgets in the task database: workers share one budget', () => {
  describeWithPostgres('gemini-cli on two workers over one PostgreSQL', (database) => {
    let api: StartedFakeGeminiApi;
    const sessions: string[] = [];
    const open: Array<{ close(): Promise<void> }> = [];
    const storeErrors: BastionError[] = [];
    const engine = createPolicyEngine({
      policy: Policy.parse({
        ...DEFAULT_POLICY_INPUT,
        providers: [{ name: 'gemini-cli', api: true, models: ['gemini-2.5-flash'] }],
        budget: { daily: { maxInputTokens: 5000 } },
      } satisfies PolicyInput),
    });

    /** What `bastion worker --database URL` builds: its own pool on the database, its own runtime. */
    async function startWorker() {
      const ledger = await openTaskLedger(parseDatabaseLocation(database()));
      const dailyUsage = new DailyUsage({
        store: { current: () => ledger.dailyUsage, onError: (e) => storeErrors.push(e) },
      });
      const secrets = createSecretStore({ env: { GEMINI_API_KEY: REAL_KEY } });
      const executor = createDockerExecutor();
      sessions.push(executor.identity.sessionId);
      const runtime = createRuntime({
        policy: () => engine,
        audit: createMemoryAuditLog(),
        secrets,
        executor,
        egress: createGatewayProvisioner({ secrets, env: { GOOGLE_GEMINI_BASE_URL: api.url }, dailyUsage }),
      });
      let closed: Promise<void> | undefined;
      const worker = {
        runner: createAgentRunner({
          pipeline: runtime.pipeline,
          bindings: [readOnlyBinding(createGeminiCliProvider())],
        }),
        close: () => (closed ??= runtime.close().finally(() => ledger.close())),
      };
      open.push(worker);
      return worker;
    }

    beforeAll(async () => {
      api = await startFakeGeminiApi({ expectedApiKey: REAL_KEY });
    });
    afterAll(async () => {
      for (const w of open) await w.close();
      for (const s of sessions) expect(await managedContainers(undefined, s)).toEqual([]);
      await api?.close();
    });

    const inputTokensSince = (from: number) =>
      api.requests.slice(from).reduce((n, q) => n + (q.usage?.promptTokenCount ?? 0), 0);

    it('ends the second worker’s call BUDGET_EXCEEDED on the first one’s spend, and a restarted worker refuses the next call', async () => {
      const [first, second] = [await startWorker(), await startWorker()];
      const from = api.requests.length;
      api.script({ text: 'first worker', usage: { promptTokenCount: 2000, candidatesTokenCount: 5 } });
      const a = await first.runner.run('gemini-cli', { prompt: 'spend some' });
      expect(a.error).toBeNull();
      const firstSpend = a.usage?.inputTokens ?? 0;
      expect(firstSpend).toBeGreaterThanOrEqual(2000);
      expect(firstSpend).toBeLessThan(5000);

      // Alone it would fit (4000 < 5000); with the first worker's spend it does not.
      api.script({ text: 'second worker', usage: { promptTokenCount: 4000, candidatesTokenCount: 5 } });
      const b = await second.runner.run('gemini-cli', { prompt: 'spend more' });
      expect(b.status).toBe('failed');
      expect(b.error).toMatchObject({ code: 'BUDGET_EXCEEDED', retryable: false });
      const today =
        /daily budget of tenant "default" for gemini-cli maxInputTokens=5000 was reached: this run used (\d+) input.*; today: (\d+) input/.exec(
          b.error?.message ?? '',
        );
      expect(today).not.toBeNull();
      expect(Number(today![2])).toBe(firstSpend + Number(today![1]));

      // The database holds every token the fake API reported, whichever worker relayed it.
      const db = new Client({ connectionString: database() });
      await db.connect();
      const rows = (
        await db.query<{ tenant: string; provider: string; input_tokens: string; requests: string }>(
          'select tenant, provider, input_tokens, requests from bastion_daily_usage',
        )
      ).rows;
      await db.end();
      expect(rows).toEqual([
        expect.objectContaining({
          tenant: 'default',
          provider: 'gemini-cli',
          input_tokens: String(inputTokensSince(from)),
        }),
      ]);

      // A worker restarted (new connections, new runtime) starts from the day's totals: refused at its first request.
      await first.close();
      const restarted = await startWorker();
      const before = api.requests.length;
      api.script('never sent');
      const c = await restarted.runner.run('gemini-cli', { prompt: 'one more' });
      expect(c.error).toMatchObject({ code: 'BUDGET_EXCEEDED' });
      expect(c.usage).toMatchObject({ requests: 0, inputTokens: 0 });
      expect(api.requests.slice(before).filter((q) => q.kind === 'stream' || q.kind === 'generate')).toEqual([]);
      expect(storeErrors).toEqual([]);
      for (const s of sessions) expect(await managedContainers(undefined, s)).toEqual([]);
    }, 120_000);
  });
});
