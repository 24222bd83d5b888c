import { BastionError, type Clock } from '@bastion/core';
import { CallDeadline } from '../call-deadline';
import type { ExecutorHooks, ExecutorOutcome, ExecutorRequest } from '../executor';
import { createOutputMeter } from '../output-meter';
import type { CallLauncher } from './bwrap-process';
import type { CallCgroup } from './cgroups';
import { exitStatus, startFailure } from './exit-status';
import { StartupGate } from './startup-gate';

/** How long to wait for the last output after bwrap exited. */
const DRAIN_MS = 2_000;

export interface BwrapCall {
  readonly sandboxId: string;
  readonly request: ExecutorRequest;
  readonly hooks: ExecutorHooks;
  /** The call's cgroup, already made: its kill ends the whole tree, its counter tells an OOM kill. */
  readonly group: CallCgroup;
  /** The call's launcher: parked in the group's cgroups already, or spawned by start() with the script. */
  readonly launcher: CallLauncher;
  /** The launcher's start script (launcherStartScript): limits, then exec bwrap with the call's argv. */
  readonly script: string;
  readonly seccomp: Buffer;
  readonly started: number;
  readonly deadline: number;
  readonly now: Clock;
  readonly onCleanupError: (err: unknown) => void;
}

/**
 * One call from its start script to outcome: bwrap starts in the call's cgroup, output flows through the
 * meter (stderr held until the sandbox started), and the deadline, an abort or the output cap
 * kills the whole cgroup. The caller owns the cgroup and mounts and removes them afterwards.
 */
export async function runBwrapCall(call: BwrapCall): Promise<ExecutorOutcome> {
  const { request, hooks, group, now, started, sandboxId } = call;
  let killing: Promise<void> | undefined;
  const kill = () => {
    killing ??= group.killAll().catch(call.onCleanupError);
    return killing;
  };
  const meter = createOutputMeter(request.limits.outputBytes, () => void kill());
  const deadline = new CallDeadline(() => void kill());
  let startupMs: number | null = null;
  const gate = new StartupGate(
    () => {
      startupMs = now() - started;
      hooks.onStarted?.({ sandboxId, startupMs });
    },
    (c) => meter.push('stderr', c, hooks.onStderr),
  );

  try {
    const child = call.launcher.start({
      script: call.script,
      seccomp: call.seccomp,
      ...(request.stdin !== undefined ? { stdin: request.stdin } : {}),
      onStatus: (c) => gate.status(c),
      onStdout: (c) => meter.push('stdout', c, hooks.onStdout),
      onStderr: (c) => gate.stderr(c),
      onStdinError: call.onCleanupError,
    });
    deadline.arm(call.deadline - now(), hooks.signal);

    const exit = await child.exited;
    deadline.exited();
    await Promise.race([child.drained, new Promise((r) => setTimeout(r, DRAIN_MS).unref())]);
    if (killing) await killing;
    const { timedOut, aborted } = deadline;

    if (!gate.started) {
      if (!timedOut && !aborted) throw startFailure(exit, gate.earlyReason());
      startupMs = now() - started;
    }
    return {
      ...exitStatus(exit),
      oomKilled: group.oomKills() > 0,
      timedOut,
      outputLimited: meter.limited,
      aborted,
      durationMs: now() - started,
      startupMs: startupMs ?? now() - started,
      sandboxId,
    };
  } catch (err) {
    if (BastionError.isInstance(err)) throw err;
    throw new BastionError('SANDBOX_UNAVAILABLE', `could not run bwrap: ${(err as Error).message}`, { cause: err });
  } finally {
    deadline.disarm();
  }
}
