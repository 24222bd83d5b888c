import type { ErrorInfo } from '@bastion/core';

/** At most this much of the agent's stderr rides along in `error.details.stderrTail`. */
export const STDERR_TAIL_LINES = 20;
export const STDERR_TAIL_BYTES = 4096;
/** And this much of it in the message itself, so a person reading one line sees the cause. */
const MESSAGE_LINES = 3;
const MESSAGE_CHARS = 600;

/**
 * A PROVIDER_FAILED carries its cause: the last lines of the agent's stderr (e.g. Gemini CLI's
 * `EACCES: permission denied, lstat '/workspace/GEMINI.md'`), which otherwise existed only inside
 * the sandbox. `stderr` is the sanitizer's output, and the exit gate walks the finished result
 * again, so no secret reaches the message; the tail is bounded so a flood cannot ride along.
 */
export function withStderrTail(error: ErrorInfo, stderr: string): ErrorInfo {
  if (error.code !== 'PROVIDER_FAILED') return error;
  const lines = stderr
    .slice(-STDERR_TAIL_BYTES * 2)
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  if (lines.length === 0) return error;
  let tail = lines.slice(-STDERR_TAIL_LINES).join('\n');
  if (Buffer.byteLength(tail) > STDERR_TAIL_BYTES)
    tail = Buffer.from(tail)
      .subarray(-STDERR_TAIL_BYTES)
      .toString('utf8')
      .replace(/^\uFFFD+/, '');
  let last = lines.slice(-MESSAGE_LINES).join(' | ');
  if (last.length > MESSAGE_CHARS) last = '…' + last.slice(-MESSAGE_CHARS);
  return {
    ...error,
    message: `${error.message}; the agent's stderr ended with: ${last}`,
    details: { ...(error.details ?? {}), stderrTail: tail },
  };
}
