import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import { FilesystemPolicy, type PolicyEngine } from '@bastion/policy';
import { createOutputSanitizer, createSecretStore } from '@bastion/security';
import type { AgentProvider } from '@bastion/providers';
import { createMemoryAuditLog } from '../audit/audit-log';
import type { Executor } from '@bastion/sandbox';
import { allowAll } from '../test-support/pipeline-stand-ins';
import { runAgent, type ChangeHandler } from './agent-call';
import { createPipeline } from './pipeline';
import { createWorkspaceProvisioner } from '../workspace/workspace-provisioner';
import { SANDBOX_IMAGE } from '@bastion/sandbox';

// A value no pattern rule knows: only the call's known secrets can catch it.
const KEY = 'crsr_' + 'Zq7Lm2Xp9Rt4Wv8Ky3Nb6Hd1Gf5Js0Ac';
// The key with one character as a JSON escape: the stream sanitizer sees `\u0072`, JSON.parse gives the key.
const ESCAPED = KEY.replace('r', '\\u0072');
const planContext = { workspaceMountPath: '/workspace', image: 'g', gatewayUrl: 'http://gw', maxArgBytes: 1024 };

function printingExecutor(stdout: string): Executor {
  return {
    backend: 'docker',
    async run(_request, hooks) {
      hooks.onStdout(new TextEncoder().encode(stdout));
      return {
        exitCode: 0,
        signal: null,
        oomKilled: false,
        timedOut: false,
        outputLimited: null,
        aborted: false,
        durationMs: 1,
        startupMs: 0,
        sandboxId: 'sb-1',
      };
    },
    close: async () => undefined,
  };
}

/** A provider like the real ones: its agent prints one JSON document, parse decodes it. */
const jsonProvider: AgentProvider = {
  specificationVersion: 'v1',
  image: 'sandbox',
  upstreams: [],
  flags: {},
  id: 'json-agent',
  capabilities: { analyze: true, edit: true },
  plan: () => ({
    provider: 'json-agent',
    image: SANDBOX_IMAGE,
    command: ['agent'],
    secretEnv: [{ name: 'AGENT_KEY', secret: 'agent-key' }],
  }),
  parse: (output) => {
    const doc = JSON.parse(output.stdout) as { result?: string; error?: string };
    if (doc.error)
      return {
        ok: false,
        response: '',
        error: { code: 'PROVIDER_FAILED', message: `the agent failed: ${doc.error}`, retryable: false },
      };
    return { ok: true, response: doc.result ?? '' };
  },
};

function setup(stdout: string) {
  const audit = createMemoryAuditLog();
  const secrets = createSecretStore({
    env: {},
    sources: { 'agent-key': { env: 'AGENT_KEY' } },
    values: { 'agent-key': KEY },
  });
  const pipeline = createPipeline({
    policy: () => allowAll,
    executor: printingExecutor(stdout),
    sanitizer: (knownSecrets, customRules) => createOutputSanitizer({ knownSecrets, customRules }),
    secrets,
    audit,
  });
  return { audit, pipeline };
}

