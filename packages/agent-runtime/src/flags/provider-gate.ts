import type { AgentTask } from '@bastion/providers';

/**
 * Policy hook: may this provider take this task now? Asked by the router at call time (feature
 * flags, allowlists). It lives with the flags, which implement it, so the router depends on flags
 * and never the other way round.
 */
export type ProviderGate = (
  providerId: string,
  context: { correlationId: string; task: AgentTask },
) => Promise<{ enabled: boolean; reason?: string; rule?: string }>;
