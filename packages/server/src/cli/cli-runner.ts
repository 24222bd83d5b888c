import type { CommandName } from './command-names';
import type { Io } from './output';
import { buildProgram, runProgram, type CliRun } from './program';
import { useInterpretedZod } from './zod-config';

/**
 * The CLI's heavier half (commander, the context, the commands' loaders), loaded by main.ts
 * once a command line needs more than `--version` or a daemon. The CLI bundle ships it as a file
 * of its own (scripts/build.mjs), so those two paths do not even parse it.
 */
export async function runCommands(
  names: readonly CommandName[],
  argv: string[],
  io: Io,
  env: NodeJS.ProcessEnv,
): Promise<CliRun> {
  useInterpretedZod(); // before the commands' modules (and their schemas) load
  if (names.length === 0) return runProgram(await buildProgram([], undefined, io), argv, io);
  let exitCode = 0;
  const { createCliContext } = await import('./cli-context');
  const ctx = createCliContext(io, env, (code) => {
    exitCode = code;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    // Killing the client must not leave a container running: remove them, then exit.
    void ctx.close().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const parsed = await runProgram(await buildProgram(names, ctx, io), argv, io, ctx);
    if (parsed.exitCode !== 0) exitCode = parsed.exitCode;
  } finally {
    await ctx.close();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return { exitCode };
}
