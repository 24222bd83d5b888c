// Shared by the benchmark suites of every package (imported as @bastion/core/test-support; bundled into each by scripts/bench.mjs).

/** One case of a suite, as `npm run bench -- --json` prints it (CONVENTIONS.md). */
export interface CaseResult {
  n: number;
  p50Ms: number;
  p95Ms: number;
  /** The case's p50 over the baseline's p50 measured in the same run. */
  ratio: number;
  /** Why the case ran differently from its usual setup, when it did. */
  note?: string;
}

/** Nearest-rank percentile of an ascending array (p in 0..1). */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
