import { InvalidArgumentError, type Command } from 'commander';
import { BastionError } from '@bastion/core';
import { dockerClient } from '@bastion/sandbox';
import type { FlagService, ExitGate } from '@bastion/agent-runtime';
import type { ReadinessCheck } from '../../service/service';
import type { CliContext, CliRuntime } from '../cli-context';
import { COMMON_ENV, EXIT_CODES, withHelp } from '../help-text';
import { parseIntOption } from './exec-command';
import { collectOption } from './collect-option';
import { startCliSocket } from './daemon-command';
import { serviceSigner } from '../provenance-cli';
import type { ProgramRunner } from '../program-runner';
import {
  ACCEPT_WORKSPACE_ROOT_OPTION,
  CONFIG_OPTION,
  FLAGS_FILE_OPTION,
  POLICY_OPTION,
  SERVICE_BACKEND_OPTION,
} from './shared-options';

interface ServeOptions {
  provenanceKey?: string;
  backend?: string;
  port: number;
  host: string;
  tokenFile?: string;
  jsonLogs?: boolean;
  policy?: string;
  flagsFile?: string;
  config?: string;
  workspaceRoot: string[];
  drainTimeout: number;
  maxInFlight: number;
  cliSocket: boolean;
  database?: string;
  dataDir?: string;
  workerConcurrency?: number;
  maxQueued: number;
}

