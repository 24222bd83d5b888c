import { BastionError } from '@bastion/core';

/** The shell's code for "command not found", which scripts already test for. */
export const COMMAND_NOT_FOUND_EXIT = 127;

// How each backend says the program does not exist in the image: runc through the engine (a
// failed container start or `docker exec`), bubblewrap's execvp.
const RUNC = /exec: "([^"]*)": (?:executable file not found in \$PATH|stat [^:]*: no such file or directory)/;
const BWRAP = /^bwrap: execvp (.+): No such file or directory$/m;

/**
 * A command the sandbox image does not have becomes COMMAND_FAILED with exit 127 and the fix,
 * instead of the engine's runc dump (SANDBOX_UNAVAILABLE, which also told callers to retry) or
 * bubblewrap's bare exit 1.
 */
export function commandNotFoundError(base: BastionError, stderr: string, image: string | undefined): BastionError {
  const from =
    base.code === 'SANDBOX_UNAVAILABLE'
      ? RUNC.exec(base.message)
      : base.code === 'COMMAND_FAILED'
        ? (BWRAP.exec(stderr) ?? RUNC.exec(stderr))
        : null;
  if (!from) return base;
  const command = from[1]!;
  const where = image ? `the sandbox image ${image}` : 'the sandbox';
  return new BastionError(
    'COMMAND_FAILED',
    `${command}: command not found in ${where}; use a program the image has (list them with \`bastion exec -- ls /usr/bin\`), an absolute path, or another image with --image`,
    { details: { exitCode: COMMAND_NOT_FOUND_EXIT, signal: null, command } },
  );
}
