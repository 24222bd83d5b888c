import type { PolicyEngine } from '@bastion/policy';
import { createOutputSanitizer, createSecretStore } from '@bastion/security';
import { createMemoryAuditLog } from '../audit/audit-log';
import type { Executor } from '@bastion/sandbox';
import { allowAll } from '../test-support/pipeline-stand-ins';
import { execCommand } from './exec-call';
import { createPipeline } from './pipeline';
import { SANDBOX_IMAGE } from '@bastion/sandbox';

const KEY = 'crsr_' + 'Zq7Lm2Xp9Rt4Wv8Ky3Nb6Hd1Gf5Js0Ac';

function pipelineWith(policy: PolicyEngine, stdout = '') {
  const executor: Executor = {
    backend: 'docker',
    async run(_request, hooks) {
      // Two writes, the key torn across them: the stream must hold it back and catch it whole.
      hooks.onStdout(new TextEncoder().encode(stdout.slice(0, stdout.length / 2)));
      hooks.onStdout(new TextEncoder().encode(stdout.slice(stdout.length / 2)));
      return {
        exitCode: 0,
        signal: null,
        oomKilled: false,
        timedOut: false,
        outputLimited: null,
        aborted: false,
        durationMs: 1,
        startupMs: 0,
        sandboxId: 'sb',
      };
    },
    close: async () => undefined,
  };
  return createPipeline({
    policy: () => policy,
    executor,
    sanitizer: (knownSecrets, customRules) => createOutputSanitizer({ knownSecrets, customRules }),
    secrets: createSecretStore({ env: {}, values: { 'cursor-api-key': KEY } }),
    audit: createMemoryAuditLog(),
  });
}

describe('execCommand: the exec result leaves through the exit gate', () => {
  it('redacts the key in a denial that quotes the command, in the reasons and the error message', async () => {
    const quoting = {
      evaluate: (spec: { command: string[] }) => ({
        allow: false,
        reasons: [{ rule: 'exec.command', effect: 'deny', message: `command not allowed: ${spec.command.join(' ')}` }],
        limits: (allowAll.evaluate as unknown as () => { limits: unknown })().limits,
        obligations: { network: { mode: 'none' } },
      }),
    } as unknown as PolicyEngine;
    const result = await execCommand(pipelineWith(quoting), {
      provider: 'exec',
      image: SANDBOX_IMAGE,
      command: ['curl', '-H', `x-key: ${KEY}`, 'https://example.com'],
    });
    expect(result.status).toBe('denied');
    expect(JSON.stringify(result)).not.toContain(KEY);
    expect(result.policy.reasons[0]!.message).toBe(
      'command not allowed: curl -H x-key: [REDACTED:known-secret] https://example.com',
    );
    expect(result.error?.message).toContain('[REDACTED:known-secret]');
    expect(result.redactions).toEqual([{ ruleId: 'known-secret', severity: 'critical', count: 2 }]);
  });

  it("keeps the stream's counts and adds nothing for output it already cleaned", async () => {
    const result = await execCommand(
      pipelineWith(allowAll, `token ${KEY} and ${Buffer.from(KEY).toString('base64')}\n`),
      { provider: 'exec', image: SANDBOX_IMAGE, command: ['env'] },
    );
    expect(result.stdout).toBe('token [REDACTED:known-secret] and [REDACTED:known-secret]\n');
    expect(result.redactions).toEqual([{ ruleId: 'known-secret', severity: 'critical', count: 2 }]);
  });
});
