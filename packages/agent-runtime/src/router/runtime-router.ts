import type { FlagService } from '../flags/flag-service';
import type { Metrics } from '../metrics/metrics';
import type { AgentCallOptions } from '../pipeline/agent-call';
import type { Runtime } from '../runtime';
import { WORKSPACE_MOUNT } from '../workspace/workspace-provisioner';
import { createAgentRunner } from '../agents/agent-runner';
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
  metrics?: Metrics;
  config?: RouterConfigInput;
}

export const DEFAULT_PLAN_CONTEXT: AgentCallOptions['planContext'] = {
  workspaceMountPath: WORKSPACE_MOUNT,
  images: { sandbox: 'bastion/sandbox:latest', geminiCli: 'bastion/gemini-cli:latest' },
  gatewayUrl: process.env.BASTION_GATEWAY_URL ?? 'http://bastion-gateway.invalid',
  maxArgBytes: 64 * 1024,
};

/**
 * The usual wiring: a router over the runtime's providers, each call one AgentRunner.run (the
 * binding prepares — resolves an agent, reads FF_CURSOR_AUTOFIX at call time — the provider plans,
 * policy → executor → sanitizer, the provider parses), gated by the FF_PROVIDER_* flags.
 */
export function createRuntimeRouter(options: RuntimeRouterOptions): Router {
  const bindings = options.bindings ?? defaultBindings({ env: options.env ?? process.env, flags: options.flags, audit: options.runtime.audit });
  const runner = createAgentRunner({ pipeline: options.runtime.pipeline, bindings });
  return createRouter({
    providers: bindings.map((b) => b.provider),
    audit: options.runtime.audit,
    gate: options.flags.gate,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.config ? { config: options.config } : {}),
    call: (providerId, task, call) =>
      runner.run(providerId, task, {
        correlationId: call.correlationId,
        ...(call.signal ? { signal: call.signal } : {}),
        ...(call.onOutput ? { onOutput: call.onOutput } : {}),
      }),
  });
}
