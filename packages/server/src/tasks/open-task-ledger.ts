import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BastionError, type Clock } from '@bastion/core';
import { lockEmbeddedStore, type HeldLock } from './embedded-store-lock';
import { createPgClient, createPgliteClient } from './sql-client';
import { createSqlDailyUsageStore, type SqlDailyUsageStore } from './sql-daily-usage-store';

export { retentionDaysFrom } from './sql-daily-usage-store';
import { createSqlTaskLedger } from './sql-task-ledger';
import type { TaskLedger } from './task-ledger';

export type DatabaseLocation =
  { kind: 'postgres'; url: string; display: string } | { kind: 'embedded'; dir: string; display: string };

/**
 * Reads a `--database` value: `postgres://` / `postgresql://` URLs name a server; `pglite:<dir>`
 * (or `pglite://<dir>`) the embedded store in a directory. Anything else is INVALID_INPUT that says
 * which forms there are. The password of a URL never appears in `display` (or any message).
 */
export function parseDatabaseLocation(value: string): DatabaseLocation {
  const trimmed = value.trim();
  const pglite = /^pglite:(?:\/\/)?(.+)$/.exec(trimmed);
  if (pglite) return { kind: 'embedded', dir: resolve(pglite[1]), display: `pglite:${resolve(pglite[1])}` };
  let url: URL | undefined;
  try {
    url = new URL(trimmed);
  } catch (err) {
    throw new BastionError(
      'INVALID_INPUT',
      `--database "${redact(trimmed)}" is not a URL: use postgres://USER@HOST:PORT/DB (ops/postgres/ensure-postgres.sh prints one) or pglite:DIR for the embedded store`,
      { cause: err },
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new BastionError(
      'INVALID_INPUT',
      `--database scheme "${url.protocol}" is not supported: use postgres://USER@HOST:PORT/DB or pglite:DIR`,
    );
  }
  if (!url.pathname || url.pathname === '/')
    throw new BastionError(
      'INVALID_INPUT',
      `--database ${redact(trimmed)} names no database: add it as the path, e.g. postgres://postgres@127.0.0.1:54329/bastion`,
    );
  return { kind: 'postgres', url: trimmed, display: redact(trimmed) };
}

function redact(value: string): string {
  return value.replace(/^([a-z]+:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
}

/** The ledger, and the daily usage of the gateways' budgets kept in the same database. */
export type OpenedTaskLedger = TaskLedger & { readonly dailyUsage: SqlDailyUsageStore };

export interface OpenTaskLedgerOptions {
  onIdleError?: (err: Error) => void;
  /** Days of daily usage rows kept before today; older ones are deleted at open and daily (default 35, see retentionDaysFrom). */
  dailyUsageRetentionDays?: number | undefined;
  /** Today's date for the prune at open; default Date.now. */
  clock?: Clock;
}

/**
 * Opens (and migrates) the ledger. A server that cannot be reached or refuses us is
 * SANDBOX_UNAVAILABLE (retryable: the runtime cannot run tasks without its ledger) naming where it
 * looked and how to fix it, never the password.
 */
export async function openTaskLedger(
  location: DatabaseLocation,
  options: OpenTaskLedgerOptions = {},
): Promise<OpenedTaskLedger> {
  let lock: HeldLock | undefined;
  if (location.kind === 'embedded') {
    await mkdir(location.dir, { recursive: true, mode: 0o700 });
    lock = await lockEmbeddedStore(location.dir);
  }
  let db;
  try {
    db =
      location.kind === 'postgres'
        ? await createPgClient(location.url, { onIdleError: options.onIdleError })
        : await createPgliteClient(location.dir);
    const ledger = await createSqlTaskLedger(db);
    // Same database and connections: the daily budgets live beside the tasks (migration 2).
    const dailyUsage = createSqlDailyUsageStore(db, {
      ...(options.dailyUsageRetentionDays !== undefined ? { retentionDays: options.dailyUsageRetentionDays } : {}),
      onError: (err) => options.onIdleError?.(err),
    });
    await dailyUsage.prune(new Date((options.clock ?? Date.now)()).toISOString().slice(0, 10));
    if (!lock) return { ...ledger, dailyUsage };
    const held = lock;
    return { ...ledger, dailyUsage, close: () => ledger.close().finally(() => held.release()) };
  } catch (err) {
    await db?.close().catch((closeError: unknown) => options.onIdleError?.(closeError as Error));
    await lock?.release();
    throw databaseError(err, location);
  }
}

/** A database failure as the typed error the edges report. */
export function databaseError(err: unknown, location: Pick<DatabaseLocation, 'display' | 'kind'>): BastionError {
  if (BastionError.isInstance(err)) return err;
  const code = (err as { code?: string }).code ?? 'no answer';
  const fix =
    location.kind === 'postgres'
      ? 'start it (bash ops/postgres/ensure-postgres.sh) or fix --database'
      : 'check the directory is writable and not used by another bastion process';
  return new BastionError(
    'SANDBOX_UNAVAILABLE',
    `the task database ${location.display} is unavailable (${code}): ${fix}`,
    { cause: err },
  );
}
