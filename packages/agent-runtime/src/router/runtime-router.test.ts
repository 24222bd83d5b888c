import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import type { AgentProvider } from '@bastion/providers';
import { createOutputSanitizer, createSecretStore } from '@bastion/security';
import { createMemoryAuditLog } from '../audit/audit-log';
import { readOnlyBinding } from '../agents/provider-binding';
import type { Executor, ExecutorRequest } from '@bastion/sandbox';
import { createFlagService } from '../flags/flag-service';
import { writeFlagsFileAtomic } from '../flags/flags-file';
import { createPipeline } from '../pipeline/pipeline';
import { createRuntimeRouter } from './runtime-router';
import { allowAll, noSecrets, passThrough } from '../test-support/pipeline-stand-ins';
import { SANDBOX_IMAGE } from '@bastion/sandbox';

function recordingExecutor(): Executor & { requests: ExecutorRequest[] } {
  const requests: ExecutorRequest[] = [];
  return {
    backend: 'docker',
    requests,
    async run(request, hooks) {
      requests.push(request);
      hooks.onStdout(new TextEncoder().encode('ok\n'));
      return {
        exitCode: 0,
        signal: null,
        oomKilled: false,
        timedOut: false,
        outputLimited: null,
        aborted: false,
        durationMs: 1,
        startupMs: 0,
        sandboxId: 'rec-1',
      };
    },
    close: async () => undefined,
  };
}

const echoProvider = (id: string): AgentProvider => ({
  specificationVersion: 'v1',
  image: 'sandbox',
  upstreams: [],
  flags: {},
  id,
  capabilities: { analyze: true, edit: false },
  plan: (task) => ({ provider: id, image: SANDBOX_IMAGE, command: ['echo', task.prompt] }),
  parse: (output) => ({ ok: output.exitCode === 0, response: output.stdout.trim() }),
});

describe('runtime router: FF_POOL_SIZE_<PROVIDER>', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-runtime-router-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("passes each provider's pool size to the executor at every call, following the flags file on a running router", async () => {
    const flagsFile = join(dir, 'bastion-flags.yaml');
    const audit = createMemoryAuditLog();
    const flags = createFlagService({ flagsFile, env: { FF_POOL_SIZE_CURSOR: '0' }, audit, debounceMs: 0 });
    const executor = recordingExecutor();
    const pipeline = createPipeline({
      policy: () => allowAll,
      executor,
      sanitizer: passThrough,
      secrets: noSecrets,
      audit,
    });
    const router = createRuntimeRouter({
      runtime: { pipeline, audit },
      flags,
      bindings: [readOnlyBinding(echoProvider('gemini-cli')), readOnlyBinding(echoProvider('cursor'))],
    });
    try {
      const sizes = async () => {
        const before = executor.requests.length;
        expect((await router.route({ prompt: 'hi' }, { provider: 'gemini-cli' })).status).toBe('succeeded');
        expect((await router.route({ prompt: 'hi' }, { provider: 'cursor' })).status).toBe('succeeded');
        return executor.requests.slice(before).map((r) => r.poolSize);
      };
      // Unset: the default (2); set in the environment: that value.
      expect(await sizes()).toEqual([2, 0]);
      // The file overrides the environment, from the next call on.
      await writeFlagsFileAtomic(flagsFile, { FF_POOL_SIZE_GEMINI_CLI: 5, FF_POOL_SIZE_CURSOR: 1 });
      expect(await sizes()).toEqual([5, 1]);
      await writeFlagsFileAtomic(flagsFile, { FF_POOL_SIZE_GEMINI_CLI: 0 });
      expect(await sizes()).toEqual([0, 0]);
    } finally {
      await flags.close();
    }
  });

  it('falls back to the default for a pool size out of range, and says so in the audit log', async () => {
    const audit = createMemoryAuditLog();
    const flags = createFlagService({ env: { FF_POOL_SIZE_GEMINI_CLI: '500' }, audit });
    const other = createFlagService({ env: { FF_POOL_SIZE_MY_AGENT: '3' } });
    try {
      expect(await flags.poolSize('gemini-cli')).toBe(2);
      expect(audit.events).toContainEqual(
        expect.objectContaining({ event: 'flags.unparseable', flag: 'FF_POOL_SIZE_GEMINI_CLI', raw: '500' }),
      );
      // Providers outside the catalogue get a pool-size flag too.
      expect(await other.poolSize('my-agent')).toBe(3);
    } finally {
      await flags.close();
      await other.close();
    }
  });
});

