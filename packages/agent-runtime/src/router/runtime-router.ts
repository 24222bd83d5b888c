import * as providersPackage from '@bastion/providers';
import type { AgentProvider } from '@bastion/providers';
import type { FlagService } from '../flags/flag-service';
import type { Metrics } from '../metrics/metrics';
import type { ChangeHandler, AgentCallOptions } from '../pipeline/agent-call';
import type { Runtime } from '../runtime';
import { WORKSPACE_MOUNT } from '../workspace/workspace-provisioner';
import { createPipelineCall } from './pipeline-call';
import { createRouter, type Router } from './router';
import type { RouterConfigInput } from './router-config';

export interface RuntimeRouterOptions {
  runtime: Pick<Runtime, 'pipeline' | 'audit'>;
  providers: readonly AgentProvider[];
  flags: FlagService;
  metrics?: Metrics;
  config?: RouterConfigInput;
  planContext?: Partial<AgentCallOptions['planContext']>;
  changes?: ChangeHandler;
}

export const DEFAULT_PLAN_CONTEXT: AgentCallOptions['planContext'] = {
  workspaceMountPath: WORKSPACE_MOUNT,
  images: { sandbox: 'bastion/sandbox:latest', geminiCli: 'bastion/gemini-cli:latest' },
  gatewayUrl: process.env.BASTION_GATEWAY_URL ?? 'http://bastion-gateway.invalid',
  maxArgBytes: 64 * 1024,
};

/**
 * The usual wiring: a router over the runtime's pipeline, gated by the FF_PROVIDER_* flags, with
 * FF_CURSOR_AUTOFIX deciding dry-run vs apply per call, counting into `metrics`.
 */
export function createRuntimeRouter(options: RuntimeRouterOptions): Router {
  return createRouter({
    providers: options.providers,
    audit: options.runtime.audit,
    gate: options.flags.gate,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.config ? { config: options.config } : {}),
    call: createPipelineCall({
      pipeline: options.runtime.pipeline,
      providers: options.providers,
      flags: options.flags,
      planContext: { ...DEFAULT_PLAN_CONTEXT, ...options.planContext },
      ...(options.changes ? { changes: options.changes } : {}),
    }),
  });
}

const FACTORIES = ['createGeminiCliProvider', 'createCursorProvider'] as const;

/**
 * The providers @bastion/providers exports factories for (gemini-cli, cursor), created with their
 * defaults. Looked up by name so the runtime builds while a provider is still being written.
 */
export function discoverProviders(): AgentProvider[] {
  const pkg = providersPackage as unknown as Record<string, unknown>;
  const found: AgentProvider[] = [];
  for (const name of FACTORIES) {
    const factory = pkg[name];
    if (typeof factory === 'function') found.push((factory as () => AgentProvider)());
  }
  return found;
}
