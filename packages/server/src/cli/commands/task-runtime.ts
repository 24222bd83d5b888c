import { BastionError } from '@bastion/core';
import { notRunResult } from '@bastion/providers';
import type { AuditEvent, Router, WorkspaceAccess, FlagService } from '@bastion/agent-runtime';
import type { Backend, CliContext, CliRuntime } from '../cli-context';

export interface TaskRuntime {
  readonly router: Pick<Router, 'route' | 'health'>;
  audit(event: AuditEvent): void;
  close(): Promise<void>;
}

/**
 * The runtime a worker runs tasks on. Its start failing (engine down) does not stop the worker:
 * each task tries to start it again and fails SANDBOX_UNAVAILABLE (retryable) while it cannot.
 */
export async function startTaskRuntime(
  ctx: CliContext,
  o: { policyFile?: string; backend?: string; workspaceAccess: WorkspaceAccess },
): Promise<TaskRuntime> {
  const { createRuntimeRouter } = await import('../lazy/router');
  const { createMetrics } = await import('../../metrics/metrics');
  const metrics = createMetrics({});
  let started: Promise<{ runtime: CliRuntime; flags: FlagService; router: Router }> | undefined;
  let current: { runtime: CliRuntime; flags: FlagService; router: Router } | undefined;
  const start = () =>
    (started ??= (async () => {
      const runtime = await ctx.runtime({
        policyFile: o.policyFile,
        poolSize: 2,
        workspaceAccess: o.workspaceAccess,
        ...(o.backend ? { backend: o.backend as Backend } : {}),
      });
      const flags = await ctx.flagService(runtime.audit);
      const router = createRuntimeRouter({
        runtime,
        flags,
        metrics,
        pipelineFor: async (backend) =>
          (backend === runtime.backend
            ? runtime
            : await ctx.runtimeOn(backend, {
                policyFile: o.policyFile,
                poolSize: 2,
                workspaceAccess: o.workspaceAccess,
              })
          ).pipeline,
      });
      current = { runtime, flags, router };
      return current;
    })().catch((err: unknown) => {
      started = undefined;
      throw err;
    }));
  // Started now, not at the first task: the runtime's start reaps what a crashed worker on this
  // host left (containers, copies, gateway directories). An engine that is down is not fatal.
  void start().catch((err: unknown) =>
    ctx.io.stderr(
      `bastion worker: the sandbox runtime did not start (${(err as Error).message}); each task tries again\n`,
    ),
  );
  return {
    router: {
      route: async (task, options) => {
        let runtime;
        try {
          runtime = await start();
        } catch (err) {
          // Retryable: the task fails this run and the caller (or a later submit) tries again.
          return notRunResult({
            provider: options?.provider ?? 'none',
            correlationId: options?.correlationId ?? '-',
            error: BastionError.from(err, 'SANDBOX_UNAVAILABLE').toInfo(),
          });
        }
        return runtime.router.route(task, options);
      },
      // Nothing to report before the runtime started: the worker then claims up to --concurrency.
      health: () => current?.router.health() ?? [],
    },
    // Before the runtime (and its audit log) started, problems go to stderr as JSON lines.
    audit: (event) => (current ? current.runtime.audit.record(event) : ctx.io.stderr(`${JSON.stringify(event)}\n`)),
    async close() {
      const s = await started?.catch(() => undefined);
      await s?.flags.close();
      await s?.runtime.close();
    },
  };
}
