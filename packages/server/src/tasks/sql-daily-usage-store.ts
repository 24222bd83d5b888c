import { z } from 'zod';
import { BastionError } from '@bastion/core';
import type { DailyReservation, DailyUsageKey, DailyUsageStore, UsageDelta } from '@bastion/gateway';
import type { BudgetLimits, Usage } from '@bastion/policy';
import type { SqlExecutor } from './sql-client';

interface UsageRow {
  input_tokens: number;
  output_tokens: number;
  requests: number;
  cost_usd: number;
}

// bigint comes back as a string from pg (and a BigInt from PGlite): read as float8, exact far past any day's tokens.
const COLUMNS =
  'input_tokens::float8 as input_tokens, output_tokens::float8 as output_tokens, requests::float8 as requests, cost_usd';

const toUsage = (r: UsageRow | undefined): Usage => ({
  inputTokens: Number(r?.input_tokens ?? 0),
  outputTokens: Number(r?.output_tokens ?? 0),
  requests: Number(r?.requests ?? 0),
  costUsd: Number(r?.cost_usd ?? 0),
});

/** Parameters $1..$7: the key, then the delta (tokens and requests are whole numbers). */
const keyAndDelta = (key: DailyUsageKey, d: UsageDelta): unknown[] => [
  key.day,
  key.tenant,
  key.provider,
  Math.round(d.inputTokens ?? 0),
  Math.round(d.outputTokens ?? 0),
  Math.round(d.requests ?? 0),
  d.costUsd ?? 0,
];

/**
 * The budget rule of exceededLimit() (gateway daily-usage-store.ts) in SQL, on the totals named by
 * `t` (`u.` for the row, `0 + ` for a day that has no row yet): requests may reach their limit,
 * tokens and cost must stay below theirs. $8..$11 are the limits, null for none.
 */
const fits = (t: (column: string) => string) =>
  `($8::float8 is null or ${t('input_tokens')} + $4::bigint < $8::float8)
   and ($9::float8 is null or ${t('output_tokens')} + $5::bigint < $9::float8)
   and ($10::float8 is null or ${t('requests')} + $6::bigint <= $10::float8)
   and ($11::float8 is null or ${t('cost_usd')} + $7::float8 < $11::float8)`;

// One statement: a day's first reservation inserts the row if it fits on its own; any later one
// takes the row's lock in ON CONFLICT and re-checks the WHERE on the latest committed totals, so
// concurrent reservations (on one server or one PGlite) are decided one after the other.
const RESERVE = `
insert into bastion_daily_usage as u (day, tenant, provider, input_tokens, output_tokens, requests, cost_usd)
select $1::date, $2::text, $3::text, $4::bigint, $5::bigint, $6::bigint, $7::float8
where ${fits(() => '0')}
on conflict (day, tenant, provider) do update set
  input_tokens = u.input_tokens + excluded.input_tokens,
  output_tokens = u.output_tokens + excluded.output_tokens,
  requests = u.requests + excluded.requests,
  cost_usd = u.cost_usd + excluded.cost_usd,
  updated_at = now()
where ${fits((c) => `u.${c}`)}
returning ${COLUMNS}`;

// A negative delta gives back what a reservation did not use; totals never go below zero (a
// release that arrives after its day's row was pruned, say).
const ADD = `
insert into bastion_daily_usage as u (day, tenant, provider, input_tokens, output_tokens, requests, cost_usd)
values ($1::date, $2, $3, greatest($4::bigint, 0), greatest($5::bigint, 0), greatest($6::bigint, 0), greatest($7::float8, 0))
on conflict (day, tenant, provider) do update set
  input_tokens = greatest(u.input_tokens + $4::bigint, 0),
  output_tokens = greatest(u.output_tokens + $5::bigint, 0),
  requests = greatest(u.requests + $6::bigint, 0),
  cost_usd = greatest(u.cost_usd + $7::float8, 0),
  updated_at = now()
returning ${COLUMNS}`;

export const DEFAULT_DAILY_USAGE_RETENTION_DAYS = 35;

/** The variable an operator sets to keep daily usage rows longer or shorter than 35 days. */
export const RETENTION_ENV = 'BASTION_DAILY_USAGE_RETENTION_DAYS';

