import { constants as osConstants } from 'node:os';
import { BastionError } from '@bastion/core';
import { LAUNCH_FAILED } from './bwrap-args';

export interface LauncherExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The launcher's exit as the shell would report it: a signal death is 128 + its number, as on the Docker path. */
export function exitStatus(exit: LauncherExit): { exitCode: number; signal: string | null } {
  const exitCode = exit.code ?? 128 + (exit.signal ? (osConstants.signals[exit.signal] ?? 0) : 0);
  return { exitCode, signal: exitCode > 128 && exitCode < 160 ? signalName(exitCode - 128) : null };
}

/** Why the sandbox never started, from the launcher's exit and bwrap's first line on stderr. */
export function startFailure(exit: LauncherExit, reason: string): BastionError {
  const detail =
    exit.code === LAUNCH_FAILED ? 'could not join its cgroups' : `bwrap failed (exit ${exit.code ?? exit.signal})`;
  return new BastionError(
    'SANDBOX_UNAVAILABLE',
    `the sandbox did not start: ${detail}${reason ? `: ${reason.slice(0, 300)}` : ''}`,
    { retryable: false },
  );
}

function signalName(n: number): string {
  const entry = Object.entries(osConstants.signals).find(([, v]) => v === n);
  return entry ? entry[0] : `SIG${n}`;
}