export function registerServe(program: Command, ctx: CliContext, runNested: ProgramRunner): void {
  const serve = program
    .command('serve')
    .description(
      'HTTP API: POST /v1/tasks, /v1/tasks/stream (SSE), GET /v1/tasks/:id, /v1/tasks/:id/events (SSE), /healthz, /readyz, /metrics, /openapi.json (see docs/http-api.md). ' +
        'Starts without a Docker engine: /readyz answers 503 naming the cause and tasks fail SANDBOX_UNAVAILABLE until the engine is back.',
    )
    .option('--port <port>', 'TCP port (0: any free port; the address is printed on stderr)', parsePort, 8787)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--token-file <file>', 'file holding the bearer token (default: $BASTION_TOKEN_FILE); required')
    .option(...SERVICE_BACKEND_OPTION)
    .option('--json-logs', 'log every request as a JSON line on stderr')
    .option(...POLICY_OPTION)
    .option(...FLAGS_FILE_OPTION)
    .option(...CONFIG_OPTION)
    .option(...ACCEPT_WORKSPACE_ROOT_OPTION, collectOption, [])
    .option(
      '--max-in-flight <n>',
      'tasks running at once; the next is answered 429 with Retry-After',
      parseIntOption('--max-in-flight'),
      64,
    )
    .option(
      '--no-cli-socket',
      'do not let `bastion exec|run` on this host submit to this service (its daemon socket in the runtime directory)',
    )
    .option(
      '--drain-timeout <ms>',
      'on SIGTERM, wait this long for calls in flight before aborting them',
      parseIntOption('--drain-timeout'),
      30_000,
    )
    .option(
      '--database <url>',
      'keep tasks in a ledger: postgres://USER@HOST:PORT/DB (run them with `bastion worker --database` on any host) or pglite:DIR (embedded, one process); default: $BASTION_DATABASE_URL, else the embedded store in --data-dir',
    )
    .option(
      '--data-dir <dir>',
      'without --database: the directory (0700) of the embedded task store, one serve at a time (default: $BASTION_DATA_DIR, else $XDG_STATE_HOME/bastion, else ~/.local/state/bastion)',
    )
    .option(
      '--max-queued <n>',
      'with --database, tasks waiting for a worker at most; the next is answered 429 with Retry-After',
      parseIntOption('--max-queued'),
      10_000,
    )
    .option(
      '--worker-concurrency <n>',
      'with --database, also run up to n tasks in this process (default: --max-in-flight for pglite:, 0 for a PostgreSQL server)',
      parseIntOption('--worker-concurrency'),
    )
    .option(
      '--provenance-key <file>',
      "sign each task's result: its `provenance` field is the run's DSSE record (see bastion keys init)",
    )
    .action(async (opts: ServeOptions) => {
      const settings = ctx.settings({
        config: opts.config,
        flagsFile: opts.flagsFile,
        workspaceRoots: opts.workspaceRoot,
        tokenFile: opts.tokenFile,
      });
      const tokenFile = settings.tokenFile?.value;
      if (!tokenFile)
        return ctx.fail(
          new BastionError(
            'INVALID_INPUT',
            'bastion serve needs --token-file (or BASTION_TOKEN_FILE): the API never runs unauthenticated',
          ),
        );
      // Checked before anything starts: a forbidden or missing root is the operator's mistake.
      const workspaceAccess = await ctx.workspaceAccess('service');
      // So is a missing or unreadable provenance key: loaded now, used once the runtime runs.
      let exitGate: (() => ExitGate) | undefined;
      const provenance = await serviceSigner(opts.provenanceKey, () => exitGate!());
      // Loaded here, not at start-up: every other command would pay for fastify, prom-client,
      // OpenFeature and cockatiel on each run.
      const [
        { createMetrics },
        { createRuntimeRouter },
        { createService },
        { createDeferredRouter },
        { defaultBindings },
        { createOutputSanitizer },
      ] = await Promise.all([
        import('../../metrics/metrics'),
        import('../lazy/router'),
        import('../../service/service'),
        import('../../service/deferred-router'),
        import('../lazy/agents'),
        import('@bastion/security'),
      ]);
      const metrics = createMetrics({ processMetrics: true });
      const scrubber = createOutputSanitizer({});
      let started: { runtime: CliRuntime; flags: FlagService } | undefined;
      let poolGauge: NodeJS.Timeout | undefined;
      // The runtime (engine, reaper, pool) starts now if it can; without an engine the service
      // still listens, /readyz says why, and the first call after the engine is back starts it.
      const router = createDeferredRouter({
        providerIds: defaultBindings({ env: process.env }).map((b) => b.provider.id),
        clean: (text) => scrubber.sanitize(text).text,
        fix:
          opts.backend === 'bwrap'
            ? 'bastion doctor says what the bwrap backend is missing'
            : 'or serve with --backend bwrap (bastion doctor checks both backends)',
        start: async () => {
          // A long-lived service keeps warm containers ready: 2 per profile unless a provider's
          // FF_POOL_SIZE_<PROVIDER> flag, read at each call, says otherwise.
          const runtime = await ctx.runtime({
            policyFile: opts.policy,
            poolSize: 2,
            workspaceAccess,
            ...(opts.backend ? { backend: opts.backend } : {}),
            onReaped: (count) => metrics.addReapedContainers(count),
          });
          const flags = await ctx.flagService(runtime.audit);
          started = { runtime, flags };
          metrics.watchDailyUsage(runtime.dailyUsage);
          metrics.watchGatewayHealth(runtime.gatewayHealth);
          if (runtime.poolReady)
            poolGauge = setInterval(
              () => metrics.setPoolSize(runtime.pipeline.executor.backend, runtime.poolReady!()),
              1_000,
            ).unref();
          exitGate = () => runtime.pipeline.exitGate();
          // Calls follow FF_DEFAULT_BACKEND: the other backend's runtime starts on its first call.
          return createRuntimeRouter({
            runtime,
            flags,
            metrics,
            ...(provenance ? { provenance } : {}),
            pipelineFor: async (backend) => {
              if (backend === runtime.backend) return runtime.pipeline;
              const other = await ctx.runtimeOn(backend, { policyFile: opts.policy, poolSize: 2, workspaceAccess });
              // Its gateways are its own: count their failures too (watching twice is a no-op).
              metrics.watchGatewayHealth(other.gatewayHealth);
              return other.pipeline;
            },
          });
        },
      });
      await router.warmUp();
      // Durable tasks (issue 25): the ledger is opened before listening, so a wrong or unreachable
      // database is a typed start-up error, not a service that accepts what it cannot keep.
      // Without a server the default is the embedded store in the data directory, so an accepted
      // task survives a crash of this one process too (API and worker in one).
      let durable: Awaited<ReturnType<typeof import('./durable-serve').startDurableServe>>;
      try {
        const { startDurableServe } = await import('./durable-serve');
        const { embeddedDatabaseFor, resolveDataDir } = await import('../../tasks/default-data-dir');
        const database =
          opts.database ?? ctx.env.BASTION_DATABASE_URL ?? embeddedDatabaseFor(resolveDataDir(opts.dataDir, ctx.env));
        durable = await startDurableServe(ctx, {
          database,
          router,
          registry: metrics.registry,
          workerConcurrency: opts.workerConcurrency,
          maxInFlight: opts.maxInFlight,
          maxQueued: opts.maxQueued,
        });
      } catch (err) {
        return ctx.fail(BastionError.from(err, 'INVALID_INPUT'));
      }
      let service: Awaited<ReturnType<typeof createService>>;
      try {
        service = await createService({
          router,
          runtime: { close: async () => started?.runtime.close() },
          metrics,
          tokenFile,
          // The runtime's audit log once it started (service events before that have no call to belong to).
          audit: { record: (event) => started?.runtime.audit.record(event) },
          host: opts.host,
          port: opts.port,
          drainTimeoutMs: opts.drainTimeout,
          maxInFlight: opts.maxInFlight,
          durable: durable.service,
          readiness: engineReadiness(
            () => started?.runtime.pipeline.executor.backend ?? opts.backend ?? 'docker',
            () => router.problem,
          ),
          workspaceAccess,
          ...(opts.jsonLogs ? { jsonLogs: true } : {}),
        });
      } catch (err) {
        if (poolGauge) clearInterval(poolGauge);
        await durable.close(0);
        await durable.closeLedger();
        return ctx.fail(listenError(err, opts.host, opts.port));
      }
      ctx.io.stderr(
        `bastion serve: listening on ${service.url} (providers: ${router.providerIds.join(', ')}; workspace roots: ${workspaceAccess.roots?.join(', ') || 'none, tasks naming a workspace are refused'})\n`,
      );
      if (router.problem) ctx.io.stderr(`bastion serve: not ready: ${router.problem}\n`);
      // `bastion exec|run` on this host submit to this service as to `bastion daemon` (issue 26).
      const cliSocket = opts.cliSocket
        ? await startCliSocket(ctx, { policyFile: opts.policy, poolSize: 2, name: 'bastion serve' }, runNested)
        : undefined;

      // The CLI's own signal handler exits at once; a service must drain first, so it takes over
      // SIGTERM/SIGINT until it has closed, then hands them back.
      const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
      const inherited = signals.map((s) => [s, process.listeners(s)] as const);
      for (const [s, listeners] of inherited) for (const l of listeners) process.removeListener(s, l);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          ctx.io.stderr(`bastion serve: ${signal}: draining ${service.inFlight} call(s)\n`);
          // The worker finishes (or, past the drain timeout, gives back) its tasks first; what is
          // still queued stays in the ledger for the next start or another worker.
          void durable
            .close(opts.drainTimeout)
            .then(() => service.close())
            .finally(resolve);
        };
        for (const s of signals) process.once(s, stop);
      });
      await cliSocket?.close();
      for (const s of signals) process.removeAllListeners(s);
      for (const [s, listeners] of inherited) for (const l of listeners) process.on(s, l as NodeJS.SignalsListener);
      if (poolGauge) clearInterval(poolGauge);
      await durable.closeLedger();
      await started?.flags.close();
      ctx.setExitCode(0);
    });
  withHelp(serve, {
    example: 'bastion serve --token-file /etc/bastion/token --workspace-root /srv/checkouts --port 8787',
    exitCodes: [
      '0    drained and stopped after SIGTERM/SIGINT',
      EXIT_CODES.usage,
      '125  could not start: the port is in use (pick another with --port), the token file is unusable, a workspace root is forbidden, the data directory is used by another serve',
    ],
    env: {
      BASTION_TOKEN_FILE: 'the bearer token file when --token-file is not given',
      BASTION_DATABASE_URL: 'the task ledger when --database is not given',
      BASTION_DATA_DIR: "the embedded task store's directory when neither --database nor --data-dir is given",
      XDG_STATE_HOME: 'else the embedded task store is in $XDG_STATE_HOME/bastion (default ~/.local/state/bastion)',
      BASTION_BACKEND: 'sandbox backend when --backend is not given (docker or bwrap)',
      BASTION_WORKSPACE_ROOTS: 'workspace roots when no --workspace-root is given',
      DOCKER_HOST: 'the Docker engine (default unix:///var/run/docker.sock)',
      FF_DEFAULT_BACKEND: 'feature flag for the backend of each call (flags file, then environment)',
      FF_CURSOR_AUTOFIX: 'apply Cursor edits instead of returning them as diffs (read at each call)',
      ...COMMON_ENV,
    },
  });
}

