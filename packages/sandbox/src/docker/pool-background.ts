/**
 * The pool's work off the call's path (refills, destroys): tracked so `prewarm()` can wait for
 * fills and `close()` can wait for everything before its last sweep. Nobody awaits a task, so a
 * task that fails is reported here and counted; left rejected, it would be an unhandled
 * rejection, which ends a Node process.
 */
export class PoolBackground {
  readonly #pending = new Set<Promise<void>>();
  readonly #report: (err: unknown) => void;
  #failures = 0;

  /** `report` gets every task's failure (the pool passes it on to onCleanupError). */
  constructor(report: (err: unknown) => void) {
    this.#report = report;
  }

  /** Tasks that failed since the pool started (WarmPoolExecutor.stats().backgroundFailures). */
  get failures(): number {
    return this.#failures;
  }

  track(task: Promise<unknown>): void {
    const settled: Promise<void> = task.then(
      () => undefined,
      (err: unknown) => this.#failed(err),
    );
    this.#pending.add(settled);
    void settled.then(() => this.#pending.delete(settled));
  }

  #failed(err: unknown): void {
    this.#failures++;
    try {
      this.#report(err);
    } catch (reportErr) {
      // A throwing reporter (the caller's onCleanupError) must not turn into the crash this class prevents.
      process.emitWarning(`bastion warm pool: the background-failure reporter threw: ${String(reportErr)}`);
    }
  }

  /** Resolves when any pending task settles (or at once when none is pending). */
  async next(): Promise<void> {
    if (this.#pending.size > 0) await Promise.race([...this.#pending]);
  }

  /** Waits until no task is pending, including tasks started while waiting. */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}
