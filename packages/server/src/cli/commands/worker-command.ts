import { createServer, type Server } from 'node:http';
import type { Command } from 'commander';
import { BastionError } from '@bastion/core';
import type { CliContext } from '../cli-context';
import { COMMON_ENV, EXIT_CODES, withHelp } from '../help-text';
import { collectOption } from './collect-option';
import { parseIntOption } from './exec-command';
import { CONFIG_OPTION, POLICY_OPTION, SERVICE_BACKEND_OPTION } from './shared-options';

interface WorkerOptions {
  database?: string;
  concurrency: number;
  leaseMs: number;
  backend?: string;
  policy?: string;
  flagsFile?: string;
  config?: string;
  workspaceRoot: string[];
  drainTimeout: number;
  metricsPort?: number;
}

export function registerWorker(program: Command, ctx: CliContext): void {
  const worker = program
    .command('worker')
    .description(
      "Runs tasks accepted by `bastion serve --database URL` on this host's sandbox backend. Any number of workers on any number of hosts share the queue; " +
        "each holds a lease on its tasks and renews it; a worker that dies loses its lease and its task runs again elsewhere (up to the task's max attempts).",
    )
    .option(
      '--database <url>',
      'the task database: postgres://USER@HOST:PORT/DB (default: $BASTION_DATABASE_URL); required',
    )
    .option('--concurrency <n>', 'tasks this worker runs at once', parseIntOption('--concurrency'), 4)
    .option(
      '--lease-ms <ms>',
      'a lease not renewed for this long lets another worker take the task',
      parseIntOption('--lease-ms'),
      15_000,
    )
    .option(...SERVICE_BACKEND_OPTION)
    .option(...POLICY_OPTION)
    .option('--flags-file <file>', 'flags file that overrides FF_* variables (default: $BASTION_FLAGS_FILE)')
    .option(...CONFIG_OPTION)
    .option(
      '--workspace-root <dir>',
      'run tasks naming a workspace only below this directory (repeatable); the API admitted it, this host checks again',
      collectOption,
      [],
    )
    .option(
      '--metrics-port <port>',
      "serve this worker's Prometheus metrics (lease expiries, retries, accept->start latency, process) at http://127.0.0.1:<port>/metrics",
      parseIntOption('--metrics-port'),
    )
    .option(
      '--drain-timeout <ms>',
      'on SIGTERM, wait this long for running tasks before aborting them (their leases then expire and they run again elsewhere)',
      parseIntOption('--drain-timeout'),
      30_000,
    )
    .action(async (opts: WorkerOptions) => {
      const database = opts.database ?? ctx.env.BASTION_DATABASE_URL;
      if (!database)
        return ctx.fail(
          new BastionError(
            'INVALID_INPUT',
            'bastion worker needs --database postgres://USER@HOST:PORT/DB (or BASTION_DATABASE_URL): the same database as bastion serve --database',
          ),
        );
      const [
        { parseDatabaseLocation, openTaskLedger, retentionDaysFrom },
        { routerCapacity, startTaskWorker },
        { routerTaskRunner },
        { startTaskRuntime },
      ] = await Promise.all([
        import('../../tasks/open-task-ledger'),
        import('../../tasks/task-worker'),
        import('../../tasks/router-task-runner'),
        import('./task-runtime'),
      ]);
      let location;
      try {
        location = parseDatabaseLocation(database);
      } catch (err) {
        return ctx.fail(BastionError.from(err, 'INVALID_INPUT'));
      }
      if (location.kind === 'embedded')
        return ctx.fail(
          new BastionError(
            'INVALID_INPUT',
            `bastion worker needs a PostgreSQL server: the embedded store (${location.display}) belongs to the one bastion serve that opened it, which runs its own worker`,
          ),
        );
      ctx.settings({ config: opts.config, flagsFile: opts.flagsFile, workspaceRoots: opts.workspaceRoot });
      const workspaceAccess = await ctx.workspaceAccess('service');
      let ledger;
      try {
        ledger = await openTaskLedger(location, {
          dailyUsageRetentionDays: retentionDaysFrom(ctx.env),
          onIdleError: (err) =>
            ctx.io.stderr(
              `bastion worker: database connection lost (${(err as NodeJS.ErrnoException).code ?? err.message}); reconnecting\n`,
            ),
        });
      } catch (err) {
        return ctx.fail(BastionError.from(err, 'SANDBOX_UNAVAILABLE'));
      }
      // Daily budgets are spent in the shared database, with every other worker's.
      ctx.useDailyUsageStore(ledger.dailyUsage);
      const runtime = await startTaskRuntime(ctx, { policyFile: opts.policy, backend: opts.backend, workspaceAccess });
      const [{ createMetrics }, { createTaskMetrics }] = await Promise.all([
        import('../../metrics/metrics'),
        import('../../tasks/task-metrics'),
      ]);
      const metrics = createMetrics({ processMetrics: true });
      const taskMetrics = createTaskMetrics(metrics.registry);
      let metricsServer: Server | undefined;
      if (opts.metricsPort) {
        try {
          metricsServer = await serveMetrics(opts.metricsPort, metrics);
        } catch (err) {
          await runtime.close();
          await ledger.close();
          return ctx.fail(
            new BastionError(
              'INVALID_INPUT',
              `bastion worker could not serve metrics on 127.0.0.1:${opts.metricsPort} (${(err as NodeJS.ErrnoException).code ?? 'error'}): pick another --metrics-port`,
            ),
          );
        }
      }
      const started = startTaskWorker({
        ledger,
        metrics: taskMetrics,
        run: routerTaskRunner(runtime.router),
        concurrency: opts.concurrency,
        capacity: () => routerCapacity(runtime.router.health()),
        leaseMs: opts.leaseMs,
        onProblem: (event, details) => runtime.audit({ event, correlationId: '-', stage: 'worker', ...details }),
      });
      ctx.io.stderr(
        `bastion worker ${started.id}: running up to ${opts.concurrency} task(s) from ${location.display}\n`,
      );
      const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
      const inherited = signals.map((s) => [s, process.listeners(s)] as const);
      for (const [s, listeners] of inherited) for (const l of listeners) process.removeListener(s, l);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          ctx.io.stderr(`bastion worker: ${signal}: finishing ${started.active} task(s)\n`);
          void started.close(opts.drainTimeout).finally(resolve);
        };
        for (const s of signals) process.once(s, stop);
      });
      for (const s of signals) process.removeAllListeners(s);
      for (const [s, listeners] of inherited) for (const l of listeners) process.on(s, l as NodeJS.SignalsListener);
      await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
      await runtime.close();
      await ledger.close();
      ctx.setExitCode(0);
    });
  withHelp(worker, {
    example: 'bastion worker --database postgres://bastion@db.internal:5432/bastion --concurrency 8',
    exitCodes: [
      '0    finished its tasks and stopped after SIGTERM/SIGINT',
      EXIT_CODES.usage,
      '125  could not start: no or a wrong --database, the database is unreachable, a workspace root is forbidden',
    ],
    env: {
      BASTION_DATABASE_URL: 'the task database when --database is not given',
      BASTION_BACKEND: 'sandbox backend when --backend is not given (docker or bwrap)',
      DOCKER_HOST: 'the Docker engine (default unix:///var/run/docker.sock); a remote engine per worker works the same',
      ...COMMON_ENV,
    },
  });
}

/** GET /metrics on loopback: a worker has no API of its own, only what Prometheus scrapes. */
async function serveMetrics(
  port: number,
  metrics: { render(): Promise<string>; contentType: string },
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    metrics.render().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      (err: unknown) =>
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return server;
}
