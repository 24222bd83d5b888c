import { Command, CommanderError } from 'commander';
import { BastionError } from '@bastion/core';
import { createCliContext } from './cli-context';
import { processIo, type Io } from './output';
import { registerExec } from './commands/exec-command';
import { registerDoctor } from './commands/doctor-command';
import { registerServe } from './commands/serve-command';
import { registerMcp } from './commands/mcp-command';
import { registerFlags } from './commands/flags-command';
import { registerRun } from './commands/run-command';
import { registerPolicy } from './commands/policy-command';
import { registerSanitize } from './commands/sanitize-command';

export interface CliRun {
  exitCode: number;
}

/** Entry point of `bastion`; returns the exit code instead of exiting, so tests can call it. */
export async function runCli(argv: string[], io: Io = processIo, env: NodeJS.ProcessEnv = process.env): Promise<CliRun> {
  let exitCode = 0;
  const ctx = createCliContext(io, env, (code) => {
    exitCode = code;
  });
  const program = new Command()
    .name('bastion')
    .description('Run AI coding agents from your automation without trusting them')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();
  registerExec(program, ctx);
  registerDoctor(program, ctx);
  registerServe(program, ctx);
  registerMcp(program, ctx);
  registerFlags(program, ctx);
  registerRun(program, ctx);
  registerPolicy(program, ctx);
  registerSanitize(program, ctx);

  const onSignal = (signal: NodeJS.Signals) => {
    // Killing the client must not leave a container running: remove them, then exit.
    void ctx.close().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      exitCode = err.exitCode === 0 ? 0 : 125;
    } else {
      const error = BastionError.from(err, 'INTERNAL');
      ctx.fail(error, argv.includes('--json'));
      exitCode = 125;
    }
  } finally {
    await ctx.close();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return { exitCode };
}
