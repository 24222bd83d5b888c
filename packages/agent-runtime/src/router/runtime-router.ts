import type { FlagService } from '../flags/flag-service';
import type { RouterMetrics } from './router-metrics';
import type { Pipeline } from '../pipeline/pipeline';
import type { RunFacts } from '../pipeline/run-facts';
import type { AgentResult } from '@bastion/providers';
import type { Runtime } from '../runtime';
import { createAgentRunner, type AgentRunner } from '../agents/agent-runner';
import { defaultBindings } from '../agents/default-bindings';
import type { ProviderBinding } from '../agents/provider-binding';
import { createRouter, type Router } from './router';
import type { RouterConfigInput } from './router-config';

export interface RuntimeRouterOptions {
  runtime: Pick<Runtime, 'pipeline' | 'audit'>;
  flags: FlagService;
  /** The providers as the runtime runs them; default: defaultBindings() with these flags and audit. */
  bindings?: readonly ProviderBinding[];
  /** Host environment the default bindings read (agent paths, keys); default process.env. */
  env?: NodeJS.ProcessEnv;
  metrics?: RouterMetrics;
  config?: RouterConfigInput;
  /**
   * The pipeline of each sandbox backend, started on first use. When given, every call reads
   * FF_DEFAULT_BACKEND and runs on that backend's pipeline, so ops can move a running service
   * between docker and bwrap; a backend that cannot start fails the call SANDBOX_UNAVAILABLE.
   * Absent: every call runs on `runtime.pipeline`.
   */
  pipelineFor?: (backend: 'docker' | 'bwrap') => Promise<Pipeline>;
  /** Signs each call's provenance record; the envelope becomes the result's `provenance` (serve/mcp --provenance-key). */
  provenance?: (result: AgentResult, facts: RunFacts) => Promise<NonNullable<AgentResult['provenance']>>;
}

/**
 * The usual wiring: a router over the runtime's providers, each call one AgentRunner.run (the
 * binding prepares — resolves an agent, reads FF_CURSOR_AUTOFIX at call time — the provider plans,
 * policy → executor → sanitizer, the provider parses), gated by the FF_PROVIDER_* flags. Each call
 * also reads FF_POOL_SIZE_<PROVIDER>, so ops can grow, shrink or empty a provider's warm pool on a
 * running service; the change applies from that provider's next call. With `pipelineFor`, the
 * backend follows FF_DEFAULT_BACKEND the same way.
 */
export function createRuntimeRouter(options: RuntimeRouterOptions): Router {
  const bindings =
    options.bindings ??
    defaultBindings({ env: options.env ?? process.env, flags: options.flags, audit: options.runtime.audit });
  const fixed = createAgentRunner({ pipeline: options.runtime.pipeline, bindings });
  const runners = new Map<string, Promise<AgentRunner>>();
  const runnerFor = async (correlationId: string): Promise<AgentRunner> => {
    const { pipelineFor } = options;
    if (!pipelineFor) return fixed;
    const backend = await options.flags.defaultBackend({ correlationId });
    let runner = runners.get(backend);
    if (!runner) {
      runner = pipelineFor(backend).then((pipeline) => createAgentRunner({ pipeline, bindings }));
      runners.set(backend, runner);
      // A backend that failed to start is tried again by the next call, not remembered as broken.
      runner.catch(() => runners.delete(backend));
    }
    return runner;
  };
  const router = createRouter({
    providers: bindings.map((b) => b.provider),
    audit: options.runtime.audit,
    gate: options.flags.gate,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.config ? { config: options.config } : {}),
    call: async (providerId, task, call) => {
      let facts: RunFacts | undefined;
      const callerFacts = call.hooks?.onRunFacts;
      const result = await (
        await runnerFor(call.correlationId)
      ).run(providerId, task, {
        correlationId: call.correlationId,
        poolSize: await options.flags.poolSize(providerId, { correlationId: call.correlationId }),
        ...(call.signal ? { signal: call.signal } : {}),
        ...(call.onOutput ? { onOutput: call.onOutput } : {}),
        ...(call.hooks?.onPhase ? { onPhase: call.hooks.onPhase } : {}),
        ...(options.provenance || callerFacts
          ? {
              onRunFacts: (f: RunFacts) => {
                facts = f;
                callerFacts?.(f);
              },
            }
          : {}),
      });
      return options.provenance && facts ? { ...result, provenance: await options.provenance(result, facts) } : result;
    },
  });
  // Each attempt already left through its call's exit gate; the router adds text of its own (skip
  // details, fallback summaries, errors it caught), so the routed result passes the gate once more.
  return {
    route: async (task, routeOptions) =>
      options.runtime.pipeline.exitGate().agentResult(await router.route(task, routeOptions)),
    health: () => router.health(),
    get providerIds() {
      return router.providerIds;
    },
  };
}
