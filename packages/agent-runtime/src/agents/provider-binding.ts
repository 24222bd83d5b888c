import type { AgentProvider, AgentTask, PlanContext, ResultMode } from '@bastion/providers';
import type { ChangeHandler } from '../pipeline/agent-call';

/** What the runtime decides for one call of a provider before it plans: facts and hooks, no handles for the provider. */
export interface CallPreparation {
  readonly mode: ResultMode;
  readonly agentInstall?: PlanContext['agentInstall'];
  readonly changes?: ChangeHandler;
}

/**
 * A provider as the runtime runs it: the pure provider plus the runtime-side preparation that
 * needs the host (resolving an agent binary, reading flags, copying and diffing workspaces).
 */
export interface ProviderBinding {
  readonly provider: AgentProvider;
  prepare(task: AgentTask, call: { correlationId: string }): Promise<CallPreparation>;
}

export function readOnlyBinding(provider: AgentProvider): ProviderBinding {
  return { provider, prepare: async () => ({ mode: 'read-only' }) };
}
