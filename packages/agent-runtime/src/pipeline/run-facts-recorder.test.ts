import type { Decision, ExecutionSpec } from '@bastion/policy';
import { createExitGate } from './exit-gate';
import { RunFactsRecorder } from './run-facts-recorder';
import type { SandboxRun } from './sandbox-run';
import { passThrough } from '../test-support/pipeline-stand-ins';

const times = ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:05.000Z'];
function recorder(): RunFactsRecorder {
  let i = 0;
  return new RunFactsRecorder('sha256:abc', () => new Date(times[i++]!));
}

function run(over: Partial<SandboxRun>): SandboxRun {
  return {
    correlationId: 'c1',
    spec: { provider: 'gemini-cli', image: 'bastion/gemini-cli:latest', secretEnv: [] } as unknown as ExecutionSpec,
    decision: null,
    outcome: null,
    stdout: '',
    stderr: '',
    redactions: [],
    usage: { requests: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 },
    error: null,
    gate: createExitGate(passThrough()),
    release: async () => undefined,
    ...over,
  };
}

const gatewayDecision = {
  allow: true,
  limits: { timeoutMs: 1 },
  reasons: [{ rule: 'network.gateway', effect: 'allow', message: 'ok' }],
  obligations: { network: { mode: 'gateway', api: 'gemini', allow: ['*.npmjs.org'], deny: [] } },
} as unknown as Decision;

describe('RunFactsRecorder', () => {
  it('counts admitted and denied egress per host, sorted, with every violation kept', () => {
    const r = recorder();
    r.onAdmitted('registry.npmjs.org');
    r.onAdmitted('registry.npmjs.org');
    r.onViolation({ kind: 'connect', host: 'evil.example', reason: 'not in allowlist' });
    r.onViolation({ kind: 'connect', host: 'registry.npmjs.org', reason: 'rate limit' });
    const facts = r.facts(run({}), 'docker', undefined);
    expect(facts.egress).toEqual([
      { host: 'evil.example', allowed: 0, denied: 1 },
      { host: 'registry.npmjs.org', allowed: 2, denied: 1 },
    ]);
    expect(facts.violations).toHaveLength(2);
  });

  it('records the start and end times, the policy digest and that nothing was granted without a decision', () => {
    const facts = recorder().facts(run({}), 'bwrap', undefined);
    expect(facts).toMatchObject({
      startedAt: times[0],
      finishedAt: times[1],
      policyDigest: 'sha256:abc',
      provider: 'gemini-cli',
      image: 'bastion/gemini-cli:latest',
      backend: 'bwrap',
      decision: null,
      network: { mode: 'none' },
      workspace: null,
    });
  });

  it("counts the gateway's model requests under api:<upstream>, since they bypass CONNECT", () => {
    const usage = { requests: 3, inputTokens: 10, outputTokens: 20, costUsd: 0 };
    const facts = recorder().facts(run({ decision: gatewayDecision, usage }), 'docker', undefined);
    expect(facts.egress).toEqual([{ host: 'api:gemini', allowed: 3, denied: 0 }]);
    expect(facts.network).toEqual({ mode: 'gateway', api: 'gemini', allow: ['*.npmjs.org'], deny: [] });
    expect(facts.decision?.rules).toEqual(['allow:network.gateway']);
    expect(facts.usage).toBe(usage);
  });
});