describe('runAgent: the exit gate sees every result last', () => {
  it('redacts a key the provider decoded from a JSON escape in the answer, and counts it', async () => {
    const { pipeline, audit } = setup(`{"result":"the key is ${ESCAPED}"}`);
    const result = await runAgent(pipeline, jsonProvider, { prompt: 'p' }, { planContext });
    expect(result.status).toBe('succeeded');
    expect(result.response).toBe('the key is [REDACTED:known-secret]');
    expect(result.redactions).toEqual([{ ruleId: 'known-secret', severity: 'critical', count: 1 }]);
    expect(JSON.stringify(result)).not.toContain(KEY);
    expect(audit.lines.join('')).not.toContain(KEY);
  });

  it('redacts the key in an error message built from a parsed field', async () => {
    const { pipeline } = setup(`{"error":"bad key ${ESCAPED}"}`);
    const result = await runAgent(pipeline, jsonProvider, { prompt: 'p' }, { planContext });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('the agent failed: bad key [REDACTED:known-secret]');
  });

  it('redacts a call that never reached the sandbox too (a plan that failed with the key in its message)', async () => {
    const { pipeline } = setup('{}');
    const failing: AgentProvider = {
      ...jsonProvider,
      plan: () => {
        throw new BastionError('PROVIDER_FAILED', `cannot plan with ${KEY}`);
      },
    };
    const result = await runAgent(pipeline, failing, { prompt: 'p' }, { planContext });
    expect(result.error?.message).toBe('cannot plan with [REDACTED:known-secret]');
  });

  it('redacts the diffs and paths of proposed changes (dry-run)', async () => {
    const { pipeline } = setup('{"result":"done"}');
    const changes: ChangeHandler = async () => ({
      proposedChanges: [
        { path: `leak-${KEY}.txt`, kind: 'add', diff: `--- /dev/null\n+++ b/leak.txt\n@@ -0,0 +1 @@\n+${KEY}\n` },
      ],
      appliedChanges: [],
    });
    const result = await runAgent(
      pipeline,
      jsonProvider,
      { prompt: 'p', intent: 'edit' },
      { planContext, mode: 'dry-run', changes },
    );
    expect(result.status).toBe('succeeded');
    expect(result.proposedChanges[0]).toEqual({
      path: 'leak-[REDACTED:known-secret].txt',
      kind: 'add',
      diff: '--- /dev/null\n+++ b/leak.txt\n@@ -0,0 +1 @@\n+[REDACTED:known-secret]\n',
    });
    expect(result.redactions).toEqual([{ ruleId: 'known-secret', severity: 'critical', count: 2 }]);
  });

  it('refuses to apply an edit that carries a known secret: nothing is applied, the redacted diff stays proposed', async () => {
    const { pipeline, audit } = setup('{"result":"done"}');
    const modes: string[] = [];
    const changes: ChangeHandler = async (_run, call) => {
      modes.push(call.mode);
      const proposedChanges = [
        {
          path: 'config.txt',
          kind: 'add' as const,
          diff: `--- /dev/null\n+++ b/config.txt\n@@ -0,0 +1 @@\n+key=${KEY}\n`,
        },
      ];
      return {
        proposedChanges,
        appliedChanges: call.mode === 'apply' ? [{ path: 'config.txt', kind: 'add' as const }] : [],
      };
    };
    const result = await runAgent(
      pipeline,
      jsonProvider,
      { prompt: 'p', intent: 'edit' },
      { planContext, mode: 'apply', changes },
    );
    expect(modes).toEqual(['dry-run']);
    expect(result.status).toBe('denied');
    expect(result.error).toMatchObject({
      code: 'POLICY_DENIED',
      retryable: false,
      details: { rule: 'known-secret', files: 1 },
    });
    expect(result.appliedChanges).toEqual([]);
    expect(result.proposedChanges[0]!.diff).toContain('+key=[REDACTED:known-secret]');
    expect(audit.events.some((e) => e.event === 'changes.refused' && e.correlationId === result.correlationId)).toBe(
      true,
    );
    expect(JSON.stringify(result)).not.toContain(KEY);
  });

  it('applies a clean edit after screening it', async () => {
    const { pipeline } = setup('{"result":"done"}');
    const modes: string[] = [];
    const changes: ChangeHandler = async (_run, call) => {
      modes.push(call.mode);
      const proposedChanges = [
        { path: 'a.txt', kind: 'add' as const, diff: '--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1 @@\n+hello\n' },
      ];
      return {
        proposedChanges,
        appliedChanges: call.mode === 'apply' ? [{ path: 'a.txt', kind: 'add' as const }] : [],
      };
    };
    const result = await runAgent(
      pipeline,
      jsonProvider,
      { prompt: 'p', intent: 'edit' },
      { planContext, mode: 'apply', changes },
    );
    expect(modes).toEqual(['dry-run', 'apply']);
    expect(result.status).toBe('succeeded');
    expect(result.appliedChanges).toEqual([{ path: 'a.txt', kind: 'add' }]);
  });
});

describe('runAgent: a provider that throws', () => {
  it('still throws, typed, with the key redacted from the text it may have built from the decoded output', async () => {
    const { pipeline } = setup(`{"result":"the key is ${ESCAPED}"}`);
    const throwing: AgentProvider = {
      ...jsonProvider,
      parse: (output) => {
        const doc = JSON.parse(output.stdout) as { result: string };
        throw new Error(`cannot handle "${doc.result}"`);
      },
    };
    const thrown = await runAgent(pipeline, throwing, { prompt: 'p' }, { planContext }).then(
      () => null,
      (err: unknown) => err,
    );
    expect(BastionError.isInstance(thrown)).toBe(true);
    expect(thrown).toMatchObject({
      code: 'PROVIDER_FAILED',
      message: 'cannot handle "the key is [REDACTED:known-secret]"',
    });
    expect((thrown as Error).cause).toBeUndefined();
  });
});

