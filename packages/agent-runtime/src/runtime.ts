import type Dockerode from 'dockerode';
import { BastionError } from '@bastion/core';
import { createPolicyEngine, type PolicyEngine } from '@bastion/policy';
import { providerRegistry } from '@bastion/providers';
import { createOutputSanitizer, createSecretStore, type SecretStore } from '@bastion/security';
import { hostPathOptions } from './config/host-accounts';
import { createAuditLog, type AuditLog } from './audit/audit-log';
import { sanitizerSecrets } from './audit/live-sanitizer';
import type { Executor, CgroupLayout, EgressProvisioner } from '@bastion/sandbox';
import {
  createDockerExecutor,
  createWarmPoolExecutor,
  dockerClient,
  bwrapAvailability,
  createBwrapExecutor,
  reapExpired,
  startReaper,
  type StartedReaper,
  newSessionIdentity,
  type SessionIdentity,
} from '@bastion/sandbox';
import { createPipeline, type Pipeline } from './pipeline/pipeline';
import { createWorkspaceProvisioner } from './workspace/workspace-provisioner';
import { sweepStaleCopies } from './workspace/copy-filesystem';
import { guardWorkspaceProvisioner } from './workspace-access/guarded-provisioner';
import type { WorkspaceAccess } from './workspace-access/workspace-access';
import { DailyUsage, GatewayHealth, type GatewayProvisionerOptions } from '@bastion/gateway';

export interface RuntimeOptions {
  policy?: () => PolicyEngine;
  executor?: Executor;
  audit?: AuditLog;
  secrets?: SecretStore;
  egress?: EgressProvisioner;
  /** serve/mcp: each workspace is checked again right before it is mounted or copied (workspace-access/). */
  workspaceAccess?: Pick<WorkspaceAccess, 'admit'>;
  /** Model usage per tenant and provider per day (daily budgets); in memory, default one per runtime. */
  dailyUsage?: DailyUsage;
}

/** A runtime owns what it starts: close() removes every container and socket it made. */
export interface Runtime extends AsyncDisposable {
  readonly pipeline: Pipeline;
  readonly audit: AuditLog;
  readonly secrets: SecretStore;
  /** What each tenant used of each provider today: the daily budgets' account (in memory, or the command's task database when it has one). */
  readonly dailyUsage: DailyUsage;
  /** Failures of every egress gateway this runtime started (for /metrics); zero with a custom `egress`. */
  readonly gatewayHealth: GatewayHealth;
  close(): Promise<void>;
}

export function createRuntime(options: RuntimeOptions = {}): Runtime {
  const audit = options.audit ?? createAuditLog();
  // Every key a registered provider declares (upstream or sandbox secret), where the host holds it.
  const secrets = options.secrets ?? createSecretStore({ sources: { ...providerRegistry.secretSources } });
  const executor =
    options.executor ??
    createDockerExecutor({
      onCleanupError: (error, containerId) =>
        audit.record({ event: 'executor.cleanup_failed', correlationId: '-', containerId, error: error.toInfo() }),
    });
  // The policy's "*" stands for the registered providers, and a spec may name only a declared upstream.
  const defaultEngine = createPolicyEngine({
    providers: providerRegistry.ids,
    upstreams: providerRegistry.upstreams.map((u) => u.name),
  });
  const dailyUsage = options.dailyUsage ?? new DailyUsage();
  const gatewayHealth = new GatewayHealth();
  const pipeline = createPipeline({
    policy: options.policy ?? (() => defaultEngine),
    executor,
    sanitizer: (knownSecrets, customRules) =>
      createOutputSanitizer({
        knownSecrets: sanitizerSecrets(knownSecrets),
        customRules,
        hostPaths: hostPathOptions(),
      }),
    secrets,
    audit,
    workspace: options.workspaceAccess
      ? guardWorkspaceProvisioner(createWorkspaceProvisioner(), options.workspaceAccess)
      : createWorkspaceProvisioner(),
    egress:
      options.egress ?? lazyGatewayProvisioner({ secrets, logger: audit.logger, dailyUsage, health: gatewayHealth }),
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await executor.close();
      await audit.flush();
    })();
    return closing;
  };
  return { pipeline, audit, secrets, dailyUsage, gatewayHealth, close, [Symbol.asyncDispose]: close };
}

/**
 * The gateway provisioner, loaded by the first call that is granted egress: the gateway's modules
 * (proxy, CONNECT handling, robots.txt, metering) cost a one-shot `bastion exec` without network
 * ~10 ms of start-up (issue 26). One provisioner is made and kept, as before.
 */
function lazyGatewayProvisioner(options: GatewayProvisionerOptions): EgressProvisioner {
  let real: Promise<EgressProvisioner> | undefined;
  return {
    async attach(network, call) {
      real ??= import('@bastion/gateway').then((g) => g.createGatewayProvisioner(options));
      return (await real).attach(network, call);
    },
  };
}

