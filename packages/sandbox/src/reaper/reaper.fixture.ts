// A runtime stand-in for the reaper's integration test and soak: it starts the reaper, makes
// sandboxes, prints one JSON line and waits to be SIGKILLed (mode tmpfs: the mount helper's
// process lifetime instead). Bundled with esbuild at test time.
import { readFileSync } from 'node:fs';
import Dockerode from 'dockerode';
import { containerLabels, newSessionIdentity } from '../labels';
import { createBwrapExecutor } from '../bwrap/bwrap-executor';
import { createTmpfsMounter } from '../bwrap/call-tmpfs';
import { startReaper } from './reaper';
import { openRuntimeDir } from '../runtime-dir/runtime-dir';
import { SANDBOX_IMAGE } from '../images';

const LIMITS = {
  memoryBytes: 64 * 1024 ** 2,
  cpus: 0.5,
  pids: 16,
  nofile: 256,
  tmpfsBytes: 1 << 20,
  timeoutMs: 600_000,
  outputBytes: 1 << 16,
};

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode === 'tmpfs') {
    // Nothing else keeps this process alive: a pending request to the mount helper must, and the
    // idle helper must not (the process then exits by itself).
    const dir = process.argv[3];
    const mounted = () => readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${dir} `);
    const mounter = createTmpfsMounter();
    await mounter.mount(dir, 1 << 20);
    const wasMounted = mounted();
    await mounter.unmount(dir);
    process.stdout.write(JSON.stringify({ mounted: wasMounted, unmounted: !mounted() }) + '\n');
    return;
  }
  const identity = newSessionIdentity();
  if (mode === 'parked-exit') {
    // A runtime that parks a launcher and then simply ends: the launcher must not keep it alive.
    const executor = createBwrapExecutor({ identity });
    executor.prestart();
    process.stdout.write(JSON.stringify({ sessionId: identity.sessionId, cgroups: executor.cgroups }) + '\n');
    return;
  }
  setInterval(() => undefined, 60_000);
  if (mode === 'docker') {
    const docker = new Dockerode();
    // `docker N background`: the one-shot CLI's start (no wait for the watchdog's "ready");
    // `docker N wait node`: the node watchdog, as where there is no perl.
    await startReaper({
      docker,
      sessionId: identity.sessionId,
      readyInBackground: process.argv[4] === 'background',
      ...(process.argv[5] === 'node' ? { perl: null } : {}),
    });
    const ids: string[] = [];
    for (let i = 0; i < Number(process.argv[3] ?? 3); i++) {
      const c = await docker.createContainer({
        Image: SANDBOX_IMAGE,
        Cmd: ['sleep', '600'],
        Labels: containerLabels(identity, `fixture-${i}`, Date.now() + 600_000),
        HostConfig: { NetworkMode: 'none', AutoRemove: false },
      });
      await c.start();
      ids.push(c.id);
    }
    process.stdout.write(JSON.stringify({ sessionId: identity.sessionId, ids }) + '\n');
  } else if (mode === 'bwrap') {
    const executor = createBwrapExecutor({ identity });
    // `bwrap node`: the node watchdog, as where there is no perl.
    await startReaper({
      sessionId: identity.sessionId,
      cgroups: executor.cgroups,
      tmpfsRoot: executor.tmpfsRoot,
      ...(process.argv[3] === 'node' ? { perl: null } : {}),
    });
    void executor.run(
      {
        correlationId: 'fixture',
        image: SANDBOX_IMAGE,
        command: ['sh', '-c', 'sleep 600 & sleep 600'],
        env: {},
        limits: LIMITS,
        mounts: [],
      },
      {
        onStdout: () => undefined,
        onStderr: () => undefined,
        onStarted: ({ sandboxId }) =>
          process.stdout.write(
            JSON.stringify({
              sessionId: identity.sessionId,
              sandboxId,
              cgroups: executor.cgroups,
              tmpfsRoot: executor.tmpfsRoot,
            }) + '\n',
          ),
      },
    );
  } else if (mode === 'bwrap-parked') {
    // SIGKILLed with a launcher parked for a call that never came.
    const executor = createBwrapExecutor({ identity });
    await startReaper({ sessionId: identity.sessionId, cgroups: executor.cgroups, tmpfsRoot: executor.tmpfsRoot });
    executor.prestart();
    process.stdout.write(JSON.stringify({ sessionId: identity.sessionId, cgroups: executor.cgroups }) + '\n');
  } else if (mode === 'runtime-dir' || mode === 'runtime-dir-no-reaper') {
    // Per-call directories (host sockets) in a private runtime directory, then SIGKILL.
    const root = process.argv[3];
    if (mode === 'runtime-dir') await startReaper({ sessionId: identity.sessionId, runtimeRoot: root });
    const dir = await openRuntimeDir({ root });
    const dirs = [(await dir.createCallDir('gw')).path, (await dir.createCallDir('ctl')).path];
    process.stdout.write(JSON.stringify({ dirs }) + '\n');
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

main().catch((err) => {
  process.stderr.write(String(err?.stack ?? err) + '\n');
  process.exit(1);
});