describe('runtime router: FF_DEFAULT_BACKEND', () => {
  it('runs each call on the backend the flag names at that moment, starting a backend on first use', async () => {
    const audit = createMemoryAuditLog();
    const env: NodeJS.ProcessEnv = {};
    const flags = createFlagService({ env, audit });
    const executors = { docker: recordingExecutor(), bwrap: { ...recordingExecutor(), backend: 'bwrap' as const } };
    const started: string[] = [];
    const pipelines = Object.fromEntries(
      (['docker', 'bwrap'] as const).map((b) => [
        b,
        createPipeline({
          policy: () => allowAll,
          executor: executors[b],
          sanitizer: passThrough,
          secrets: noSecrets,
          audit,
        }),
      ]),
    );
    let bwrapBroken = true;
    const router = createRuntimeRouter({
      runtime: { pipeline: pipelines.docker, audit },
      flags,
      bindings: [readOnlyBinding(echoProvider('gemini-cli'))],
      config: { providers: { 'gemini-cli': { retry: { maxAttempts: 0 } } } },
      pipelineFor: async (backend) => {
        started.push(backend);
        if (backend === 'bwrap' && bwrapBroken)
          throw new BastionError('SANDBOX_UNAVAILABLE', 'the bwrap backend is not usable here: no bwrap');
        return pipelines[backend];
      },
    });
    try {
      const call = () => router.route({ prompt: 'hi' }, { provider: 'gemini-cli' });
      expect((await call()).execution?.backend).toBe('docker');
      env.FF_DEFAULT_BACKEND = 'bwrap';
      const failed = await call();
      expect(failed.status).toBe('failed');
      expect(failed.error).toEqual(
        expect.objectContaining({ code: 'SANDBOX_UNAVAILABLE', message: expect.stringContaining('bwrap') }),
      );
      // The failed start is not remembered: once bwrap works, the next call starts it.
      bwrapBroken = false;
      expect((await call()).execution?.backend).toBe('bwrap');
      expect((await call()).execution?.backend).toBe('bwrap');
      env.FF_DEFAULT_BACKEND = 'docker';
      expect((await call()).execution?.backend).toBe('docker');
      expect(started).toEqual(['docker', 'bwrap', 'bwrap']);
      expect(executors.bwrap.requests).toHaveLength(2);
      expect(executors.docker.requests).toHaveLength(2);
    } finally {
      await flags.close();
    }
  });
});

describe('runtime router: the exit gate', () => {
  it('passes results the router builds itself (a backend that failed to start) through the exit gate', async () => {
    const key = 'crsr_' + 'Zq7Lm2Xp9Rt4Wv8Ky3Nb6Hd1Gf5Js0Ac';
    const audit = createMemoryAuditLog();
    const env: NodeJS.ProcessEnv = { FF_DEFAULT_BACKEND: 'bwrap' };
    const flags = createFlagService({ env, audit });
    const secrets = createSecretStore({ env: {}, values: { 'cursor-api-key': key } });
    const pipeline = createPipeline({
      policy: () => allowAll,
      executor: recordingExecutor(),
      sanitizer: (known) => createOutputSanitizer({ knownSecrets: known }),
      secrets,
      audit,
    });
    const router = createRuntimeRouter({
      runtime: { pipeline, audit },
      flags,
      bindings: [readOnlyBinding(echoProvider('gemini-cli'))],
      config: { providers: { 'gemini-cli': { retry: { maxAttempts: 0 } } } },
      pipelineFor: async () => {
        throw new BastionError('SANDBOX_UNAVAILABLE', `the bwrap backend failed with ${key}`);
      },
    });
    try {
      const result = await router.route({ prompt: 'hi' }, { provider: 'gemini-cli' });
      expect(result.status).toBe('failed');
      expect(JSON.stringify(result)).not.toContain(key);
      expect(result.error?.message).toContain('[REDACTED:known-secret]');
      expect(audit.lines.join('')).not.toContain(key);
    } finally {
      await flags.close();
    }
  });
});
