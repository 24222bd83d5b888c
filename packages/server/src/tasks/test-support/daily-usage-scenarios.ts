// The daily usage store's behaviour as plain data, run on both backends with the same expectations:
// PostgreSQL in the int test (jest), PGlite in daily-usage-node.ts (its own process: PGlite loads
// its WASM with a dynamic import() that jest's VM cannot run).
import type { SqlDailyUsageStore } from '../sql-daily-usage-store';

const TODAY = '2026-03-01';
const key = (tenant: string) => ({ day: TODAY, tenant, provider: 'gemini-cli' });

/**
 * K concurrent reservations against budgets that fit M < K of them, then releases. Each batch is
 * started at once (Promise.all), so on a server they run on separate connections at the same time.
 */
export async function reservationScenario(store: SqlDailyUsageStore) {
  const requests = await Promise.all(
    Array.from({ length: 12 }, () => store.reserve(key('req'), { requests: 1 }, { maxModelRequests: 5 })),
  );
  // 300 tokens each against 1000: three fit (900); a fourth would reach the limit, which ends a call.
  const tokens = await Promise.all(
    Array.from({ length: 10 }, () => store.reserve(key('tok'), { inputTokens: 300 }, { maxInputTokens: 1000 })),
  );
  // Two admitted requests never reached the model: given back, so two more fit.
  await store.add(key('req'), { requests: -2 });
  const afterRelease = await Promise.all(
    Array.from({ length: 6 }, () => store.reserve(key('req'), { requests: 1 }, { maxModelRequests: 5 })),
  );
  // Several limits at once: the request fits, but the day's cost is spent.
  await store.add(key('mixed'), { costUsd: 2 });
  const mixed = await store.reserve(key('mixed'), { requests: 1 }, { maxModelRequests: 10, maxCostUsd: 2 });
  // A release for a day that has no row (pruned meanwhile) leaves zero, never a negative total.
  const orphanRelease = await store.add(key('orphan'), { requests: -1 });
  return {
    requests: {
      admitted: requests.filter((r) => r.admitted).length,
      refusedTotals: [...new Set(requests.filter((r) => !r.admitted).map((r) => r.totals.requests))],
      admittedTotals: requests
        .filter((r) => r.admitted)
        .map((r) => r.totals.requests)
        .sort((a, b) => a - b),
    },
    tokens: {
      admitted: tokens.filter((r) => r.admitted).length,
      total: (await store.read(key('tok'))).inputTokens,
    },
    afterRelease: {
      admitted: afterRelease.filter((r) => r.admitted).length,
      total: (await store.read(key('req'))).requests,
    },
    mixed: { admitted: mixed.admitted, requests: mixed.totals.requests, costUsd: mixed.totals.costUsd },
    orphanRelease: orphanRelease.requests,
  };
}

/** What those reservations must come to on every backend. */
export const RESERVATION_EXPECTED = {
  requests: { admitted: 5, refusedTotals: [5], admittedTotals: [1, 2, 3, 4, 5] },
  tokens: { admitted: 3, total: 900 },
  afterRelease: { admitted: 2, total: 5 },
  mixed: { admitted: false, requests: 0, costUsd: 2 },
  orphanRelease: 0,
};

const DAYS = ['2025-01-01', '2026-01-24', '2026-01-25', '2026-02-28', TODAY];

/** Rows of several ages, pruned with a 35-day window (keeps 2026-01-25 .. today). */
export async function pruneScenario(store: SqlDailyUsageStore) {
  // Newest first: today's first write prunes (nothing yet), older days' writes do not.
  for (const day of [...DAYS].reverse())
    await store.add({ day, tenant: 'old', provider: 'gemini-cli' }, { requests: 1 });
  const kept = async () => {
    const out: string[] = [];
    for (const day of DAYS)
      if ((await store.read({ day, tenant: 'old', provider: 'gemini-cli' })).requests > 0) out.push(day);
    return out;
  };
  const deleted = await store.prune(TODAY);
  const afterPrune = await kept();
  // The first write of a later day prunes by itself (a worker that runs for weeks).
  const later = '2026-03-07';
  await store.add({ day: later, tenant: 'old', provider: 'gemini-cli' }, { requests: 1 });
  return { deleted, afterPrune, afterLaterWrite: await kept() };
}

export const PRUNE_EXPECTED = {
  deleted: 2,
  afterPrune: ['2026-01-25', '2026-02-28', TODAY],
  afterLaterWrite: ['2026-02-28', TODAY],
};
