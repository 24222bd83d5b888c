// A runtime stand-in for the output-flood integration test: one `exec` call through the whole
// pipeline (policy → Docker → sanitizer → exit gate) that floods 1 GB on stdout and 1 GB on
// stderr, then one JSON line with the result's shape and this process's RSS before and at peak
// (VmHWM). Its own process, so the peak is the call's and not the test runner's. Bundled at test time.
import { readFileSync } from 'node:fs';
import { DEFAULT_POLICY_INPUT, Policy, createPolicyEngine } from '@bastion/policy';
import { createRuntime } from '../runtime';
import { execCommand } from '../pipeline/exec-call';
import { createWarmPoolExecutor, createBwrapExecutor, SANDBOX_IMAGE } from '@bastion/sandbox';

const FLOOD = 'yes aaaaaaaaaaaaaaa | head -c 1G & yes bbbbbbbbbbbbbbbbb | head -c 1G >&2; wait';

function vm(field: 'VmRSS' | 'VmHWM'): number {
  return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
}

async function main(): Promise<void> {
  const capBytes = Number(process.argv[2]);
  const path = process.argv[3];
  const warm = path === 'warm';
  const policy = Policy.parse({
    ...DEFAULT_POLICY_INPUT,
    resources: {
      ...DEFAULT_POLICY_INPUT.resources,
      max: { ...DEFAULT_POLICY_INPUT.resources.max, outputBytes: capBytes },
    },
  });
  const engine = createPolicyEngine({ policy });
  const pool = warm ? createWarmPoolExecutor({ size: 1 }) : undefined;
  const executor = pool ?? (path === 'bwrap' ? createBwrapExecutor() : undefined);
  const runtime = createRuntime({ policy: () => engine, ...(executor ? { executor } : {}) });
  const spec = {
    provider: 'exec',
    image: SANDBOX_IMAGE,
    command: ['sh', '-c', FLOOD],
    resources: { outputBytes: capBytes },
  };
  if (pool)
    await pool.prewarm(
      spec.image,
      engine.evaluate({ ...spec, env: {}, readOnlyMounts: [], secretEnv: [], network: { mode: 'none' } } as never)
        .limits,
    );
  const baseRss = vm('VmRSS');
  const r = await execCommand(runtime.pipeline, spec);
  const peakRss = vm('VmHWM');
  const prefix = (s: string, c: string) =>
    s.length > 0 &&
    s
      .split('\n')
      .slice(0, -1)
      .every((l) => l === c.repeat(l.length) && l.length === (c === 'a' ? 15 : 17));
  process.stdout.write(
    JSON.stringify({
      baseRss,
      peakRss,
      error: r.error,
      execution: r.execution,
      stdoutLength: r.stdout.length,
      stderrLength: r.stderr.length,
      stdoutIsTheCommands: prefix(r.stdout, 'a'),
      stderrIsTheCommands: prefix(r.stderr, 'b'),
      sandboxWarm: pool ? pool.stats().warmHits === 1 : false,
    }) + '\n',
  );
  await runtime.close();
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
