import { processIo, type Io } from './output';
import { buildProgram, commandsFor, runProgram, type CliRun } from './program';

export type { CliRun };

/**
 * Entry point of `bastion`; returns the exit code instead of exiting, so tests can call it.
 * `exec` and `run` go to a local daemon when one listens on this user's runtime directory (its
 * warm pool answers in milliseconds), like the docker CLI goes to dockerd; otherwise, or with
 * `--no-daemon`, they run in this process.
 */
export async function runCli(argv: string[], io: Io = processIo, env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  const names = commandsFor(argv);
  if (names.length === 0) {
    // `--version` (and nothing else): no context, no command module, no dependency beyond commander.
    return runProgram(await buildProgram([], undefined, io), argv, io);
  }
  if (names.length === 1 && (names[0] === 'exec' || names[0] === 'run') && env.BASTION_NO_DAEMON === undefined) {
    // The client imports node built-ins only: a call through the daemon never loads zod or dockerode.
    const { submitToDaemon } = await import('../daemon/daemon-client');
    const remote = await submitToDaemon(argv, io, { env, cwd: process.cwd() });
    if (remote) return remote;
  }
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
