import { Command, CommanderError } from 'commander';
import { version } from '../../package.json';
import { printJson, type Io } from './output';
import type { CliContext } from './cli-context';
import type { CommandName } from './command-names';
import type { ProgramRunner } from './program-runner';

export interface CliRun {
  exitCode: number;
}

type Register = (program: Command, ctx: CliContext) => void;

/**
 * Each command's module, loaded only when that command runs (or for the full help). A process
 * pays for what its command uses: `policy check` never loads dockerode, fastify, the MCP SDK,
 * OpenFeature or prom-client.
 */
const COMMANDS: Readonly<Record<CommandName, () => Promise<Register>>> = {
  exec: async () => (await import('./commands/exec-command')).registerExec,
  doctor: async () => (await import('./commands/doctor-command')).registerDoctor,
  serve: async () => {
    const { registerServe } = await import('./commands/serve-command');
    return (program, ctx) => registerServe(program, ctx, runNested);
  },
  daemon: async () => {
    const { registerDaemon } = await import('./commands/daemon-command');
    return (program, ctx) => registerDaemon(program, ctx, runNested);
  },
  mcp: async () => (await import('./commands/mcp-command')).registerMcp,
  flags: async () => (await import('./commands/flags-command')).registerFlags,
  run: async () => (await import('./commands/run-command')).registerRun,
  policy: async () => (await import('./commands/policy-command')).registerPolicy,
  sanitize: async () => (await import('./commands/sanitize-command')).registerSanitize,
  worker: async () => (await import('./commands/worker-command')).registerWorker,
  keys: async () => (await import('./commands/keys-command')).registerKeys,
  verify: async () => (await import('./commands/verify-command')).registerVerify,
};

/** The `bastion` program with the given commands registered on `ctx` (none needs no context). */
export async function buildProgram(
  names: readonly CommandName[],
  ctx: CliContext | undefined,
  io: Io,
): Promise<Command> {
  const program = new Command()
    .name('bastion')
    .description('Run AI coding agents from your automation without trusting them')
    .version(version)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    // One line, not the whole help: the error and the hint stay on screen.
    .showHelpAfterError('(add --help for usage, an example, exit codes and environment)');
  const registers = await Promise.all(names.map((name) => COMMANDS[name]()));
  for (const register of registers) register(program, ctx!);
  return program;
}

/** What the daemon (and `serve --cli-socket`) run for each client's command line. */
const runNested: ProgramRunner = async (names, argv, io, ctx) =>
  runProgram(await buildProgram(names, ctx, io), argv, io, ctx);

/** Exit code of a command line Bastion could not parse, as most Unix tools (125 stays "Bastion refused or could not run it"). */
export const USAGE_EXIT_CODE = 2;

/**
 * Parses and runs a command line. A usage error (commander's, including an option value its parser
 * refused) is 2 and, under --json, still one JSON document on stdout; anything thrown becomes a
 * typed error report on `ctx` (or on stderr when there is none) and 125.
 */
export async function runProgram(program: Command, argv: readonly string[], io: Io, ctx?: CliContext): Promise<CliRun> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return { exitCode: 0 };
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return { exitCode: 0 };
      const hint = usageHint(err, argv);
      if (hint) io.stderr(`hint: ${hint}\n`);
      if (argv.includes('--json')) {
        const message = err.message.replace(/^error: /, '') + (hint ? `; ${hint}` : '');
        await printJson(io, { status: 'failed', error: { code: 'INVALID_INPUT', message, retryable: false } });
      }
      return { exitCode: USAGE_EXIT_CODE };
    }
    // Loaded on failure only: the error class brings zod with it.
    const { BastionError } = await import('@bastion/core');
    const error = BastionError.from(err, 'INTERNAL');
    if (ctx) ctx.fail(error, argv.includes('--json'));
    else io.stderr(`bastion: ${error.code}: ${error.message}\n`);
    return { exitCode: 125 };
  }
}

/**
 * The fix for the usage mistakes people make first: a command's own options given to `exec`
 * without `--` (`bastion exec ls -la /`), a `run` without its prompt.
 */
export function usageHint(err: CommanderError, argv: readonly string[]): string | undefined {
  const command = argv.find((a) => !a.startsWith('-'));
  if (command === 'exec' && !argv.includes('--') && err.code === 'commander.unknownOption') {
    const rest = argv.slice(argv.indexOf('exec') + 1).filter((a) => a !== '--json');
    return `put the command after --, e.g. bastion exec${argv.includes('--json') ? ' --json' : ''} -- ${rest.join(' ')}`;
  }
  if (command === 'exec' && err.code === 'commander.missingArgument')
    return 'name the command after --, e.g. bastion exec -- ls -la /';
  if (command === 'run' && err.code === 'commander.missingArgument')
    return 'give the prompt as the last argument, e.g. bastion run --provider gemini-cli --workspace . "what does this repo do?"';
  return undefined;
}
