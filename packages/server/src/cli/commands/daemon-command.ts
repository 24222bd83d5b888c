import type { Command } from 'commander';
import { BastionError } from '@bastion/core';
import type { SessionIdentity, WarmPoolExecutor } from '@bastion/sandbox';
import { openRuntimeDir } from '@bastion/sandbox';
import { DAEMON_SOCKET_NAME } from '../../daemon/daemon-protocol';
import { startDaemonServer, type DaemonHandler, type StartedDaemonServer } from '../../daemon/daemon-server';
import { createCliContext, type Backend, type CliContext, type CliRuntime } from '../cli-context';
import type { ProgramRunner } from '../program-runner';
import { COMMON_ENV, EXIT_CODES, withHelp } from '../help-text';
import { DEFAULT_EXEC_IMAGE, parseIntOption } from './exec-command';
import { CONFIG_OPTION, FLAGS_FILE_OPTION, POLICY_OPTION } from './shared-options';

interface DaemonOptions {
  policy?: string;
  backend?: string;
  config?: string;
  flagsFile?: string;
  poolSize: number;
}

export function registerDaemon(program: Command, ctx: CliContext, runNested: ProgramRunner): void {
  const daemon = program
    .command('daemon')
    .description(
      'keep a warm pool for `bastion exec` and `bastion run` on a private socket in the runtime directory (they use it when it is there; --no-daemon opts out)',
    )
    .option(...POLICY_OPTION)
    .option(
      '--backend <backend>',
      'default sandbox backend: docker or bwrap (default FF_DEFAULT_BACKEND, $BASTION_BACKEND or docker)',
    )
    .option(...CONFIG_OPTION)
    .option(...FLAGS_FILE_OPTION)
    .option('--pool-size <n>', 'warm containers kept per profile', parseIntOption('--pool-size'), 2)
    .action(async (opts: DaemonOptions) => {
      ctx.settings({ config: opts.config, flagsFile: opts.flagsFile });
      // The socket first: a second daemon fails (CONFLICT) before it starts any container. A call
      // that arrives while the runtime starts waits for the same runtime (runtimeOn is shared).
      const server = await serveDaemonSocket(ctx, { policyFile: opts.policy, poolSize: opts.poolSize }, runNested);
      let runtime: CliRuntime;
      try {
        runtime = await ctx.runtime({ policyFile: opts.policy, backend: opts.backend, poolSize: opts.poolSize });
        await prewarmExec(ctx, runtime);
      } catch (err) {
        await server.close();
        throw err;
      }
      const session = (runtime.pipeline.executor as Partial<{ identity: SessionIdentity }>).identity?.sessionId ?? '-';
      ctx.io.stderr(
        `bastion daemon: listening on ${server.socketPath} (backend ${runtime.backend}, session ${session}, pool ${opts.poolSize} per profile)\n`,
      );
      await untilSignalled(async (signal) => {
        ctx.io.stderr(`bastion daemon: ${signal}: draining ${server.inFlight} call(s)\n`);
        await server.close();
      });
      ctx.setExitCode(0);
    });
  withHelp(daemon, {
    example: 'bastion daemon --pool-size 2 &   # then: bastion exec -- make test',
    exitCodes: [
      '0    drained and stopped after SIGTERM/SIGINT',
      EXIT_CODES.usage,
      '125  could not start: another daemon holds the socket (CONFLICT), the runtime directory is not private, no sandbox backend',
    ],
    env: {
      XDG_RUNTIME_DIR: 'the socket is $XDG_RUNTIME_DIR/bastion/daemon.sock (root: /run/bastion/daemon.sock)',
      BASTION_BACKEND: 'default sandbox backend when --backend is not given (docker or bwrap)',
      'BASTION_*, FF_*': "clients whose values differ from the daemon's run in-process instead",
      ...COMMON_ENV,
    },
  });
}

/**
 * Listens on `<runtime dir>/daemon.sock` and runs each client's exec/run command line on the
 * runtimes of `ctx` (started with its policy and pool, one per backend), each request in a
 * context of its own: its output, its working directory, its --stdin input, aborted when the
 * client goes away.
 */
