import { ExecutionSpec, createPolicyEngine, Policy, DEFAULT_POLICY_INPUT } from '../src';
import { percentile, type CaseResult } from '@bastion/core/test-support';

export type { CaseResult };

const BATCH = 1000;
const SAMPLES = 200;

/**
 * Policy evaluation for a realistic call (gateway with domains, resources above max, a model).
 * Each sample times BATCH evaluations and divides, so timer resolution does not dominate.
 */
export async function runPolicyBench(): Promise<{ baseline: 'evaluate'; cases: { evaluate: CaseResult } }> {
  const policy = Policy.parse({
    ...DEFAULT_POLICY_INPUT,
    network: {
      mode: 'gateway',
      allow: ['generativelanguage.googleapis.com', '*.npmjs.org', '*.github.com'],
      deny: ['evil.npmjs.org'],
      rateLimits: [{ domain: '*.npmjs.org', requestsPerMinute: 60 }],
    },
    providers: [{ name: 'gemini-cli', models: ['gemini-2.5-pro', 'gemini-2.5-flash'] }, { name: 'exec' }],
  });
  const engine = createPolicyEngine({ policy });
  const spec = ExecutionSpec.parse({
    provider: 'gemini-cli',
    model: 'gemini-2.5-flash',
    image: 'bastion/gemini-cli:latest',
    command: ['gemini', '-p', 'hello'],
    workspace: { hostPath: '/work/repo', access: 'read-only' },
    resources: { memoryBytes: 4 * 1024 ** 3, cpus: 1 },
    network: { mode: 'gateway', api: 'gemini', domains: ['registry.npmjs.org'] },
  });

  let sink = 0;
  for (let i = 0; i < 20 * BATCH; i++) sink += engine.evaluate(spec).reasons.length;
  const perCall: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) sink += engine.evaluate(spec).reasons.length;
    perCall.push(Number(process.hrtime.bigint() - start) / 1e6 / BATCH);
  }
  if (sink < 0) throw new Error('unreachable');
  perCall.sort((a, b) => a - b);
  const evaluate: CaseResult = {
    n: SAMPLES * BATCH,
    p50Ms: percentile(perCall, 0.5),
    p95Ms: percentile(perCall, 0.95),
    ratio: 1,
  };
  return { baseline: 'evaluate', cases: { evaluate } };
}

if (require.main === module) {
  void runPolicyBench().then((r) => console.log(JSON.stringify(r)));
}
