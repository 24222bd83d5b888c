import { BastionError } from '@bastion/core';
import type { PolicyEngine, PolicyStore } from '@bastion/policy';
import type { AuditLog, Runtime, Router, FlagService } from '@bastion/agent-runtime';
import type { DailyUsage, DailyUsageStore } from '@bastion/gateway';
import {
  loadSettings,
  type CommandLineSettings,
  type Settings,
  createWorkspaceAccess,
  type WorkspaceAccess,
} from '@bastion/agent-runtime';
import { describeError, printJson, type Io } from './output';

export type Backend = 'docker' | 'bwrap';
export type CliRuntime = Runtime & { readonly backend: Backend; readonly poolReady?: () => number };

export interface CliContext {
  readonly io: Io;
  /** The environment as read at the edge (the daemon hands its own to each request's context). */
  readonly env: NodeJS.ProcessEnv;
  /** What `--stdin` feeds the command: this process's standard input, or the daemon client's. */
  readonly stdin: AsyncIterable<Uint8Array>;
  /** Aborted when whoever asked for the call is gone (a daemon's client disconnected). */
  readonly signal?: AbortSignal;
  /**
   * The command's host settings: its options, then an explicit config file, the environment, a
   * system config file, defaults. Read once, on the first call (one command per process); the
   * working directory is never searched for files.
   */
  settings(commandLine?: CommandLineSettings): Settings;
  /**
   * Who may name which workspace. `local` (run, exec): any directory that is not forbidden,
   * relative paths against the working directory. `service` (serve, mcp): only below the
   * configured roots, never root-owned.
   */
  workspaceAccess(kind: 'local' | 'service'): Promise<WorkspaceAccess>;
  /** A flag service over the settings' flags files (explicit above the environment, system below). */
  flagService(audit?: AuditLog): Promise<FlagService>;
  /** The command's runtime, on --backend, else FF_DEFAULT_BACKEND (flags file, then env), else $BASTION_BACKEND, else docker. */
  runtime(options: RuntimeChoice): Promise<CliRuntime>;
  /** A runtime on this backend, sharing the first runtime's policy and audit log; started once per backend. */
  runtimeOn(backend: Backend, options: RuntimeChoice): Promise<CliRuntime>;
  /** The production router over the registered providers on this command's runtime (`run` routes its one call through it). */
  router(options: RuntimeChoice & { agentPath?: string }): Promise<Router>;
  /**
   * The daily budgets of every runtime of this command (both backends) count in this store from
   * the next call on: the command's task database, opened after its runtime may have started.
   */
  useDailyUsageStore(store: DailyUsageStore): void;
  fail(error: BastionError, json?: boolean): void;
  setExitCode(code: number): void;
  /** Closes whatever the command started (containers, sockets). Idempotent. */
  close(): Promise<void>;
}

export interface RuntimeChoice {
  policyFile?: string;
  backend?: string;
  /** Warm containers per profile (long-lived commands such as serve); 0 for one-shot calls. */
  poolSize?: number;
  onReaped?: (count: number) => void;
  /** serve/mcp: the runtime checks each workspace again when it attaches it. */
  workspaceAccess?: WorkspaceAccess;
  /** One call, then exit (exec in this process, run): the reaper's watchdog starts alongside the call, and no bwrap launcher is parked again after it. */
  oneShot?: boolean;
}

/** Where the context looks; tests point these at temporary directories. */
export interface CliLocations {
  readonly cwd?: string;
  /** Default: $XDG_CONFIG_HOME/bastion, then /etc/bastion. */
  readonly systemDirs?: readonly string[];
  /** Default: process.stdin. */
  readonly stdin?: AsyncIterable<Uint8Array>;
  readonly signal?: AbortSignal;
  /**
   * A daemon's long-lived runtimes (warm pool, its policy and audit log), used for calls that name
   * no policy file of their own. This context never closes them; their owner does.
   */
  readonly sharedRuntime?: (backend: Backend) => Promise<CliRuntime>;
}

