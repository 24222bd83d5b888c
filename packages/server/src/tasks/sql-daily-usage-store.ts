import { BastionError } from '@bastion/core';
import type { DailyUsageKey, DailyUsageStore } from '@bastion/gateway';
import type { Usage } from '@bastion/policy';
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

/**
 * The gateway's daily usage port on the task database (migration 2). An increment is one upsert
 * that adds to the row and returns it, atomic under PostgreSQL's row lock, so concurrent workers
 * never lose each other's usage and each learns everyone's totals from its own write.
 */
export function createSqlDailyUsageStore(db: SqlExecutor): DailyUsageStore {
  const failed = (err: unknown, what: string) =>
    new BastionError(
      'SANDBOX_UNAVAILABLE',
      `the task database could not ${what} (${(err as { code?: string }).code ?? 'no answer'}): make it reachable (bash ops/postgres/ensure-postgres.sh for a local server)`,
      { cause: err, retryable: true },
    );
  return {
    async read(key: DailyUsageKey) {
      try {
        const [row] = await db.query<UsageRow>(
          `select ${COLUMNS} from bastion_daily_usage where day = $1::date and tenant = $2 and provider = $3`,
          [key.day, key.tenant, key.provider],
        );
        return toUsage(row);
      } catch (err) {
        throw failed(err, 'read the daily usage');
      }
    },
    async add(key, d) {
      try {
        const [row] = await db.query<UsageRow>(
          `insert into bastion_daily_usage as u (day, tenant, provider, input_tokens, output_tokens, requests, cost_usd)
           values ($1::date, $2, $3, $4, $5, $6, $7)
           on conflict (day, tenant, provider) do update set
             input_tokens = u.input_tokens + excluded.input_tokens,
             output_tokens = u.output_tokens + excluded.output_tokens,
             requests = u.requests + excluded.requests,
             cost_usd = u.cost_usd + excluded.cost_usd,
             updated_at = now()
           returning ${COLUMNS}`,
          [
            key.day,
            key.tenant,
            key.provider,
            Math.round(d.inputTokens ?? 0),
            Math.round(d.outputTokens ?? 0),
            Math.round(d.requests ?? 0),
            d.costUsd ?? 0,
          ],
        );
        return toUsage(row);
      } catch (err) {
        throw failed(err, 'record the daily usage');
      }
    },
  };
}
