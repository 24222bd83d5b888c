import { DailyUsage, UsageMeter } from '@bastion/gateway';
import { describeWithPostgres } from '../test-support/postgres-suite';
import { migrate } from './migrations';
import { createPgClient, type SqlClient } from './sql-client';
import { createSqlDailyUsageStore } from './sql-daily-usage-store';
import {
  PRUNE_EXPECTED,
  pruneScenario,
  RESERVATION_EXPECTED,
  reservationScenario,
} from './test-support/daily-usage-scenarios';

/**
 * The daily usage store on a PostgreSQL server (a database of its own, dropped at the end), with
 * the same scenarios and expectations as the embedded PGlite test (sql-daily-usage-store.test.ts).
 */
describeWithPostgres('daily usage on a PostgreSQL server', (database) => {
  let db: SqlClient;
  beforeAll(async () => {
    // A pool of 10: the concurrent reservations run on separate connections at the same time.
    db = await createPgClient(database(), { max: 10 });
    await migrate(db);
  }, 60_000);
  afterAll(() => db?.close());

  it('reserves atomically: K concurrent reservations against a budget that fits M admit exactly M, and releases give back', async () => {
    expect(await reservationScenario(createSqlDailyUsageStore(db))).toEqual(RESERVATION_EXPECTED);
  });

  it('admits exactly the budget when 40 reservations from two stores (two workers) race on 10 connections', async () => {
    const workers = [createSqlDailyUsageStore(db), createSqlDailyUsageStore(db)];
    const key = { day: '2026-03-01', tenant: 'race', provider: 'gemini-cli' };
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => workers[i % 2]!.reserve(key, { requests: 1 }, { maxModelRequests: 7 })),
    );
    expect(answers.filter((a) => a.admitted)).toHaveLength(7);
    expect((await workers[0]!.read(key)).requests).toBe(7);
  });

  it('lets two workers (own connection pools, own runtimes) admit exactly the day’s requests when their calls race', async () => {
    const errors: Error[] = [];
    const pools = [await createPgClient(database(), { max: 5 }), await createPgClient(database(), { max: 5 })];
    try {
      const workers = pools.map(
        (pool) =>
          new DailyUsage({
            clock: () => Date.parse('2026-03-02T12:00:00Z'),
            store: {
              current: () => createSqlDailyUsageStore(pool),
              onError: (e) => void errors.push(e),
            },
          }),
      );
      const meters = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const account = await workers[i % 2]!.open('acme', 'gemini-cli', { required: true });
          return new UsageMeter({ daily: { maxModelRequests: 6 }, dailyAccount: account });
        }),
      );
      const answers = await Promise.all(meters.map((m) => m.reserveRequest()));
      expect(answers.filter((a) => a === undefined)).toHaveLength(6);
      expect(answers.filter((a) => a?.scope === 'daily' && a.limit === 'maxModelRequests')).toHaveLength(14);
      const row = await createSqlDailyUsageStore(db).read({
        day: '2026-03-02',
        tenant: 'acme',
        provider: 'gemini-cli',
      });
      expect(row.requests).toBe(6);
      expect(errors).toEqual([]);
    } finally {
      await Promise.all(pools.map((p) => p.close()));
    }
  });

  it('prunes rows older than the retention window, by call and at the first write of a later day', async () => {
    expect(await pruneScenario(createSqlDailyUsageStore(db))).toEqual(PRUNE_EXPECTED);
  });

  it('keeps a configured retention: 400 days keeps what 35 would delete', async () => {
    const store = createSqlDailyUsageStore(db, { retentionDays: 400 });
    const key = { day: '2025-06-01', tenant: 'long', provider: 'gemini-cli' };
    await store.add(key, { requests: 1 });
    expect(await store.prune('2026-03-01')).toBe(0);
    expect((await store.read(key)).requests).toBe(1);
    expect(() => createSqlDailyUsageStore(db, { retentionDays: 0 })).toThrow(/at least 1/);
  });
});
