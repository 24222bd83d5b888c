import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import {
  startFakeAnthropicApi,
  type FakeAnthropicTurn,
  type StartedFakeAnthropicApi,
} from '../fake-anthropic-api/fake-anthropic-api';
import { describeWhenReady, managedContainers } from '../suite/docker-suite';
import { claudeCodeSuiteProblem, REAL_ANTHROPIC_KEY } from './claude-code-support';

/** What the (fake) model asks Claude Code to do: one tool call per turn, then a closing text. */
const EDIT_TURNS: FakeAnthropicTurn[] = [
  [{ type: 'tool_use', id: 'toolu_e1', name: 'Read', input: { file_path: '/workspace/src/app.ts' } }],
  [
    {
      type: 'tool_use',
      id: 'toolu_e2',
      name: 'Edit',
      input: { file_path: '/workspace/src/app.ts', old_string: 'answer = 41', new_string: 'answer = 42' },
    },
  ],
  [
    {
      type: 'tool_use',
      id: 'toolu_e3',
      name: 'Write',
      input: { file_path: '/workspace/src/new.ts', content: 'export const added = true;\n' },
    },
  ],
  [
    {
      type: 'tool_use',
      id: 'toolu_e4',
      name: 'Bash',
      input: { command: 'rm old.txt', description: 'remove the old file' },
    },
  ],
  'Fixed the answer, added new.ts, removed old.txt.',
];

describeWhenReady('claude-code edits: dry-run diff, flag-gated apply', claudeCodeSuiteProblem(), () => {
  let api: StartedFakeAnthropicApi;
  let runtime: Runtime | undefined;
  let sessionId: string;
  let audit: ReturnType<typeof createMemoryAuditLog>;
  let root: string;
  let ws: string;

  const runner = (flagEnv: NodeJS.ProcessEnv) => {
    const secrets = createSecretStore({ values: { 'anthropic-api-key': REAL_ANTHROPIC_KEY } });
    const executor = createDockerExecutor();
    sessionId = executor.identity.sessionId;
    const egress = createGatewayProvisioner({ secrets, env: { ANTHROPIC_BASE_URL: api.url } });
    runtime = createRuntime({ policy: () => createPolicyEngine(), audit, secrets, executor, egress });
    return createAgentRunner({
      pipeline: runtime.pipeline,
      bindings: [createAgentBinding(createClaudeCodeProvider(), { env: flagEnv, audit })],
    });
  };

  beforeAll(async () => {
    api = await startFakeAnthropicApi({ expectedApiKey: REAL_ANTHROPIC_KEY });
  });
  afterAll(async () => {
    await api.close();
  });
  beforeEach(() => {
    api.reset();
    audit = createMemoryAuditLog();
    root = mkdtempSync(join(tmpdir(), 'claude-edit-'));
    ws = join(root, 'ws');
    mkdirSync(join(ws, 'src'), { recursive: true });
    writeFileSync(join(ws, 'README.md'), '# demo\n');
    writeFileSync(join(ws, 'src/app.ts'), 'export const answer = 41;\n');
    writeFileSync(join(ws, 'old.txt'), 'to be removed\n');
  });
  afterEach(async () => {
    await runtime?.close();
    runtime = undefined;
    rmSync(root, { recursive: true, force: true });
    expect(await managedContainers(undefined, sessionId)).toEqual([]);
    expect(JSON.stringify(audit.lines)).not.toContain(REAL_ANTHROPIC_KEY);
  });

  it("dry-run (flag off): returns the agent's edits as a diff and leaves the caller's files untouched", async () => {
    api.script(...EDIT_TURNS);
    const before = await treeDigest(ws);
    const r = await runner({}).run('claude-code', { prompt: 'fix the answer', workspace: ws, intent: 'edit' });
    expect(r).toMatchObject({
      status: 'succeeded',
      mode: 'dry-run',
      appliedChanges: [],
      error: null,
      response: 'Fixed the answer, added new.ts, removed old.txt.',
    });
    expect(r.proposedChanges.map((c) => `${c.kind} ${c.path}`).sort()).toEqual([
      'add src/new.ts',
      'delete old.txt',
      'modify src/app.ts',
    ]);
    expect(r.proposedChanges.find((c) => c.path === 'src/app.ts')?.diff).toContain(
      '-export const answer = 41;\n+export const answer = 42;\n',
    );
    expect(await treeDigest(ws)).toEqual(before);
    expect(readdirSync(root)).toEqual(['ws']);
    // Every tool ran in the sandbox: the model got five turns' worth of requests, each tool's result in the next.
    expect(api.requests.filter((q) => q.path === '/v1/messages').map((q) => q.status)).toEqual([
      200, 200, 200, 200, 200,
    ]);
  });

  it('applies with FF_CLAUDE_CODE_AUTOFIX on, audited with the flag', async () => {
    api.script(...EDIT_TURNS);
    const r = await runner({ FF_CLAUDE_CODE_AUTOFIX: 'on' }).run(
      'claude-code',
      { prompt: 'fix the answer', workspace: ws, intent: 'edit' },
      { correlationId: 'claude-apply-1' },
    );
    expect(r).toMatchObject({ status: 'succeeded', mode: 'apply', error: null });
    expect(r.appliedChanges.map((c) => c.path).sort()).toEqual(['old.txt', 'src/app.ts', 'src/new.ts']);
    expect(readFileSync(join(ws, 'src/app.ts'), 'utf8')).toBe('export const answer = 42;\n');
    expect(readFileSync(join(ws, 'src/new.ts'), 'utf8')).toBe('export const added = true;\n');
    expect(readdirSync(ws).sort()).toEqual(['README.md', 'src']);
    const flagged = JSON.stringify(audit.lines);
    expect(flagged).toContain('FF_CLAUDE_CODE_AUTOFIX');
    expect(flagged).toContain('claude-apply-1');
  });

  it('stays a dry-run when the flag is set to something unparseable', async () => {
    api.script(...EDIT_TURNS);
    const before = await treeDigest(ws);
    const r = await runner({ FF_CLAUDE_CODE_AUTOFIX: 'maybe' }).run('claude-code', {
      prompt: 'fix the answer',
      workspace: ws,
      intent: 'edit',
    });
    expect(r).toMatchObject({ status: 'succeeded', mode: 'dry-run', appliedChanges: [] });
    expect(await treeDigest(ws)).toEqual(before);
  });
});