export function createCliContext(
  io: Io,
  env: NodeJS.ProcessEnv,
  setExitCode: (code: number) => void,
  locations: CliLocations = {},
): CliContext {
  const cwd = locations.cwd ?? process.cwd();
  let first: CliRuntime | undefined;
  let settings: Settings | undefined;
  const flagServices: FlagService[] = [];
  const runtimes = new Map<Backend, Promise<CliRuntime>>();
  // One daily account book for all runtimes of this command, so docker and bwrap spend one budget.
  let dailyUsage: DailyUsage | undefined;
  let dailyStore: DailyUsageStore | undefined;
  let shared: Promise<{ policyStore: PolicyStore; audit: AuditLog; policy: () => PolicyEngine }> | undefined;

  // The first caller's command line wins: one command per process, read once.
  const currentSettings = (commandLine: CommandLineSettings = {}): Settings =>
    (settings ??= loadSettings({
      commandLine,
      env,
      cwd,
      ...(locations.systemDirs ? { systemDirs: locations.systemDirs } : {}),
    }));

  // One policy store and audit log for every runtime of this command.
  const sharedPieces = (policyFile: string | undefined) =>
    (shared ??= (async () => {
      // Loaded on use, like the runtime below: commands that run nothing in a sandbox (policy
      // check, sanitize, flags, --version) do not pay for pino, the policy store or dockerode.
      const [{ createAuditLog }, { createPolicyEngine, createPolicyStore }, { providerRegistry }] = await Promise.all([
        import('./lazy/audit'),
        import('./lazy/policy'),
        import('./lazy/providers'),
      ]);
      // The policy's "*" stands for the registered providers, and a spec may name only a declared upstream.
      const scope = { providers: providerRegistry.ids, upstreams: providerRegistry.upstreams.map((u) => u.name) };
      const audit = createAuditLog(currentSettings().audit);
      // The ops knobs only ever tighten (SANDBOX_ENABLED=false is refused here); a watched file's
      // valid edits apply to the next call, an invalid edit is reported and the last policy stays.
      const policyStore = await createPolicyStore({
        ...(policyFile ? { path: policyFile } : {}),
        env,
        onReload: () => audit.record({ event: 'policy.reloaded', correlationId: '-', file: policyFile }),
        onError: (error) =>
          audit.logger.warn(
            { event: 'policy.reload_rejected', correlationId: '-', file: policyFile, error: error.toInfo() },
            'policy.reload_rejected',
          ),
      });
      let engine = createPolicyEngine({ policy: policyStore.current(), ...scope });
      const policy = () => {
        const current = policyStore.current();
        if (engine.policy !== current) engine = createPolicyEngine({ policy: current, ...scope });
        return engine;
      };
      return { policyStore, audit, policy };
    })());

  return {
    io,
    env,
    stdin: locations.stdin ?? process.stdin,
    ...(locations.signal ? { signal: locations.signal } : {}),
    setExitCode,
    settings: currentSettings,
    workspaceAccess(kind) {
      const s = this.settings();
      if (kind === 'local') return createWorkspaceAccess({ roots: null, cwd, state: s.state });
      return createWorkspaceAccess({ roots: s.workspaceRoots?.value ?? [], refuseRootOwned: true, state: s.state });
    },
    async flagService(audit) {
      const s = this.settings();
      // Loaded on use: OpenFeature is not a start-up cost of every command.
      const { createFlagService } = await import('./lazy/flags');
      const service = createFlagService({
        env,
        ...(s.flagsFile ? { flagsFile: s.flagsFile.value } : {}),
        ...(s.systemFlagsFile ? { systemFlagsFile: s.systemFlagsFile } : {}),
        ...(audit ? { audit } : {}),
      });
      flagServices.push(service);
      return service;
    },
    async runtime(choice) {
      if (first) return first;
      const chosen =
        choice.backend ?? (await flaggedBackend(env, this.settings())) ?? this.settings().backend?.value ?? 'docker';
      if (chosen !== 'docker' && chosen !== 'bwrap')
        throw new BastionError('INVALID_INPUT', `--backend must be docker or bwrap, got "${chosen}"`);
      first = await this.runtimeOn(chosen, choice);
      return first;
    },
    runtimeOn(backend, { policyFile, poolSize, onReaped, workspaceAccess, oneShot }) {
      if (poolSize !== undefined && (!Number.isInteger(poolSize) || poolSize < 0)) {
        return Promise.reject(
          new BastionError('INVALID_INPUT', `pool size must be a whole number ≥ 0, got ${poolSize}`),
        );
      }
      if (locations.sharedRuntime && policyFile === undefined) return locations.sharedRuntime(backend);
      let started = runtimes.get(backend);
      if (!started) {
        started = (async () => {
          const [{ audit, policy }, { startRuntime, DailyUsage }] = await Promise.all([
            sharedPieces(policyFile),
            import('./lazy/runtime'),
          ]);
          dailyUsage ??= new DailyUsage({
            store: {
              current: () => dailyStore,
              onError: (error) =>
                audit.logger.warn(
                  { event: 'budget.daily_store_failed', correlationId: '-', error: error.toInfo() },
                  'budget.daily_store_failed',
                ),
            },
          });
          return startRuntime({
            dailyUsage,
            backend,
            ...(poolSize ? { poolSize } : {}),
            ...(onReaped ? { onReaped } : {}),
            ...(workspaceAccess ? { workspaceAccess } : {}),
            ...(oneShot ? { reaperReadyInBackground: true, keepLauncherParked: false } : {}),
            policy,
            audit,
          });
        })();
        runtimes.set(backend, started);
        // A backend that could not start (no bwrap, no engine) is tried again next time.
        started.catch(() => runtimes.delete(backend));
      }
      return started;
    },
    async router({ policyFile, backend, agentPath: given, oneShot }) {
      const rt = await this.runtime({ policyFile, backend, ...(oneShot ? { oneShot } : {}) });
      // --agent-path, an explicit config file, BASTION_CURSOR_AGENT, a system config file (the
      // settings' precedence); the binding falls back to cursor-agent on PATH.
      const agentPath = given ?? this.settings().cursorAgentPath?.value;
      // Provider switches and each provider's autofix flag (FF_CURSOR_AUTOFIX, …) are read at call
      // time from the settings' flags files, never from a bastion-flags.yaml in the repository
      // being worked on.
      const flags = await this.flagService(rt.audit);
      const [{ createRuntimeRouter }, { defaultBindings }] = await Promise.all([
        import('./lazy/router'),
        import('./lazy/agents'),
      ]);
      return createRuntimeRouter({
        runtime: rt,
        flags,
        // The configured agent path belongs to cursor, the provider whose host binary it names.
        bindings: defaultBindings({
          env,
          audit: rt.audit,
          flags,
          ...(agentPath ? { agentPaths: { cursor: agentPath } } : {}),
        }),
        // One call for a caller who named its provider and waits for it: no retries, no waiting out
        // a 429 (the result says when to retry), and no router deadline shorter than the policy's
        // longest timeout, which is what bounds the sandbox.
        config: {
          deadlineMs: 3_600_000,
          defaults: { retry: { maxAttempts: 0 }, onRateLimited: 'fallback', cooldownMs: 0 },
        },
      });
    },
    useDailyUsageStore(store) {
      dailyStore = store;
    },
    fail(error, json) {
      // One small document: written whole before the exit, which waits for stdout to flush (bin.ts).
      if (json) void printJson(io, { status: 'failed', error: error.toInfo() });
      else io.stderr(describeError(error.toInfo()));
      setExitCode(125);
    },
    async close() {
      await Promise.allSettled(flagServices.splice(0).map((f) => f.close()));
      const all = await Promise.allSettled([...runtimes.values()]);
      for (const r of all) if (r.status === 'fulfilled') await r.value.close();
      if (shared) (await shared.catch(() => undefined))?.policyStore.close();
    },
  };
}

/**
 * FF_DEFAULT_BACKEND when a flags file of the settings or the environment sets it. The flag
 * service (and OpenFeature with it) is loaded only then, so one-shot commands do not pay for it otherwise.
 */
export async function flaggedBackend(
  env: NodeJS.ProcessEnv,
  settings: Pick<Settings, 'flagsFile' | 'systemFlagsFile'>,
): Promise<Backend | undefined> {
  if (env.FF_DEFAULT_BACKEND === undefined && !settings.flagsFile && !settings.systemFlagsFile) return undefined;
  const { createFlagService } = await import('./lazy/flags');
  const flags: FlagService = createFlagService({
    env,
    ...(settings.flagsFile ? { flagsFile: settings.flagsFile.value } : {}),
    ...(settings.systemFlagsFile ? { systemFlagsFile: settings.systemFlagsFile } : {}),
  });
  try {
    const evaluation = await flags.evaluate('FF_DEFAULT_BACKEND');
    if (evaluation.source === 'default' || evaluation.unparseable) return undefined;
    return evaluation.value === 'bwrap' ? 'bwrap' : 'docker';
  } finally {
    await flags.close();
  }
}
