// One runtime of the reaper soak: reaps expired leftovers, starts the reaper, then runs `true`
// calls back to back, announcing each on stdout, until told how many or SIGKILLed mid-call.
import Dockerode from 'dockerode';
import type { Executor } from '../src/executor';
import { createDockerExecutor } from '../src/docker/docker-executor';
import { newSessionIdentity } from '../src/labels';
import { reapExpired, startReaper } from '../src/reaper/reaper';
import { SANDBOX_IMAGE } from '../src/images';
import { EXEC_DEFAULT_LIMITS } from '../src/test-support/engine-floor';

// The plain exec defaults the other benches use; the soak measures reaping, not the limits.
const LIMITS = EXEC_DEFAULT_LIMITS;

async function main(): Promise<void> {
  const calls = Number(process.argv[2]);
  const mode = process.argv[3] ?? 'cold';
  const docker = new Dockerode();
  const identity = newSessionIdentity();
  await reapExpired({ docker });
  const reaper = await startReaper({ docker, sessionId: identity.sessionId });
  let executor: Executor;
  if (mode === 'warm') {
    const { createWarmPoolExecutor } = await import('../src/docker/warm-pool');
    const pool = createWarmPoolExecutor({ docker, identity, size: 2 });
    await pool.prewarm(SANDBOX_IMAGE, LIMITS);
    executor = pool;
  } else {
    executor = createDockerExecutor({ docker, identity });
  }
  process.stdout.write(`session ${identity.sessionId}\n`);
  for (let i = 0; i < calls; i++) {
    process.stdout.write(`start ${i}\n`);
    const outcome = await executor.run(
      {
        correlationId: `soak-${i}`,
        image: SANDBOX_IMAGE,
        command: ['sh', '-c', 'sleep 0.05'],
        env: {},
        limits: LIMITS,
        mounts: [],
      },
      { onStdout: () => undefined, onStderr: () => undefined },
    );
    if (outcome.exitCode !== 0) throw new Error(`call ${i} exited with ${outcome.exitCode}`);
    process.stdout.write(`done ${i}\n`);
  }
  await executor.close();
  await reaper.close();
  process.stdout.write('finished\n');
}

main().catch((err) => {
  process.stderr.write(`[soak-worker] ${err?.stack ?? err}\n`);
  process.exit(1);
});
