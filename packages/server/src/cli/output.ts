import type { ErrorInfo } from '@bastion/core';
import { jsonPieces } from './json-stream';

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
  /** false: the text was queued because the reader is behind (a stream's write()); see stdoutDrained. */
  stdout: (text: string) => boolean | void;
  stderr: (text: string) => boolean | void;
  /** Resolves when stdout has room again (its 'drain', or its end): printJson waits on it after a queued write. */
  stdoutDrained?: () => Promise<void>;
}

export const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stdoutDrained: () => drained(process.stdout),
};

/** Resolves on the stream's next 'drain', or when it errors or closes (EPIPE: nobody will read the rest). */
function drained(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('error', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('error', done);
    stream.once('close', done);
  });
}

/**
 * Writes one JSON document to stdout, in pieces: a result with two capped 256 MiB streams is past
 * V8's longest string as one document. When stdout is a pipe whose reader is behind, it waits for
 * it between pieces: writing on regardless queued the whole document (547 MB for a 1 GB + 1 GB
 * flood at a 256 MiB cap) as buffers next to the result. A document the reader keeps up with is
 * written before the first await, so a caller that does not await a small document loses nothing.
 */
export async function printJson(io: Io, doc: unknown): Promise<void> {
  for (const piece of jsonPieces(doc)) {
    if (io.stdout(piece) === false && io.stdoutDrained) await io.stdoutDrained();
  }
  io.stdout('\n');
}

export function describeError(error: ErrorInfo): string {
  const retry = error.retryable
    ? error.retryAfterMs !== undefined
      ? ` (retryable after ${error.retryAfterMs} ms)`
      : ' (retryable)'
    : '';
  return `bastion: ${error.code}: ${error.message}${retry}\n`;
}
