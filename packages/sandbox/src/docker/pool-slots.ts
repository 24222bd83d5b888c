import type { Clock } from '@bastion/core';

/** Where a pooled container is in its life: being provisioned, ready, handed to a call, or gone. */
export type SlotState = 'refilling' | 'idle' | 'leased' | 'retired';

/** What the slot book needs to know of a pooled container. */
export interface PooledSlot {
  readonly createdAt: number;
  /** False once the container died while idle (its supervisor's connection closed). */
  alive(): boolean;
}

export interface SlotCounts {
  readonly idle: number;
  readonly leased: number;
  readonly refilling: number;
  readonly target: number;
}

/**
 * The slots of one pool profile (image + limits) and the refill policy over them. Pure state: it
 * never touches Docker; the pool provisions and destroys what this book says, so every transition
 * (refilling → idle → leased → retired) is testable without an engine.
 */
export class PoolSlots<S extends PooledSlot> {
  readonly #idle: S[] = [];
  readonly #leased = new Set<S>();
  #refilling = 0;
  #target: number;

  constructor(
    target: number,
    private readonly maxIdleMs: number,
    private readonly now: Clock = Date.now,
  ) {
    this.#target = target;
  }

  get target(): number {
    return this.#target;
  }

  counts(): SlotCounts {
    return { idle: this.#idle.length, leased: this.#leased.size, refilling: this.#refilling, target: this.#target };
  }

  stateOf(slot: S): SlotState {
    if (this.#idle.includes(slot)) return 'idle';
    if (this.#leased.has(slot)) return 'leased';
    return 'retired';
  }

  /** How many containers to start provisioning now so ready + refilling reaches the target. */
  fillsNeeded(closed: boolean): number {
    if (closed) return 0;
    return Math.max(0, this.#target - this.#idle.length - this.#refilling);
  }

  beginFill(): void {
    this.#refilling++;
  }

  /** A provisioned container arrives: ready for a call, or retired at once when the pool closed meanwhile. */
  fillSucceeded(slot: S, closed: boolean): 'idle' | 'retired' {
    this.#refilling--;
    if (closed) return 'retired';
    this.#idle.push(slot);
    return 'idle';
  }

  fillFailed(): void {
    this.#refilling--;
  }

  /**
   * Hands the oldest usable idle slot to a call. Slots past maxIdleMs or dead while idle are never
   * handed out: they come back in `retired` for the caller to destroy.
   */
  lease(): { slot: S | undefined; retired: S[] } {
    const retired: S[] = [];
    while (this.#idle.length > 0) {
      const slot = this.#idle.shift()!;
      if (this.now() - slot.createdAt < this.maxIdleMs && slot.alive()) {
        this.#leased.add(slot);
        return { slot, retired };
      }
      retired.push(slot);
    }
    return { slot: undefined, retired };
  }

  /** A call is done with its slot: a pooled container serves exactly one call. */
  release(slot: S): void {
    this.#leased.delete(slot);
  }

  /**
   * Starting a container costs the engine ~100 ms of CPU. While another one is still ready after
   * this lease, refill after the call rather than during it, so the two do not compete.
   */
  refillAfterCall(leased: S | undefined): boolean {
    return leased !== undefined && this.#idle.length > 0;
  }

  /** A call asked for another number of ready containers: follow it; the surplus idle slots retire at once. */
  retarget(wanted: number | undefined): S[] {
    if (wanted === undefined || wanted === this.#target) return [];
    this.#target = wanted;
    const surplus = this.#idle.length - wanted;
    return surplus > 0 ? this.#idle.splice(0, surplus) : [];
  }

  /** Shutdown: every idle slot retires. */
  drainIdle(): S[] {
    return this.#idle.splice(0);
  }
}
