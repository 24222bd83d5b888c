import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createPolicyEngine } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import { createMemoryAuditLog } from '../audit/audit-log';
import { createBwrapExecutor, type BwrapExecutor } from '@bastion/sandbox';
import { describeWithBwrap, sessionCgroups } from '@bastion/sandbox/test-support';
import { createRuntime, type Runtime } from '../runtime';
import { createAgentRunner } from './agent-runner';
import { envAutofixFlag } from './autofix-flag';
import { createCursorProvider } from '@bastion/providers';
import { createAgentBinding } from './agent-binding';

// The fake cursor-agent of @bastion/testing, used by path (the runtime may not import the testing package).
const FAKE = resolve(__dirname, '../../../testing/bin/cursor-agent');
const KEY = 'crsr_live_' + 'Bw7Rq2Xv9Tb4Nc8Ld1Rf5Hs3';
const script = (s: Record<string, unknown>) => `\`\`\`bastion-fake-script\n${JSON.stringify(s)}\n\`\`\`\n`;

/**
 * Cursor on the daemonless backend: the host's cursor-agent install is bind-mounted read-only at
 * /opt/cursor-agent, a mount point the sandbox image now has (bwrap cannot create one on the
 * read-only root as Docker does; it used to fail with "mount point /opt/cursor-agent does not exist").
 */
describeWithBwrap('Cursor on the bwrap backend (fake cursor-agent)', () => {
  let executor: BwrapExecutor;
  let runtime: Runtime;
  let root: string;
  let ws: string;
  const audit = createMemoryAuditLog();

  beforeAll(() => {
    executor = createBwrapExecutor();
    const engine = createPolicyEngine();
    runtime = createRuntime({
      policy: () => engine,
      audit,
      executor,
      secrets: createSecretStore({ env: {}, values: { 'cursor-api-key': KEY } }),
    });
  });
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cursor-bwrap-'));
    ws = join(root, 'ws');
    mkdirSync(join(ws, 'src'), { recursive: true });
    writeFileSync(join(ws, 'src/app.ts'), 'export const answer = 41;\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  afterAll(async () => {
    await runtime?.close();
    if (executor?.cgroups) expect(sessionCgroups(executor.cgroups, executor.identity.sessionId)).toEqual([]);
    expect(JSON.stringify(audit.lines)).not.toContain(KEY);
  });

  const runner = () =>
    createAgentRunner({
      pipeline: runtime.pipeline,
      bindings: [
        createAgentBinding(createCursorProvider(), {
          agentPath: FAKE,
          env: { PATH: '/usr/bin:/bin' },
          autofix: envAutofixFlag({}),
          audit,
        }),
      ],
    });

  it('answers an analyze task read-only', async () => {
    const result = await runner().run('cursor', {
      prompt: `What is this?\n${script({ result: 'A tiny TypeScript module.' })}`,
      workspace: ws,
    });
    expect(result.error).toBeNull();
    expect(result).toMatchObject({
      status: 'succeeded',
      mode: 'read-only',
      response: 'A tiny TypeScript module.',
      execution: { backend: 'bwrap', exitCode: 0 },
    });
  }, 60_000);

  it("proposes an edit as a diff in dry-run and leaves the caller's file untouched", async () => {
    const edits = [{ op: 'write', path: 'src/app.ts', content: 'export const answer = 42;\n' }];
    const result = await runner().run('cursor', {
      prompt: `Fix it.\n${script({ result: 'Done.', edits })}`,
      workspace: ws,
      intent: 'edit',
    });
    expect(result.error).toBeNull();
    expect(result).toMatchObject({
      status: 'succeeded',
      mode: 'dry-run',
      appliedChanges: [],
      execution: { backend: 'bwrap' },
    });
    expect(result.proposedChanges.map((c) => c.path)).toEqual(['src/app.ts']);
    expect(result.proposedChanges[0]!.diff).toContain('+export const answer = 42;');
    expect(readFileSync(join(ws, 'src/app.ts'), 'utf8')).toBe('export const answer = 41;\n');
  }, 60_000);
});
