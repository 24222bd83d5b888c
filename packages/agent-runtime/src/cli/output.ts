import type { ErrorInfo } from '@bastion/core';
import { writeJson } from './json-stream';

/**
 * Exit codes, like `docker run`'s: the command's own code when it ran and failed, 124 for a
 * deadline (as timeout(1)), 137 for an OOM kill, 125 for anything Bastion itself refused or could not do.
 */
export function exitCodeFor(error: ErrorInfo | null, commandExitCode: number | null = null): number {
  if (!error) return 0;
  switch (error.code) {
    case 'COMMAND_FAILED':
      return commandExitCode !== null && commandExitCode > 0 && commandExitCode < 256 ? commandExitCode : 1;
    case 'TIMEOUT':
      return 124;
    case 'OOM_KILLED':
      return 137;
    default:
      return 125;
  }
}

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

export function printJson(io: Io, doc: unknown): void {
  // In pieces: a result with two capped 256 MiB streams is past V8's longest string as one document.
  writeJson(io.stdout, doc);
  io.stdout('\n');
}

export function describeError(error: ErrorInfo): string {
  const retry = error.retryable ? (error.retryAfterMs !== undefined ? ` (retryable after ${error.retryAfterMs} ms)` : ' (retryable)') : '';
  return `bastion: ${error.code}: ${error.message}${retry}\n`;
}
