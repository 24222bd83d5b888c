import type { Command } from 'commander';
import Dockerode from 'dockerode';
import { BastionError } from '@bastion/core';
import type { ReadinessCheck } from '../../service/service';
import type { CliContext } from '../cli-context';
import { parseIntOption } from './exec-command';
import { collectOption } from './collect-option';

interface ServeOptions {
  port: number;
  host: string;
  tokenFile?: string;
  jsonLogs?: boolean;
  policy?: string;
  flagsFile?: string;
  config?: string;
  workspaceRoot: string[];
  drainTimeout: number;
}

export function registerServe(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('HTTP API: POST /v1/tasks, /v1/tasks/stream (SSE), GET /v1/tasks/:id, /healthz, /readyz, /metrics')
    .option('--port <port>', 'TCP port', parsePort, 8787)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--token-file <file>', 'file holding the bearer token (default: $BASTION_TOKEN_FILE); required')
    .option('--json-logs', 'log every request as a JSON line on stderr')
    .option('--policy <file>', 'policy file (default: the embedded policy)')
    .option('--flags-file <file>', 'flags file that overrides FF_* variables (default: $BASTION_FLAGS_FILE; never one in the working directory)')
    .option('--config <file>', 'config file (default: $BASTION_CONFIG, else $XDG_CONFIG_HOME/bastion/config.yaml or /etc/bastion/config.yaml)')
    .option('--workspace-root <dir>', 'accept workspaces only below this directory (repeatable); without any root, a task naming a workspace is refused', collectOption, [])
    .option('--drain-timeout <ms>', 'on SIGTERM, wait this long for calls in flight before aborting them', parseIntOption('--drain-timeout'), 30_000)
    .action(async (opts: ServeOptions) => {
      const settings = ctx.settings({ config: opts.config, flagsFile: opts.flagsFile, workspaceRoots: opts.workspaceRoot, tokenFile: opts.tokenFile });
      const tokenFile = settings.tokenFile?.value;
      if (!tokenFile) return ctx.fail(new BastionError('INVALID_INPUT', 'bastion serve needs --token-file (or BASTION_TOKEN_FILE): the API never runs unauthenticated'));
      // Checked before anything starts: a forbidden or missing root is the operator's mistake.
      const workspaceAccess = await ctx.workspaceAccess('service');
      // A long-lived service keeps warm containers ready: 2 per profile unless a provider's
      // FF_POOL_SIZE_<PROVIDER> flag, read at each call, says otherwise.
      let reapedAtStart = 0;
      const runtime = await ctx.runtime({
        policyFile: opts.policy,
        poolSize: 2,
        workspaceAccess,
        onReaped: (count) => {
          reapedAtStart = count;
        },
      });
      // Loaded here, not at start-up: every other command would pay for fastify, prom-client,
      // OpenFeature and cockatiel on each run.
      const [{ createMetrics }, { createRuntimeRouter }, { createService }] = await Promise.all([
        import('../../metrics/metrics'),
        import('../../router/runtime-router'),
        import('../../service/service'),
      ]);
      const flags = await ctx.flagService(runtime.audit);
      const metrics = createMetrics({ processMetrics: true });
      metrics.addReapedContainers(reapedAtStart);
      const poolGauge = runtime.poolReady
        ? setInterval(() => metrics.setPoolSize(runtime.pipeline.executor.backend, runtime.poolReady!()), 1_000).unref()
        : undefined;
      // Calls follow FF_DEFAULT_BACKEND: the other backend's runtime starts on its first call.
      const router = createRuntimeRouter({
        runtime,
        flags,
        metrics,
        pipelineFor: async (backend) => (backend === runtime.backend ? runtime : await ctx.runtimeOn(backend, { policyFile: opts.policy, poolSize: 2, workspaceAccess })).pipeline,
      });
      const service = await createService({
        router,
        runtime,
        flags,
        metrics,
        tokenFile,
        audit: runtime.audit,
        host: opts.host,
        port: opts.port,
        drainTimeoutMs: opts.drainTimeout,
        readiness: engineReadiness(runtime.pipeline.executor.backend),
        workspaceAccess,
        ...(opts.jsonLogs ? { jsonLogs: true } : {}),
      });
      ctx.io.stderr(`bastion serve: listening on ${service.url} (providers: ${router.providerIds.join(", ")}; workspace roots: ${workspaceAccess.roots?.join(', ') || 'none, tasks naming a workspace are refused'})\n`);

      // The CLI's own signal handler exits at once; a service must drain first, so it takes over
      // SIGTERM/SIGINT until it has closed, then hands them back.
      const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
      const inherited = signals.map((s) => [s, process.listeners(s)] as const);
      for (const [s, listeners] of inherited) for (const l of listeners) process.removeListener(s, l);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          ctx.io.stderr(`bastion serve: ${signal}: draining ${service.inFlight} call(s)\n`);
          void service.close().finally(resolve);
        };
        for (const s of signals) process.once(s, stop);
      });
      for (const s of signals) process.removeAllListeners(s);
      for (const [s, listeners] of inherited) for (const l of listeners) process.on(s, l as NodeJS.SignalsListener);
      if (poolGauge) clearInterval(poolGauge);
      await flags.close();
      ctx.setExitCode(0);
    });
}

/** Ready when the sandbox engine answers (Docker ping); the daemonless backends are always ready. */
function engineReadiness(backend: string): ReadinessCheck {
  if (backend !== 'docker') return async () => ({ ready: true });
  const docker = new Dockerode();
  return async () => {
    try {
      await docker.ping();
      return { ready: true };
    } catch (err) {
      return { ready: false, reason: `docker engine unreachable (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
    }
  };
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new BastionError('INVALID_INPUT', `--port must be 0-65535, got "${value}"`);
  return n;
}