export interface StartRuntimeOptions extends Omit<RuntimeOptions, 'executor'> {
  /** docker (default) or bwrap for hosts without a Docker engine. */
  backend?: 'docker' | 'bwrap';
  /** Warm containers kept per profile; 0 (default) runs every call on the cold path. */
  poolSize?: number;
  /** Start the watchdog that removes this session's sandboxes if the runtime dies (default true). */
  reaper?: boolean;
  /**
   * One-shot callers (a CLI exec): start the reaper's watchdog alongside the call instead of
   * waiting for its "ready" first; close() then reports a watchdog that never started. See
   * ReaperOptions.readyInBackground.
   */
  reaperReadyInBackground?: boolean;
  /**
   * bwrap: park the next call's launcher again after each call (default true). A one-shot caller
   * (a CLI exec) sets false, since it would end the spare unused. See BwrapExecutorOptions.keepParked.
   */
  keepLauncherParked?: boolean;
  /** Told how many expired leftovers of earlier runtimes were removed at start (metrics). */
  onReaped?: (count: number) => void;
}

/**
 * A runtime for a real process: picks the backend, reaps expired leftovers of earlier runtimes,
 * and starts the watchdog that removes this one's sandboxes even if it is SIGKILLed.
 */
export async function startRuntime(
  options: StartRuntimeOptions = {},
): Promise<Runtime & { readonly backend: 'docker' | 'bwrap'; readonly poolReady?: () => number }> {
  const audit = options.audit ?? createAuditLog();
  const onCleanupError = (error: BastionError, id: string) =>
    audit.record({ event: 'executor.cleanup_failed', correlationId: '-', sandboxId: id, error: error.toInfo() });
  const backend = options.backend ?? 'docker';
  let executor: Executor & { readonly identity: SessionIdentity };
  let docker: Dockerode | undefined;
  let cgroups: CgroupLayout | null = null;
  let tmpfsRoot: string | null = null;
  let prestart: (() => void) | undefined;
  if (backend === 'bwrap') {
    const available = bwrapAvailability();
    if (!available.ok)
      throw new BastionError('SANDBOX_UNAVAILABLE', `the bwrap backend is not usable here: ${available.reason}`);
    // The layout the check just detected: reading /proc again would find the same.
    const bwrap = createBwrapExecutor({
      onCleanupError,
      cgroups: available.layout,
      keepParked: options.keepLauncherParked ?? true,
    });
    cgroups = bwrap.cgroups;
    tmpfsRoot = bwrap.tmpfsRoot;
    prestart = bwrap.prestart;
    executor = bwrap;
  } else {
    docker = dockerClient();
    const identity = newSessionIdentity();
    executor =
      (options.poolSize ?? 0) > 0
        ? Object.assign(createWarmPoolExecutor({ docker, identity, size: options.poolSize, onCleanupError }), {
            identity,
          })
        : createDockerExecutor({ docker, identity, onCleanupError });
  }
  let reaper: StartedReaper | undefined;
  if (options.reaper ?? true) {
    try {
      // Three independent chores, started together so that a one-shot CLI call waits for the
      // slowest (the watchdog's start, a process of its own) rather than for their sum (issue 26).
      const [swept, reaped, watchdog] = await Promise.allSettled([
        sweepStaleCopies(), // workspace copies (and their filesystems) of a killed runtime
        reapExpired({ ...(docker ? { docker } : {}), cgroups, tmpfsRoot }),
        startReaper({
          ...(docker ? { docker } : {}),
          sessionId: executor.identity.sessionId,
          cgroups,
          tmpfsRoot,
          readyInBackground: options.reaperReadyInBackground ?? false,
        }),
      ]);
      if (watchdog.status === 'fulfilled') reaper = watchdog.value;
      for (const r of [swept, reaped, watchdog]) {
        if (r.status === 'rejected') {
          await reaper?.close();
          throw r.reason;
        }
      }
      const report = (reaped as PromiseFulfilledResult<Awaited<ReturnType<typeof reapExpired>>>).value;
      const removed = report.containers.length + report.cgroups.length + report.tmpfs.length;
      options.onReaped?.(removed);
      if (removed > 0) {
        audit.record({
          event: 'reaper.expired_removed',
          correlationId: '-',
          containers: report.containers.length,
          cgroups: report.cgroups.length,
          tmpfs: report.tmpfs.length,
        });
      }
    } catch (err) {
      throw BastionError.from(err, 'SANDBOX_UNAVAILABLE', `could not start the reaper: ${(err as Error).message}`);
    }
  }
  // With the watchdog in place (it removes a parked launcher's group like a call's): the first
  // call's cgroup join and mount helper start now, overlapping the runtime's own start (issue 26).
  prestart?.();
  const runtime = createRuntime({ ...options, audit, executor });
  const close = async () => {
    await runtime.close();
    await reaper?.close();
  };
  const poolStats =
    'stats' in executor && typeof executor.stats === 'function'
      ? () => (executor as { stats(): { ready: number } }).stats().ready
      : undefined;
  return { ...runtime, backend, ...(poolStats ? { poolReady: poolStats } : {}), close, [Symbol.asyncDispose]: close };
}
