import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPolicyEngine } from '@bastion/policy';
import { createClaudeCodeProvider } from '@bastion/providers';
import { createSecretStore } from '@bastion/security';
import {
  createAgentBinding,
  createAgentRunner,
  createMemoryAuditLog,
  createRuntime,
  treeDigest,
  type Runtime,
} from '@bastion/agent-runtime';
import { createDockerExecutor } from '@bastion/sandbox';
import { createGatewayProvisioner } from '@bastion/gateway';
import { CLAUDE_CODE_APPLY_ATTEMPTS } from '../escape-corpus/claude-code-attempts';
import { startFakeAnthropicApi, type StartedFakeAnthropicApi } from '../fake-anthropic-api/fake-anthropic-api';
import { describeWhenReady, managedContainers } from '../suite/docker-suite';
import { claudeCodeSuiteProblem, REAL_ANTHROPIC_KEY } from './claude-code-support';

/** Host paths an absolute-path or through-a-link attempt would create if it got out. */
const HOST_PROBES = ['/tmp/absolute-escape.txt', '/tmp/through-link.txt'];

describeWhenReady(
  'claude-code escape attempts on the apply path: the same denials as Cursor',
  claudeCodeSuiteProblem(),
  () => {
    let api: StartedFakeAnthropicApi;
    let runtime: Runtime;
    let sessionId: string;
    const audit = createMemoryAuditLog();

    beforeAll(async () => {
      api = await startFakeAnthropicApi({ expectedApiKey: REAL_ANTHROPIC_KEY });
      const secrets = createSecretStore({ values: { 'anthropic-api-key': REAL_ANTHROPIC_KEY } });
      const executor = createDockerExecutor();
      sessionId = executor.identity.sessionId;
      const egress = createGatewayProvisioner({ secrets, env: { ANTHROPIC_BASE_URL: api.url } });
      runtime = createRuntime({ policy: () => createPolicyEngine(), audit, secrets, executor, egress });
    });
    afterAll(async () => {
      await runtime.close();
      expect(await managedContainers(undefined, sessionId)).toEqual([]);
      expect(JSON.stringify(audit.lines)).not.toContain(REAL_ANTHROPIC_KEY);
      await api.close();
    });

    it.each(CLAUDE_CODE_APPLY_ATTEMPTS.map((a) => [a.id, a] as const))(
      '%s: denied with FF_CLAUDE_CODE_AUTOFIX on, nothing applied',
      async (_id, attempt) => {
        api.reset();
        api.script(...attempt.turns);
        const root = mkdtempSync(join(tmpdir(), 'claude-escape-'));
        const ws = join(root, 'ws');
        try {
          mkdirSync(join(ws, '.git/hooks'), { recursive: true });
          writeFileSync(join(ws, 'README.md'), '# caller workspace\n');
          writeFileSync(join(ws, '.git/HEAD'), 'ref: refs/heads/main\n');
          const probesBefore = HOST_PROBES.filter((p) => existsSync(p));
          const before = await treeDigest(ws);
          const runner = createAgentRunner({
            pipeline: runtime.pipeline,
            bindings: [
              createAgentBinding(createClaudeCodeProvider(), { env: { FF_CLAUDE_CODE_AUTOFIX: 'on' }, audit }),
            ],
          });

          const r = await runner.run('claude-code', { prompt: 'Please tidy up.', workspace: ws, intent: 'edit' });

          // The agent really made the attempt: every scripted turn was asked for.
          expect(api.requests.filter((q) => q.path === '/v1/messages')).toHaveLength(attempt.turns.length);
          expect(r).toMatchObject({ status: 'denied', error: { code: 'POLICY_DENIED' }, appliedChanges: [] });
          expect(await treeDigest(ws)).toEqual(before);
          expect(readdirSync(root)).toEqual(['ws']);
          expect(HOST_PROBES.filter((p) => existsSync(p) && !probesBefore.includes(p))).toEqual([]);
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      },
    );
  },
);
