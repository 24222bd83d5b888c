import { randomBytes, randomUUID } from 'node:crypto';
import { createBwrapExecutor, type BwrapExecutor } from '@bastion/sandbox';
import { createMemoryAuditLog, createRuntime, execCommand, type Runtime } from '@bastion/agent-runtime';
import { createPolicyEngine } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import { outcomeProblems } from '../failure-simulator/outcome-check';
import {
  SANDBOX_FAULTS,
  SANDBOX_FAULT_KINDS,
  sandboxFaultSpec,
  type SandboxFaultKind,
} from '../failure-simulator/sandbox-faults';
import { bwrapProblem, bwrapProcesses, leftoverCgroups, leftoverTmpfs } from '../suite/bwrap-suite';
import { describeWhenReady, SANDBOX_IMAGES } from '../suite/docker-suite';

const IMAGE = SANDBOX_IMAGES.sandbox;

/**
 * The sandbox fault catalogue again, on the daemonless backend: bubblewrap over the same image's
 * root filesystem, per-call cgroups, our seccomp filter. Every fault must end typed exactly as on
 * Docker, leak no secret, leave no cgroup or process behind, and the next call must succeed.
 */
describeWhenReady(
  'failure suite: faults inside the bwrap sandbox (real bubblewrap, cgroups, seccomp)',
  bwrapProblem([IMAGE]),
  () => {
    const secretValue = `AIzaSy${randomBytes(12).toString('hex')}`.padEnd(39, 'Q').slice(0, 39);
    const audit = createMemoryAuditLog();
    let executor: BwrapExecutor;
    let runtime: Runtime;

    beforeAll(() => {
      executor = createBwrapExecutor({
        onCleanupError: (error, id) =>
          audit.record({ event: 'executor.cleanup_failed', correlationId: '-', sandboxId: id, error: error.toInfo() }),
      });
      const engine = createPolicyEngine();
      runtime = createRuntime({
        policy: () => engine,
        executor,
        audit,
        secrets: createSecretStore({ env: {}, values: { 'gemini-api-key': secretValue } }),
      });
    });

    afterAll(async () => {
      await runtime?.close();
      expect(leftoverCgroups(executor)).toEqual([]);
      expect(leftoverTmpfs(executor)).toEqual([]);
    });

    const run = (kind: SandboxFaultKind) =>
      execCommand(runtime.pipeline, sandboxFaultSpec(SANDBOX_FAULTS[kind], IMAGE), { correlationId: randomUUID() });

    it.each(
      SANDBOX_FAULT_KINDS.map((k) => [k, SANDBOX_FAULTS[k].description, SANDBOX_FAULTS[k].expect.code ?? 'success']),
    )('%s (%s) ends as %s, leaks nothing, and a normal call succeeds right after', async (kind) => {
      const result = await run(kind as SandboxFaultKind);
      expect({
        fault: kind,
        problems: outcomeProblems(result, SANDBOX_FAULTS[kind as SandboxFaultKind].expect),
      }).toEqual({ fault: kind, problems: [] });
      expect(result.execution?.backend).toBe('bwrap');
      const haystack = JSON.stringify(result) + audit.lines.join('');
      expect(haystack.includes(secretValue)).toBe(false);
      const health = await execCommand(runtime.pipeline, {
        provider: 'exec',
        image: IMAGE,
        command: ['sh', '-c', 'echo healthy'],
      });
      expect({ after: kind, status: health.status, stdout: health.stdout }).toEqual({
        after: kind,
        status: 'succeeded',
        stdout: 'healthy\n',
      });
      expect(leftoverCgroups(executor)).toEqual([]);
      expect(bwrapProcesses()).toEqual([]);
    });

    it('reports the fault-specific facts as Docker does: OOM flag, deadline, signal, output cap, ENOSPC, U+FFFD for invalid UTF-8', async () => {
      const [oom, hang, crash, flood, full, utf8, secret] = await Promise.all(
        (['oom', 'hang', 'crash', 'output-flood', 'tmpfs-full', 'invalid-utf8', 'secret-echo'] as const).map((k) =>
          run(k),
        ),
      );
      expect(oom.execution?.oomKilled).toBe(true);
      expect(hang.execution).toMatchObject({ timedOut: true });
      expect(crash.execution).toMatchObject({ exitCode: 139 });
      expect(flood.execution).toMatchObject({ outputLimited: true });
      expect(flood.stdout.length).toBeLessThanOrEqual(64 * 1024);
      expect(full.stderr).toContain('No space left on device');
      expect(utf8.stdout).toBe('a\uFFFD\uFFFDb\uFFFD(c\uFFFD\n');
      expect(secret.stdout).toContain('key=[REDACTED');
      expect(JSON.stringify(secret).includes(secretValue)).toBe(false);
      expect(leftoverCgroups(executor)).toEqual([]);
    });
  },
);