export async function serveDaemonSocket(
  ctx: CliContext,
  options: { policyFile?: string; poolSize: number },
  runNested: ProgramRunner,
): Promise<StartedDaemonServer> {
  const dir = await openRuntimeDir({ xdgRuntimeDir: ctx.env.XDG_RUNTIME_DIR });
  const sharedRuntime = (backend: Backend): Promise<CliRuntime> =>
    ctx.runtimeOn(backend, { policyFile: options.policyFile, poolSize: options.poolSize });
  const handle: DaemonHandler = async (request, io, signal) => {
    let exitCode = 0;
    const stdin = bytesOf(request.stdin);
    const requestCtx = createCliContext(io, ctx.env, (code) => (exitCode = code), {
      cwd: request.cwd,
      stdin,
      signal,
      sharedRuntime,
    });
    try {
      const run = await runNested([request.argv[0] as 'exec' | 'run'], request.argv, io, requestCtx);
      if (run.exitCode !== 0) exitCode = run.exitCode;
    } finally {
      await requestCtx.close();
    }
    return exitCode;
  };
  return startDaemonServer({ socketPath: `${dir.root}/${DAEMON_SOCKET_NAME}`, handle, env: ctx.env });
}

/**
 * `bastion serve` is the CLI's daemon too, when no `bastion daemon` holds the socket already. Its
 * CLI calls run on a runtime of their own, started on the first one: a CLI caller's workspace
 * follows the CLI's rules, not the service's --workspace-root list, so the result is the one the
 * call would have had in-process. Resolves undefined (and says why) when the socket is taken or
 * the runtime directory is unusable.
 */
export async function startCliSocket(
  ctx: CliContext,
  options: { policyFile?: string; poolSize: number; name: string },
  runNested: ProgramRunner,
): Promise<StartedDaemonServer | undefined> {
  const host = createCliContext(ctx.io, ctx.env, () => undefined);
  try {
    const server = await serveDaemonSocket(host, options, runNested);
    const close = async () => {
      await server.close();
      await host.close();
    };
    return {
      socketPath: server.socketPath,
      get inFlight() {
        return server.inFlight;
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (err) {
    await host.close();
    // The socket is an extra of the service: a daemon that holds it already, or a runtime
    // directory that cannot be used, is reported and the service runs on without it.
    if (!BastionError.isInstance(err)) throw err;
    ctx.io.stderr(`${options.name}: not serving the CLI socket: ${err.message}\n`);
    return undefined;
  }
}

/**
 * Fills the pool for a plain `bastion exec` (the default image and limits) before the socket
 * opens, so that a script's first call is warm too. Other profiles fill on their first call.
 */
async function prewarmExec(ctx: CliContext, runtime: CliRuntime): Promise<void> {
  const executor = runtime.pipeline.executor as Partial<WarmPoolExecutor>;
  if (typeof executor.prewarm !== 'function') return;
  const { ExecutionSpec } = await import('@bastion/policy');
  const spec = ExecutionSpec.parse({ provider: 'exec', image: DEFAULT_EXEC_IMAGE, command: ['true'] });
  try {
    await executor.prewarm(spec.image, runtime.pipeline.policy().evaluate(spec, { correlationId: 'prewarm' }).limits);
  } catch (err) {
    // Not fatal: calls still run (cold) and the pool fills on the first one.
    ctx.io.stderr(
      `bastion daemon: could not prewarm ${spec.image}: ${BastionError.from(err, 'SANDBOX_UNAVAILABLE').message}\n`,
    );
  }
}

/**
 * Runs `stop` on the first SIGTERM/SIGINT. The CLI's own handler exits at once; a daemon must
 * drain first, so it takes the signals over until it has stopped, then hands them back.
 */
export async function untilSignalled(stop: (signal: NodeJS.Signals) => Promise<void>): Promise<void> {
  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
  const inherited = signals.map((s) => [s, process.listeners(s)] as const);
  for (const [s, listeners] of inherited) for (const l of listeners) process.removeListener(s, l);
  try {
    await new Promise<void>((resolve, reject) => {
      const onSignal = (signal: NodeJS.Signals) => void stop(signal).then(resolve, reject);
      for (const s of signals) process.once(s, onSignal);
    });
  } finally {
    for (const s of signals) process.removeAllListeners(s);
    for (const [s, listeners] of inherited) for (const l of listeners) process.on(s, l as NodeJS.SignalsListener);
  }
}

async function* bytesOf(base64: string | undefined): AsyncIterable<Uint8Array> {
  if (base64 !== undefined) yield Buffer.from(base64, 'base64');
}
