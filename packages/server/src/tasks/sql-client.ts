import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';

/** What the task ledger needs of a database: parameterized queries and transactions. */
export interface SqlExecutor {
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface SqlClient extends SqlExecutor {
  /** `pg` (a PostgreSQL server) or `pglite` (the embedded one). */
  readonly dialect: 'pg' | 'pglite';
  /** Runs fn in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A pool on a PostgreSQL server. Connections are opened lazily, so a server that is down fails
 * the first query (which the ledger turns into a typed error), not the constructor; errors of
 * idle connections (the server restarted) are handled here because pg would otherwise crash the
 * process with an unhandled 'error' event.
 */
export async function createPgClient(
  url: string,
  options: { max?: number; onIdleError?: (err: Error) => void } = {},
): Promise<SqlClient> {
  // pg is CommonJS: under a bundle's import() interop its exports may sit on `default`.
  const pg = (await import('pg')) as typeof import('pg') & { default?: typeof import('pg') };
  const PgPool = pg.Pool ?? pg.default!.Pool;
  const pool: Pool = new PgPool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 10_000,
  });
  pool.on('error', (err) => options.onIdleError?.(err));
  return {
    dialect: 'pg',
    async query<T>(text: string, params: readonly unknown[] = []) {
      return (await pool.query(text, params as unknown[])).rows as T[];
    },
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>) {
      const client: PoolClient = await pool.connect();
      let broken: Error | undefined;
      // A checked-out client's 'error' event (the server shut down mid-transaction) has no pool
      // listener: unhandled it would crash the process. The failing query rejects as well, which
      // is how the caller learns of it; here the connection is only marked for disposal.
      const onError = (err: Error) => {
        broken = err;
        options.onIdleError?.(err);
      };
      client.on('error', onError);
      try {
        await client.query('begin');
        const result = await fn({
          query: async <R>(text: string, params: readonly unknown[] = []) =>
            (await client.query(text, params as unknown[])).rows as R[],
        });
        await client.query('commit');
        return result;
      } catch (err) {
        // A rollback on a dead connection fails too; the original error is the one worth reporting.
        await client.query('rollback').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/** The embedded default: PostgreSQL compiled to WASM, its files in `dataDir` (no server, no port). */
export async function createPgliteClient(dataDir: string): Promise<SqlClient> {
  const lite = (await import('@electric-sql/pglite')) as typeof import('@electric-sql/pglite') & {
    default?: typeof import('@electric-sql/pglite');
  };
  const Lite = lite.PGlite ?? lite.default!.PGlite;
  const db: PGlite = await Lite.create(dataDir);
  const on = (q: PGlite | Transaction): SqlExecutor => ({
    query: async <R>(text: string, params: readonly unknown[] = []) =>
      (await q.query<R>(text, params as unknown[])).rows,
  });
  let closed = false;
  return {
    dialect: 'pglite',
    ...on(db),
    transaction: (fn) => db.transaction((tx) => fn(on(tx))),
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}
