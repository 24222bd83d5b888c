/**
 * The pool's work off the call's path (refills, destroys): tracked so `prewarm()` can wait for
 * fills and `close()` can wait for everything before its last sweep.
 */
export class PoolBackground {
  readonly #pending = new Set<Promise<unknown>>();

  track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
    return p;
  }

  /** Resolves when any pending task settles (or at once when none is pending). */
  async next(): Promise<void> {
    if (this.#pending.size > 0) await Promise.race([...this.#pending]);
  }

  /** Waits until no task is pending, including tasks started while waiting. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}
