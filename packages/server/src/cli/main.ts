import { version } from '../../package.json';
import { commandsFor } from './command-names';
import { processIo, type Io } from './output';
import type { CliRun } from './program';

export type { CliRun };

/**
 * Entry point of `bastion`; returns the exit code instead of exiting, so tests can call it.
 * `exec` and `run` go to a local daemon when one listens on this user's runtime directory (its
 * warm pool answers in milliseconds), like the docker CLI goes to dockerd; otherwise, or with
 * `--no-daemon`, they run in this process. Neither `--version` nor a call through the daemon
 * loads commander, zod or any command: they are what scripts run most.
 */
export async function runCli(
  argv: string[],
  io: Io = processIo,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CliRun> {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    io.stdout(`${version}\n`);
    return { exitCode: 0 };
  }
  const names = commandsFor(argv);
  // --provenance names files and a key relative to this process (cwd, HOME): it runs here, not in a daemon.
  const dashes = argv.indexOf('--');
  const options = dashes === -1 ? argv : argv.slice(0, dashes);
  const provenance = argv.some((a) => a === '--provenance' || a.startsWith('--provenance='));
  // --no-daemon: not even the client is loaded (node:net and node:crypto, ~5-15 ms of a cold call).
  const noDaemon = options.includes('--no-daemon');
  if (
    names.length === 1 &&
    (names[0] === 'exec' || names[0] === 'run') &&
    env.BASTION_NO_DAEMON === undefined &&
    !provenance &&
    !noDaemon
  ) {
    // The client imports node built-ins only.
    const { submitToDaemon } = await import('../daemon/daemon-client');
    const remote = await submitToDaemon(argv, io, { env, cwd: process.cwd() });
    if (remote) return remote;
  }
  const { runCommands } = await import('./cli-runner');
  return runCommands(names, argv, io, env);
}
