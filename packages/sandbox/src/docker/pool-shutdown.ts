import type { Executor } from '../executor';
import type { createContainerEvents } from './container-events';
import type { PoolBackground } from './pool-background';
import type { PoolContainer, PoolContainers } from './pool-container';
import type { PoolSlots } from './pool-slots';

export interface PoolShutdownParts {
  readonly background: PoolBackground;
  readonly profiles: Iterable<{ readonly slots: PoolSlots<PoolContainer> }>;
  readonly containers: PoolContainers;
  readonly events: ReturnType<typeof createContainerEvents>;
  readonly cold: Executor;
}

/**
 * Ends the pool in the order that leaves nothing behind: in-flight fills and destroys finish first
 * (a fill that lands after close retires itself), then every idle slot is destroyed, then anything
 * a failed destroy left live is force-removed once more, and last the cold path closes.
 */
export async function shutDownPool(parts: PoolShutdownParts): Promise<void> {
  await parts.background.drain();
  const idle = [...parts.profiles].flatMap((p) => p.slots.drainIdle());
  await Promise.all(idle.map((s) => parts.containers.destroy(s)));
  await parts.containers.removeLeftovers();
  parts.events.close();
  await parts.cold.close();
}