describe('runAgent: an agent that dies because its workspace copy is full', () => {
  // The copy sits on its own size- and inode-capped tmpfs, which needs root (as in production).
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'bastion-copyfull-'));
    mkdirSync(join(root, 'ws'));
    mkdirSync(join(root, 'copies'), { mode: 0o700 });
    writeFileSync(join(root, 'ws', 'a.txt'), 'a\n', { mode: 0o644 });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const filesystem = { ...FilesystemPolicy.parse({}), maxTotalBytes: 1 << 20, maxFiles: 20 };
  const policy = {
    evaluate: (spec: unknown, ctx: unknown) => ({
      ...(allowAll.evaluate as (s: unknown, c: unknown) => object)(spec, ctx),
      obligations: { network: { mode: 'none' }, filesystem },
    }),
  } as unknown as PolicyEngine;
  const editingProvider: AgentProvider = {
    ...jsonProvider,
    plan: () => ({
      ...jsonProvider.plan({ prompt: 'p' } as never, {} as never),
      workspace: { hostPath: join(root, 'ws'), access: 'copy' },
    }),
  };

  /** An executor whose "agent" does `fill` to the copy mounted at /workspace, then fails as an agent does. */
  function fillingExecutor(fill: (copyDir: string) => void): Executor {
    return {
      backend: 'docker',
      async run(request, hooks) {
        fill(request.mounts.find((m) => m.containerPath === '/workspace')!.hostPath);
        hooks.onStdout(new TextEncoder().encode('{"error":"tool write_file failed"}'));
        hooks.onStderr?.(new TextEncoder().encode('Error: ENOSPC: no space left on device, write\n'));
        return {
          exitCode: 1,
          signal: null,
          oomKilled: false,
          timedOut: false,
          outputLimited: null,
          aborted: false,
          durationMs: 1,
          startupMs: 0,
          sandboxId: 'sb-1',
        };
      },
      close: async () => undefined,
    };
  }
  const writeUntilFull = (path: string, write: (i: number) => void) => {
    for (let i = 0; ; i++) {
      try {
        write(i);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return;
        throw err;
      }
      if (i > 100_000) throw new Error(`${path} never filled up`);
    }
  };
  const call = (fill: (copyDir: string) => void) =>
    runAgent(
      createPipeline({
        policy: () => policy,
        executor: fillingExecutor(fill),
        sanitizer: (knownSecrets, customRules) => createOutputSanitizer({ knownSecrets, customRules }),
        secrets: createSecretStore({
          env: {},
          sources: { 'agent-key': { env: 'AGENT_KEY' } },
          values: { 'agent-key': KEY },
        }),
        audit: createMemoryAuditLog(),
        workspace: createWorkspaceProvisioner({
          scratchDir: join(root, 'copies'),
          owner: null,
          boundedFilesystem: true,
        }),
      }),
      editingProvider,
      { prompt: 'p', intent: 'edit' },
      { planContext, mode: 'dry-run', changes: async () => ({ proposedChanges: [], appliedChanges: [] }) },
    );

  it('ends RESOURCE_EXHAUSTED naming filesystem.maxTotalBytes when the bytes ran out, not PROVIDER_FAILED', async () => {
    const result = await call((copy) =>
      writeUntilFull(copy, () => appendFileSync(join(copy, 'big.bin'), Buffer.alloc(256 * 1024, 1))),
    );
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      retryable: false,
      details: { resource: 'workspace-copy', limit: 'maxTotalBytes', maxTotalBytes: 1 << 20, after: 'PROVIDER_FAILED' },
    });
    expect(result.error!.message).toMatch(/filesystem\.maxTotalBytes: 1 ?MiB of room/);
    expect(readdirSync(join(root, 'copies'))).toEqual([]);
  });

  it('ends RESOURCE_EXHAUSTED naming filesystem.maxFiles when the files ran out', async () => {
    const result = await call((copy) => writeUntilFull(copy, (i) => writeFileSync(join(copy, `f${i}`), '')));
    expect(result.error).toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      details: { resource: 'workspace-copy', limit: 'maxFiles', maxFiles: 20 },
    });
    expect(result.error!.message).toMatch(/filesystem\.maxFiles/);
  });

  it('stays PROVIDER_FAILED when the agent failed with room left in its copy', async () => {
    const result = await call((copy) => writeFileSync(join(copy, 'small.txt'), 'x\n'));
    expect(result.error).toMatchObject({ code: 'PROVIDER_FAILED' });
  });
});