/**
 * Ready when the runtime started and its engine answers (Docker ping); a daemonless backend is
 * ready once started. Not ready says why and what to do, for the operator reading /readyz.
 */
function engineReadiness(backend: () => string, problem: () => string | undefined): ReadinessCheck {
  const docker = dockerClient();
  const where =
    (docker.modem as { socketPath?: string; host?: string }).socketPath ??
    (docker.modem as { host?: string }).host ??
    'the Docker engine';
  return async () => {
    const notStarted = problem();
    if (notStarted) return { ready: false, reason: notStarted };
    if (backend() !== 'docker') return { ready: true };
    try {
      await docker.ping();
      return { ready: true };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'no answer';
      return {
        ready: false,
        reason: `docker engine unreachable at ${where} (${code}): start it (or set DOCKER_HOST), or serve with --backend bwrap`,
      };
    }
  };
}

/** A port that is taken (or not ours to take) is the operator's to change: say which option does it. */
export function listenError(err: unknown, host: string, port: number): BastionError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') {
    return new BastionError(
      'INVALID_INPUT',
      `port ${port} on ${host} is already in use (another bastion serve?): pick another with --port, e.g. --port ${port === 65535 ? 8788 : port + 1}, or --port 0 for any free one`,
    );
  }
  if (code === 'EACCES')
    return new BastionError(
      'INVALID_INPUT',
      `not allowed to listen on port ${port} of ${host}: ports below 1024 need privileges; pick another with --port`,
    );
  if (code === 'EADDRNOTAVAIL')
    return new BastionError(
      'INVALID_INPUT',
      `${host} is not an address of this machine: pick another with --host (127.0.0.1, 0.0.0.0, ::)`,
    );
  return BastionError.from(err, 'INTERNAL', `bastion serve could not listen on ${host}:${port}`);
}

function parsePort(value: string): number {
  const n = Number(value);
  // A usage error (exit 2), like every other malformed option.
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n > 65535)
    throw new InvalidArgumentError(`--port must be 0-65535 (0: any free port), got "${value}"`);
  return n;
}
