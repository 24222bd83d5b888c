import type { ProviderHealth } from '@bastion/agent-runtime';

/** Retry-After for a refusal on capacity: a bulkhead slot frees when a call ends; we cannot know when. */
const CAPACITY_RETRY_MS = 1_000;

/**
 * How long a caller should wait before submitting again when no provider that could take the task
 * has a free bulkhead slot or queue place; undefined when one has room. Checked before a task is
 * accepted, so a caller without `?wait=true` gets 429 + Retry-After instead of a 202 for a task that
 * then fails with `bulkhead_full`. A task that names its provider only counts that one; otherwise
 * any provider with room is enough (the router may still refuse for capability, policy or health,
 * and says so in the result). Unknown providers or an empty report never refuse here.
 */
export function capacityWaitMs(health: readonly ProviderHealth[], provider?: string): number | undefined {
  const candidates = provider === undefined ? health : health.filter((h) => h.id === provider);
  if (candidates.length === 0) return undefined;
  const room = candidates.some((h) => h.inFlight < h.maxConcurrent || h.queued < h.maxQueue);
  return room ? undefined : CAPACITY_RETRY_MS;
}

/** The refusal text: which providers are full, with their numbers, so an operator knows what to raise. */
export function capacityMessage(health: readonly ProviderHealth[], provider?: string): string {
  const full = (provider === undefined ? health : health.filter((h) => h.id === provider))
    .map((h) => `${h.id} ${h.inFlight}/${h.maxConcurrent} running, ${h.queued}/${h.maxQueue} queued`)
    .join('; ');
  return `no provider has room for the task (${full}); raise maxConcurrent/maxQueue in the router config or wait`;
}
