import type { SqlClient } from './sql-client';

/**
 * The task ledger's schema, the same SQL on a PostgreSQL server and on the embedded PGlite. Append
 * only: a migration that shipped is never edited; a change is a new entry.
 */
export const MIGRATIONS: readonly { readonly version: number; readonly sql: string }[] = [
  {
    version: 1,
    sql: `
create table bastion_tasks (
  id uuid primary key,
  idempotency_key text unique,
  correlation_id text not null,
  request jsonb not null,
  state text not null check (state in ('queued', 'running', 'succeeded', 'failed', 'denied')),
  attempts integer not null default 0,
  max_attempts integer not null check (max_attempts between 1 and 20),
  lease_owner text,
  lease_expires_at timestamptz,
  cancel_requested boolean not null default false,
  event_seq integer not null default 0,
  base_tree_hash text,
  provider text,
  result jsonb,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz
);
create index bastion_tasks_queued on bastion_tasks (created_at) where state = 'queued';
create index bastion_tasks_leases on bastion_tasks (lease_expires_at) where state = 'running';
create table bastion_task_events (
  task_id uuid not null references bastion_tasks (id) on delete cascade,
  seq integer not null,
  event text not null,
  data jsonb not null,
  created_at timestamptz not null default now(),
  primary key (task_id, seq)
);
create table bastion_task_applies (
  task_id uuid primary key references bastion_tasks (id) on delete cascade,
  base_tree_hash text not null,
  applied_changes jsonb not null,
  applied_at timestamptz not null default now()
);`,
  },
  {
    // Daily model usage per tenant and provider (issue 25): one row per account and UTC day,
    // incremented in one statement by every worker, so they spend one budget.
    version: 2,
    sql: `
create table bastion_daily_usage (
  day date not null,
  tenant text not null,
  provider text not null,
  input_tokens bigint not null default 0,
  output_tokens bigint not null default 0,
  requests bigint not null default 0,
  cost_usd double precision not null default 0,
  updated_at timestamptz not null default now(),
  primary key (day, tenant, provider)
);`,
  },
];

/**
 * Brings the schema up to date. An advisory lock makes concurrent starters (an API and three
 * workers at once) take turns, so each migration runs exactly once.
 */
export async function migrate(db: SqlClient): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(4242025)');
    await tx.query(
      'create table if not exists bastion_schema_migrations (version integer primary key, applied_at timestamptz not null default now())',
    );
    const done = new Set(
      (await tx.query<{ version: number }>('select version from bastion_schema_migrations')).map((r) => r.version),
    );
    let applied = 0;
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const statement of m.sql
        .split(/;\s*(?:\n|$)/)
        .map((s) => s.trim())
        .filter(Boolean))
        await tx.query(statement);
      await tx.query('insert into bastion_schema_migrations (version) values ($1)', [m.version]);
      applied += 1;
    }
    return applied;
  });
}
