import type { AgentTask } from '@bastion/providers';
import type { RoutedProvider, Skip } from './router-types';

/**
 * The fallback order: the configured order first (duplicates dropped), then every registered
 * provider the configuration did not name, in the order given. An id the configuration names but
 * nobody registered stays, so a call routed to it says `unknown_provider` instead of vanishing.
 */
export function providerOrder(
  configured: readonly string[] | undefined,
  providers: readonly RoutedProvider[],
): string[] {
  const order = (configured ?? providers.map((p) => p.id)).filter((id, i, all) => all.indexOf(id) === i);
  for (const p of providers) if (!order.includes(p.id)) order.push(p.id);
  return order;
}

/** The providers to try for one call: the one the caller pinned, or the whole order. */
export function candidatesFor(pinned: string | undefined, order: readonly string[]): readonly string[] {
  return pinned ? [pinned] : order;
}

function canDo(provider: RoutedProvider | undefined, intent: AgentTask['intent']): boolean {
  if (!provider) return false;
  return intent === 'edit' ? provider.capabilities.edit : provider.capabilities.analyze;
}

/**
 * What rules a provider out for this task regardless of its health: not registered, not in the
 * caller's allowlist, or unable to do what the task asks. Pure; the gate (flags) and health come after.
 */
export function staticSkip(
  id: string,
  task: Pick<AgentTask, 'intent'>,
  registered: ReadonlyMap<string, RoutedProvider>,
  order: readonly string[],
  allowedProviders?: readonly string[],
): Skip | null {
  const provider = registered.get(id);
  if (!provider)
    return {
      provider: id,
      reason: 'unknown_provider',
      detail: `no provider "${id.slice(0, 80)}" is registered; use one of ${order.join(', ')}`,
    };
  if (allowedProviders && !allowedProviders.includes(id)) {
    return {
      provider: id,
      reason: 'not_allowed',
      rule: 'router.allowed_providers',
      detail: `provider "${id}" is not in the caller's allowed list`,
    };
  }
  if (!canDo(provider, task.intent)) {
    const capable = order.filter((other) => canDo(registered.get(other), task.intent));
    return {
      provider: id,
      reason: 'not_capable',
      detail: `provider "${id}" cannot ${task.intent}${capable.length > 0 ? `; providers that can: ${capable.join(', ')}` : ''}`,
    };
  }
  return null;
}
