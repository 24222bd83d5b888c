/**
 * The two reasons an executor kills a call from outside: its deadline passed, or the caller
 * aborted. Records which one happened so the outcome can say TIMEOUT or aborted, and makes sure
 * the kill is asked for at most once per reason. The kill itself (container kill, cgroup kill) is
 * the executor's.
 */
export class CallDeadline {
  #timedOut = false;
  #aborted = false;
  #timer: NodeJS.Timeout | undefined;
  #signal: AbortSignal | undefined;
  readonly #onAbort = () => {
    this.#aborted = true;
    this.kill();
  };

  constructor(private readonly kill: () => void) {}

  get timedOut(): boolean {
    return this.#timedOut;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /** Kills the call after `ms` and follows the caller's signal (an already aborted signal kills at once). */
  arm(ms: number, signal?: AbortSignal): void {
    this.#timer = setTimeout(
      () => {
        this.#timedOut = true;
        this.kill();
      },
      Math.max(0, ms),
    );
    if (signal) {
      this.#signal = signal;
      if (signal.aborted) this.#onAbort();
      else signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /**
   * The command exited: its deadline no longer applies. An abort while the outcome is still being
   * collected (output drain, OOM verdict) still kills and counts, as the caller asked for it.
   */
  exited(): void {
    clearTimeout(this.#timer);
  }

  /** The call is over: no later timer or abort may kill (or be blamed for) it. Idempotent. */
  disarm(): void {
    this.exited();
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }
}
