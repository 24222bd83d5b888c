import type Dockerode from 'dockerode';
import { BastionError, type Clock } from '@bastion/core';
import type { Executor, ExecutorHooks, ExecutorOutcome, ExecutorRequest } from '../executor';
import { containerLabels, newSessionIdentity, type SessionIdentity } from '../labels';
import { containerCreateOptions } from './container-config';
import { dockerClient } from './engine';
import { dockerError } from './docker-errors';
import { createOutputMeter } from '../output-meter';
import { createContainerEvents } from './container-events';
import { createAttachDemux } from './attach-demux';
import { CallDeadline } from '../call-deadline';

export interface DockerExecutorOptions {
  docker?: Dockerode;
  identity?: SessionIdentity;
  /** Grace period after a call's deadline before any reaper may remove its container. */
  expiryGraceMs?: number;
  now?: Clock;
  /** Told about a container that could not be removed now; it stays tracked for close() and the reaper. */
  onCleanupError?: (error: BastionError, containerId: string) => void;
}

/** How long to wait for the last output frames after the container exited. */
const DRAIN_MS = 2_000;

/**
 * Cold-path Docker backend: one hardened container per call, created, attached, started, waited
 * for, inspected and removed. Containers are tracked from creation so `close()` (and the process
 * exit hooks of the CLI) can remove them; the reaper covers a SIGKILLed runtime.
 */
export function createDockerExecutor(
  options: DockerExecutorOptions = {},
): Executor & { readonly identity: SessionIdentity; readonly docker: Dockerode } {
  const docker = options.docker ?? dockerClient();
  const identity = options.identity ?? newSessionIdentity();
  const grace = options.expiryGraceMs ?? 60_000;
  const now = options.now ?? Date.now;
  const live = new Set<string>();
  /** Creations in flight: close() waits for them, so a container created as the runtime shuts down is removed too. */
  const creating = new Set<Promise<unknown>>();
  const events = createContainerEvents(docker, identity.sessionId);
  let closed = false;

  async function remove(id: string): Promise<void> {
    try {
      await docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      // 404: already gone; 409: removal already in progress. Both end in "no container".
      if (status !== 404 && status !== 409) throw dockerError(err, 'remove a container');
    }
    live.delete(id);
  }

  async function run(request: ExecutorRequest, hooks: ExecutorHooks): Promise<ExecutorOutcome> {
    if (closed) throw new BastionError('SANDBOX_UNAVAILABLE', 'executor is closed');
    const started = now();
    const deadline = started + request.limits.timeoutMs;
    const labels = containerLabels(identity, request.correlationId, deadline + grace);

    let container: Dockerode.Container;
    // The engine's events matter once the container runs (they tell the OOM killer from an
    // outside kill), not for creating it: the subscription and the create go out together.
    const watching = events.ready();
    watching.catch(() => undefined); // awaited before start; a create that fails first reports its own error
    try {
      // Registered as live in the same step as it is created, so close() cannot miss it.
      const creation = docker.createContainer(containerCreateOptions(request, labels)).then((c) => {
        live.add(c.id);
        return c;
      });
      creating.add(creation);
      try {
        container = await creation;
      } finally {
        creating.delete(creation);
      }
    } catch (err) {
      throw dockerError(err, 'create the sandbox container', request.image);
    }
    if (closed) {
      // close() began while the engine was creating it: it never starts.
      await remove(container.id).catch((err: BastionError) => options.onCleanupError?.(err, container.id));
      throw new BastionError('SANDBOX_UNAVAILABLE', 'executor is closed');
    }

    let killing: Promise<void> | undefined;
    const kill = () => {
      events.killedByUs(container.id);
      killing ??= container.kill({ signal: 'SIGKILL' }).then(
        () => undefined,
        (err: { statusCode?: number }) => {
          // 404/409: it already exited, which is what we wanted.
          if (err.statusCode !== 404 && err.statusCode !== 409) throw dockerError(err, 'kill the sandbox container');
        },
      );
      return killing;
    };
    const killReported = () => {
      kill().catch((err: BastionError) => options.onCleanupError?.(err, container.id));
    };
    const meter = createOutputMeter(request.limits.outputBytes, killReported);
    const callDeadline = new CallDeadline(killReported);
    try {
      const hasStdin = request.stdin !== undefined;
      const stream = (await container.attach({
        stream: true,
        stdout: true,
        stderr: true,
        stdin: hasStdin,
        hijack: hasStdin,
      })) as NodeJS.ReadWriteStream;
      const ended = new Promise<void>((resolve) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', () => resolve());
      });
      // Each byte goes through the meter as it arrives; past the cap it is dropped, not held.
      stream.on(
        'data',
        createAttachDemux((name, chunk) =>
          meter.push(name, chunk, name === 'stdout' ? hooks.onStdout : hooks.onStderr),
        ),
      );

      await watching;
      await container.start();
      const startupMs = now() - started;
      hooks.onStarted?.({ sandboxId: container.id, startupMs });

      if (hasStdin) {
        stream.write(request.stdin as string | Uint8Array);
        stream.end();
      }

      callDeadline.arm(deadline - now(), hooks.signal);

      const waited = (await container.wait()) as { StatusCode: number };
      callDeadline.exited();
      await Promise.race([ended, new Promise((r) => setTimeout(r, DRAIN_MS).unref())]);
      if (killing) await killing;

      const info = await container.inspect();
      const durationMs = now() - started;
      const exitCode = info.State.ExitCode ?? waited.StatusCode;
      let oomKilled = Boolean(info.State.OOMKilled);
      let stoppedExternally: string | null = null;
      if (!oomKilled && exitCode > 128 && !callDeadline.timedOut && !callDeadline.aborted && meter.limited === null) {
        // Died of a signal we did not send: the engine's events say whether it was the OOM killer
        // (cgroup v1 Docker sometimes leaves State.OOMKilled unset) or someone outside.
        const verdict = await events.verdict(container.id, 500);
        oomKilled = verdict.oom;
        stoppedExternally = verdict.oom ? null : verdict.externalSignal;
      }
      return {
        exitCode,
        signal: exitCode > 128 && exitCode < 160 ? signalName(exitCode - 128) : null,
        oomKilled,
        stoppedExternally,
        timedOut: callDeadline.timedOut,
        outputLimited: meter.limited,
        aborted: callDeadline.aborted,
        durationMs,
        startupMs,
        sandboxId: container.id,
      };
    } catch (err) {
      throw dockerError(err, 'run the sandbox container', request.image);
    } finally {
      callDeadline.disarm();
      await remove(container.id).catch((err: BastionError) => options.onCleanupError?.(err, container.id));
      events.forget(container.id);
    }
  }

  return {
    backend: 'docker',
    identity,
    docker,
    run,
    async close() {
      closed = true;
      events.close();
      await Promise.allSettled([...creating]);
      await Promise.all(
        [...live].map((id) => remove(id).catch((err: BastionError) => options.onCleanupError?.(err, id))),
      );
    },
  };
}

const SIGNALS: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  6: 'SIGABRT',
  9: 'SIGKILL',
  11: 'SIGSEGV',
  13: 'SIGPIPE',
  15: 'SIGTERM',
};
function signalName(n: number): string {
  return SIGNALS[n] ?? `SIG${n}`;
}
