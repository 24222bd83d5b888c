import type { Clock } from '@bastion/core';

/**
 * The deadline of one routed call (retries and fallbacks included), read against an injected clock
 * so the arithmetic is testable without waiting.
 */
export class Deadline {
  readonly startedAt: number;
  readonly at: number;
  readonly #clock: Clock;

  constructor(clock: Clock, budgetMs: number) {
    this.#clock = clock;
    this.startedAt = clock();
    this.at = this.startedAt + budgetMs;
  }

  /** Milliseconds left; zero or less once passed. */
  remaining(): number {
    return this.at - this.#clock();
  }

  passed(): boolean {
    return this.#clock() >= this.at;
  }

  /** Whether waiting `delayMs` from now still ends before the deadline (a wait that reaches it is wasted). */
  fits(delayMs: number): boolean {
    return this.#clock() + delayMs < this.at;
  }

  elapsed(): number {
    return this.#clock() - this.startedAt;
  }
}
