import type { CliContext } from './cli-context';
import type { CommandName } from './command-names';
import type { Io } from './output';

/**
 * Runs one command line on a fresh program. program.ts hands it to the commands it registers, so
 * the daemon can serve a client's `exec`/`run` without importing program.ts (which loads the
 * daemon command: an import cycle).
 */
export type ProgramRunner = (
  names: readonly CommandName[],
  argv: readonly string[],
  io: Io,
  ctx: CliContext,
) => Promise<{ exitCode: number }>;
