import { Command, CommanderError } from 'commander';
import { version } from '../../package.json';
import type { Io } from './output';
import type { CliContext } from './cli-context';

export interface CliRun {
  exitCode: number;
}

type Register = (program: Command, ctx: CliContext) => void;

/**
 * Each command's module, loaded only when that command runs (or for the full help). A process
 * pays for what its command uses: `--version` loads no command, `policy check` never loads
 * dockerode, fastify, the MCP SDK, OpenFeature or prom-client. The order is the help's order.
 */
export const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  exec: async () => (await import('./commands/exec-command')).registerExec,
  doctor: async () => (await import('./commands/doctor-command')).registerDoctor,
  serve: async () => (await import('./commands/serve-command')).registerServe,
  daemon: async () => (await import('./commands/daemon-command')).registerDaemon,
  mcp: async () => (await import('./commands/mcp-command')).registerMcp,
  flags: async () => (await import('./commands/flags-command')).registerFlags,
  run: async () => (await import('./commands/run-command')).registerRun,
  policy: async () => (await import('./commands/policy-command')).registerPolicy,
  sanitize: async () => (await import('./commands/sanitize-command')).registerSanitize,
};

/**
 * The commands a command line needs: the one it names, none for a bare `--version`, every one
 * otherwise (help, a typo that commander should answer with a suggestion). Only `--version` and
 * `--help` are program options, so the first word that is not an option names the command.
 */
export function commandsFor(argv: readonly string[]): string[] {
  for (const arg of argv) {
    if (arg === '--') break;
    if (arg.startsWith('-')) continue;
    return Object.hasOwn(COMMANDS, arg) ? [arg] : Object.keys(COMMANDS);
  }
  const versionOnly = (argv.includes('--version') || argv.includes('-V')) && !argv.includes('--help') && !argv.includes('-h');
  return versionOnly ? [] : Object.keys(COMMANDS);
}

/** The `bastion` program with the given commands registered on `ctx` (none needs no context). */
export async function buildProgram(names: readonly string[], ctx: CliContext | undefined, io: Io): Promise<Command> {
  const program = new Command()
    .name('bastion')
    .description('Run AI coding agents from your automation without trusting them')
    .version(version)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();
  const registers = await Promise.all(names.map((name) => COMMANDS[name]!()));
  for (const register of registers) register(program, ctx!);
  return program;
}

/**
 * Parses and runs a command line. A usage error is 125 (as docker's); anything thrown becomes a
 * typed error report on `ctx` (or on stderr when there is none) and 125.
 */
export async function runProgram(program: Command, argv: readonly string[], io: Io, ctx?: CliContext): Promise<CliRun> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return { exitCode: 0 };
  } catch (err) {
    if (err instanceof CommanderError) return { exitCode: err.exitCode === 0 ? 0 : 125 };
    // Loaded on failure only: the error class brings zod with it.
    const { BastionError } = await import('@bastion/core');
    const error = BastionError.from(err, 'INTERNAL');
    if (ctx) ctx.fail(error, argv.includes('--json'));
    else io.stderr(`bastion: ${error.code}: ${error.message}\n`);
    return { exitCode: 125 };
  }
}
