import { randomBytes, randomUUID } from 'node:crypto';
import { createBwrapExecutor, type BwrapExecutor } from '@bastion/sandbox';
import { createMemoryAuditLog, createRuntime, execCommand, type Runtime } from '@bastion/agent-runtime';
import { Policy, createPolicyEngine, DEFAULT_POLICY_INPUT } from '@bastion/policy';
import { createSecretStore } from '@bastion/security';
import {
  ESCAPE_ATTEMPTS,
  runExecEscapeAttempt,
  CORPUS_ALLOWED_DOMAIN,
  type EscapeExecRunner,
  type EscapeOutcome,
  type ExecEscapeAttempt,
} from '../escape-corpus';
import { startFakeGeminiApi, type StartedFakeGeminiApi } from '../fake-gemini-api/fake-gemini-api';
import { secretLeaks } from '../failure-simulator/failure-simulator';
import { createRoutedEgress } from '../failure-simulator/routed-egress';
import { bwrapProblem, bwrapProcesses, leftoverCgroups, leftoverTmpfs } from '../suite/bwrap-suite';
import { describeWhenReady, SANDBOX_IMAGES } from '../suite/docker-suite';

const IMAGE = SANDBOX_IMAGES.sandbox;
const EXEC_ATTEMPTS = ESCAPE_ATTEMPTS.filter((a): a is ExecEscapeAttempt => a.via === 'exec');

/**
 * The escape corpus's in-sandbox attempts again, on the daemonless backend: bubblewrap over the
 * same image's root filesystem, our seccomp filter, per-call cgroups, the same per-call gateway.
 * Every attempt must fail with the evidence of the layer that stops it there (bwrap's own where
 * it differs from Docker's, as `attempt.bwrap`), leak nothing and leave no cgroup or process.
 * The cursor-apply attempts are judged on the host by the apply path, whatever the backend.
 */
describeWhenReady(
  'failure suite: the escape corpus on the bwrap backend (each attempt stopped)',
  bwrapProblem([IMAGE]),
  () => {
    const secretMap = { 'gemini-api-key': `AIzaSy${randomBytes(12).toString('hex')}`.padEnd(39, 'Q').slice(0, 39) };
    const hostCanary = `host-canary-${randomUUID()}`;
    const audit = createMemoryAuditLog();
    const outcomes: EscapeOutcome[] = [];
    let api: StartedFakeGeminiApi;
    let executor: BwrapExecutor;
    let runtime: Runtime;
    let runner: EscapeExecRunner;

    beforeAll(async () => {
      process.env.BASTION_HOST_CANARY = hostCanary;
      api = await startFakeGeminiApi({ expectedApiKey: secretMap['gemini-api-key'] });
      const secrets = createSecretStore({ env: {}, values: secretMap });
      executor = createBwrapExecutor({
        onCleanupError: (error, id) =>
          audit.record({ event: 'executor.cleanup_failed', correlationId: '-', sandboxId: id, error: error.toInfo() }),
      });
      const policy = Policy.parse({
        ...DEFAULT_POLICY_INPUT,
        network: { mode: 'gateway', allow: [CORPUS_ALLOWED_DOMAIN], deny: [] },
      });
      const engine = createPolicyEngine({ policy });
      runtime = createRuntime({
        policy: () => engine,
        executor,
        audit,
        secrets,
        egress: createRoutedEgress({ secrets, audit, defaultUpstream: api.url }),
      });
      runner = {
        exec: (command, extra = {}, call = {}) =>
          execCommand(runtime.pipeline, { provider: 'exec', image: IMAGE, ...extra, command: [...command] }, call),
        leaks: (...values) => secretLeaks(secretMap, audit.lines, values),
      };
    });

    afterAll(async () => {
      delete process.env.BASTION_HOST_CANARY;
      await runtime?.close();
      await api?.close();
      if (outcomes.length > 0) {
        const rows = outcomes.map(
          (o) =>
            `${o.id.padEnd(28)} ${o.layer.padEnd(20)} ${o.ended.padEnd(14)} ${o.problems.length ? 'NOT STOPPED' : 'stopped'}  ${o.evidence}`,
        );
        console.log(
          `escape corpus on bwrap: ${outcomes.length} attempts\n${'attempt'.padEnd(28)} ${'layer'.padEnd(20)} ${'call ended'.padEnd(14)} verdict  evidence\n${rows.join('\n')}`,
        );
      }
      expect(leftoverCgroups(executor)).toEqual([]);
      expect(leftoverTmpfs(executor)).toEqual([]);
      expect(bwrapProcesses()).toEqual([]);
    });

    it.each(EXEC_ATTEMPTS.map((a) => [a.id, a.goal, (a.bwrap ?? a).layer, a]))(
      '%s: %s — stopped by %s',
      async (_id, _goal, _layer, attempt) => {
        const outcome = await runExecEscapeAttempt(runner, attempt, hostCanary, 'bwrap');
        outcomes.push(outcome);
        expect(outcome.problems).toEqual([]);
      },
    );

    it('records every gateway refusal as a violation in the audit log, and a normal call still succeeds', async () => {
      const violations = audit.events.filter((e) => e.event === 'gateway.violation');
      expect(violations.map((v) => v.host)).toEqual(expect.arrayContaining(['exfil.evil.test', '169.254.169.254']));
      const health = await runner.exec(['sh', '-c', 'echo healthy']);
      expect({ status: health.status, stdout: health.stdout, backend: health.execution?.backend }).toEqual({
        status: 'succeeded',
        stdout: 'healthy\n',
        backend: 'bwrap',
      });
    });
  },
);