/** Reads $BASTION_DAILY_USAGE_RETENTION_DAYS (absent or empty: the default); anything but a whole number >= 1 is INVALID_INPUT. */
export function retentionDaysFrom(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const raw = env[RETENTION_ENV]?.trim();
  if (!raw) return undefined;
  const parsed = z.coerce.number().int().min(1).safeParse(raw);
  if (!parsed.success)
    throw new BastionError(
      'INVALID_INPUT',
      `${RETENTION_ENV}="${raw}" is not a number of days: set a whole number of at least 1 (default ${DEFAULT_DAILY_USAGE_RETENTION_DAYS}) or unset it`,
    );
  return parsed.data;
}

export interface SqlDailyUsageStoreOptions {
  /** Days of daily rows kept before today (UTC); older rows are deleted. Default 35: a month's reports and then some. */
  retentionDays?: number;
  /** Hears of a prune that failed (the next day's first write tries again). */
  onError?: (error: BastionError) => void;
}

export interface SqlDailyUsageStore extends DailyUsageStore {
  /** Deletes the rows older than the retention window before `today` (YYYY-MM-DD); answers how many. */
  prune(today: string): Promise<number>;
}

/**
 * The gateway's daily usage port on the task database (migration 2). Every write is one statement
 * on the row, atomic under PostgreSQL's row lock: an increment adds and returns everyone's totals,
 * a reservation adds only what fits the budget. The table is pruned when the ledger opens and by
 * the first write of each new day, so it holds the retention window and no more.
 */
export function createSqlDailyUsageStore(db: SqlExecutor, options: SqlDailyUsageStoreOptions = {}): SqlDailyUsageStore {
  const retentionDays = options.retentionDays ?? DEFAULT_DAILY_USAGE_RETENTION_DAYS;
  if (!Number.isInteger(retentionDays) || retentionDays < 1)
    throw new BastionError(
      'INVALID_INPUT',
      `the daily usage retention must be a whole number of days, at least 1 (got ${retentionDays})`,
    );
  const failed = (err: unknown, what: string) =>
    new BastionError(
      'SANDBOX_UNAVAILABLE',
      `the task database could not ${what} (${(err as { code?: string }).code ?? 'no answer'}): make it reachable (bash ops/postgres/ensure-postgres.sh for a local server)`,
      { cause: err, retryable: true },
    );
  const read = async (key: DailyUsageKey) => {
    try {
      const [row] = await db.query<UsageRow>(
        `select ${COLUMNS} from bastion_daily_usage where day = $1::date and tenant = $2 and provider = $3`,
        [key.day, key.tenant, key.provider],
      );
      return toUsage(row);
    } catch (err) {
      throw failed(err, 'read the daily usage');
    }
  };
  let prunedThrough = '';
  const prune = async (today: string) => {
    try {
      const [row] = await db.query<{ n: number }>(
        `with gone as (delete from bastion_daily_usage where day < $1::date - $2::int returning 1)
         select count(*)::int as n from gone`,
        [today, retentionDays],
      );
      if (today > prunedThrough) prunedThrough = today;
      return Number(row?.n ?? 0);
    } catch (err) {
      throw failed(err, 'prune old daily usage');
    }
  };
  // A long-running worker prunes at the first write of each day (one indexed delete a day); a
  // prune that fails is reported and tried again by the next write, it never fails the write.
  const pruneOncePerDay = async (day: string) => {
    if (day <= prunedThrough) return;
    prunedThrough = day;
    await prune(day).catch((err: BastionError) => {
      prunedThrough = '';
      options.onError?.(err);
    });
  };
  return {
    read,
    prune,
    async add(key, d) {
      await pruneOncePerDay(key.day);
      try {
        const [row] = await db.query<UsageRow>(ADD, keyAndDelta(key, d));
        return toUsage(row);
      } catch (err) {
        throw failed(err, 'record the daily usage');
      }
    },
    async reserve(key, d, limits: BudgetLimits): Promise<DailyReservation> {
      await pruneOncePerDay(key.day);
      let rows: UsageRow[];
      try {
        rows = await db.query<UsageRow>(RESERVE, [
          ...keyAndDelta(key, d),
          limits.maxInputTokens ?? null,
          limits.maxOutputTokens ?? null,
          limits.maxModelRequests ?? null,
          limits.maxCostUsd ?? null,
        ]);
      } catch (err) {
        throw failed(err, 'reserve the daily budget');
      }
      // Refused: the totals are read only to say how much was spent; the decision is made.
      return rows[0] ? { admitted: true, totals: toUsage(rows[0]) } : { admitted: false, totals: await read(key) };
    },
  };
}
