import { createPolicyEngine } from '@bastion/policy';
import { createClaudeCodeProvider } from '@bastion/providers';
import { createSecretStore } from '@bastion/security';
import { createAgentRunner, createMemoryAuditLog, createRuntime, type Runtime } from '@bastion/agent-runtime';
import { createDockerExecutor } from '@bastion/sandbox';
import { createGatewayProvisioner } from '@bastion/gateway';
import { startFakeAnthropicApi, type StartedFakeAnthropicApi } from '../fake-anthropic-api/fake-anthropic-api';
import { describeWhenReady, managedContainers } from '../suite/docker-suite';
import { claudeCodeSuiteProblem, REAL_ANTHROPIC_KEY } from './claude-code-support';

/**
 * Everything a process in the sandbox could read the key from: its env, every process's environ
 * and argv, the files under /tmp (HOME, the CLI's state) and /run/bastion. It counts lines that
 * look like an Anthropic key (the pattern is bracketed so the command itself never matches) and,
 * as the control that the search reaches them, the lines holding the placeholder; it prints only a
 * summary: the CLI cuts a tool's output above 30 KB.
 */
const EVERYWHERE =
  '{ env; cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline; grep -rsh . /tmp /run/bastion; } 2>/dev/null | tr "\\0" "\\n"';
const HUNT = [
  'env | grep ^ANTHROPIC_',
  'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done 2>/dev/null | grep -F "claude -p" | head -2',
  `echo "key-like lines: $(${EVERYWHERE} | grep -c "sk-an[t]-")"`,
  `echo "placeholder lines: $(${EVERYWHERE} | grep -c "bastion-placeholder-ke[y]")"`,
  'echo hunt-done',
].join('; ');

describeWhenReady('claude-code key custody: the real key exists only at the gateway', claudeCodeSuiteProblem(), () => {
  let api: StartedFakeAnthropicApi;
  let runtime: Runtime;
  let sessionId: string;
  const audit = createMemoryAuditLog();

  beforeAll(async () => {
    api = await startFakeAnthropicApi({ expectedApiKey: REAL_ANTHROPIC_KEY });
  });
  afterAll(async () => {
    await runtime?.close();
    expect(await managedContainers(undefined, sessionId)).toEqual([]);
    await api.close();
  });

  it("has the CLI's own Bash tool find only the placeholder in env, /proc (environ and argv) and files, while the gateway sends the real key", async () => {
    const secrets = createSecretStore({ values: { 'anthropic-api-key': REAL_ANTHROPIC_KEY } });
    const executor = createDockerExecutor();
    sessionId = executor.identity.sessionId;
    const egress = createGatewayProvisioner({ secrets, env: { ANTHROPIC_BASE_URL: api.url } });
    runtime = createRuntime({ policy: () => createPolicyEngine(), audit, secrets, executor, egress });
    // An edit call without a workspace: the CLI may run Bash (bypassPermissions) and there is nothing to diff.
    const provider = createClaudeCodeProvider();
    const runner = createAgentRunner({
      pipeline: runtime.pipeline,
      bindings: [{ provider, prepare: async () => ({ mode: 'dry-run' }) }],
    });
    api.script(
      [{ type: 'tool_use', id: 'toolu_hunt', name: 'Bash', input: { command: HUNT, description: 'look around' } }],
      'Looked around.',
    );

    const r = await runner.run('claude-code', { prompt: 'look for credentials', intent: 'edit' });
    expect(r.error).toBeNull();
    expect(r.response).toBe('Looked around.');

    // The tool's output went back to the (fake) model in the second request: that is what the agent saw.
    expect(api.requests.map((q) => q.status)).toEqual([200, 200]);
    const seen = JSON.stringify(api.requests[1].body);
    expect(seen).toContain('hunt-done');
    expect(seen).toContain('ANTHROPIC_API_KEY=bastion-placeholder-key');
    expect(seen).toMatch(/ANTHROPIC_BASE_URL=http:\/\/127\.0\.0\.1:\d+/);
    expect(seen).toContain('claude -p --output-format stream-json --verbose --permission-mode bypassPermissions');
    expect(seen).toContain('key-like lines: 0');
    expect(seen).toMatch(/placeholder lines: [1-9]/);
    expect(seen).not.toContain(REAL_ANTHROPIC_KEY);
    // And every request left the gateway with the real key, whatever the sandbox sent.
    expect(new Set(api.requests.map((q) => q.headers['x-api-key']))).toEqual(new Set([REAL_ANTHROPIC_KEY]));
    expect(JSON.stringify(r)).not.toContain(REAL_ANTHROPIC_KEY);
    expect(JSON.stringify(audit.lines)).not.toContain(REAL_ANTHROPIC_KEY);
  });
});
