import { randomUUID } from 'node:crypto';
import type { AgentResult } from '@bastion/providers';
import { migrate } from './migrations';
import type { SqlClient, SqlExecutor } from './sql-client';
import type {
  ApplyRecord,
  DurableTask,
  LedgerEvent,
  LedgerEventName,
  LeaseStatus,
  QueueStats,
  SubmitInput,
  TaskLedger,
} from './task-ledger';

interface TaskRow {
  id: string;
  idempotency_key: string | null;
  correlation_id: string;
  request: Record<string, unknown>;
  state: DurableTask['state'];
  attempts: number;
  max_attempts: number;
  lease_owner: string | null;
  lease_expires_at: Date | string | null;
  cancel_requested: boolean;
  base_tree_hash: string | null;
  provider: string | null;
  result: AgentResult | null;
  created_at: Date | string;
  started_at: Date | string | null;
  finished_at: Date | string | null;
}

const iso = (v: Date | string | null): string | null => (v === null ? null : new Date(v).toISOString());

function toTask(r: TaskRow): DurableTask {
  return {
    id: r.id,
    correlationId: r.correlation_id,
    idempotencyKey: r.idempotency_key,
    request: r.request,
    state: r.state,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    leaseOwner: r.lease_owner,
    leaseExpiresAt: iso(r.lease_expires_at),
    cancelRequested: r.cancel_requested,
    baseTreeHash: r.base_tree_hash,
    provider: r.provider,
    result: r.result,
    createdAt: iso(r.created_at)!,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  };
}

/** Appends events under the task row's lock, so `seq` has no gaps or duplicates whoever writes. */
async function append(
  tx: SqlExecutor,
  taskId: string,
  events: readonly { event: LedgerEventName; data: unknown }[],
): Promise<void> {
  if (events.length === 0) return;
  const [row] = await tx.query<{ event_seq: number }>(
    'update bastion_tasks set event_seq = event_seq + $2 where id = $1 returning event_seq',
    [taskId, events.length],
  );
  if (!row) return;
  const first = row.event_seq - events.length + 1;
  const values = events.map((_, i) => `($1, $${i * 3 + 2}::integer, $${i * 3 + 3}, $${i * 3 + 4}::jsonb)`).join(', ');
  const params: unknown[] = [taskId];
  events.forEach((e, i) => params.push(first + i, e.event, JSON.stringify(e.data ?? null)));
  await tx.query(`insert into bastion_task_events (task_id, seq, event, data) values ${values}`, params);
}

/**
 * The task ledger on SQL: the same statements on a PostgreSQL server (many API instances and
 * workers) and on the embedded PGlite (one process). Leases are rows locked with
 * `FOR UPDATE SKIP LOCKED`, so workers never wait on each other's claims and never get the same task.
 */
export async function createSqlTaskLedger(db: SqlClient): Promise<TaskLedger> {
  await migrate(db);
  return {
    async submit(input: SubmitInput) {
      return db.transaction(async (tx) => {
        const id = randomUUID();
        const inserted = await tx.query<TaskRow>(
          `insert into bastion_tasks (id, idempotency_key, correlation_id, request, state, max_attempts)
           values ($1, $2, $3, $4::jsonb, 'queued', $5)
           on conflict (idempotency_key) do nothing returning *`,
          [
            id,
            input.idempotencyKey ?? null,
            input.correlationId,
            JSON.stringify(input.request),
            input.maxAttempts ?? 3,
          ],
        );
        if (inserted.length === 0) {
          const [existing] = await tx.query<TaskRow>('select * from bastion_tasks where idempotency_key = $1', [
            input.idempotencyKey,
          ]);
          return { task: toTask(existing), created: false };
        }
        const task = toTask(inserted[0]);
        await append(tx, id, [
          {
            event: 'accepted',
            data: { id, correlationId: task.correlationId, state: 'queued', createdAt: task.createdAt },
          },
        ]);
        return { task, created: true };
      });
    },

    async get(id) {
      if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
      const [row] = await db.query<TaskRow>('select * from bastion_tasks where id = $1', [id]);
      return row ? toTask(row) : undefined;
    },

    async claim(workerId, leaseMs) {
      return db.transaction(async (tx) => {
        const [row] = await tx.query<TaskRow>(
          `select * from bastion_tasks
            where state = 'queued' or (state = 'running' and lease_expires_at < now())
            order by created_at limit 1 for update skip locked`,
        );
        if (!row) return undefined;
        const expiredLease = row.state === 'running';
        if (row.attempts >= row.max_attempts || row.cancel_requested) {
          // Used up (or cancelled while its worker was dying): finished here, never handed out again.
          const result = row.cancel_requested ? cancelledResult(row) : exhaustedResult(row);
          await tx.query(
            `update bastion_tasks set state = $2, result = $3::jsonb, lease_owner = null, lease_expires_at = null, finished_at = now() where id = $1`,
            [row.id, result.status, JSON.stringify(result)],
          );
          await append(tx, row.id, [{ event: 'result', data: result }]);
          return { task: toTask({ ...row, state: result.status, result }), expiredLease, finishedWithoutRun: true };
        }
        const [leased] = await tx.query<TaskRow>(
          `update bastion_tasks set state = 'running', attempts = attempts + 1, lease_owner = $2,
             lease_expires_at = now() + ($3::integer * interval '1 millisecond'), started_at = coalesce(started_at, now())
           where id = $1 returning *`,
          [row.id, workerId, leaseMs],
        );
        if (expiredLease)
          await append(tx, row.id, [
            {
              event: 'retrying',
              data: { attempt: leased.attempts, reason: 'the worker holding the task stopped renewing its lease' },
            },
          ]);
        return { task: toTask(leased), expiredLease, finishedWithoutRun: false };
      });
    },

    async heartbeat(taskId, workerId, leaseMs): Promise<LeaseStatus> {
      const [row] = await db.query<{ cancel_requested: boolean }>(
        `update bastion_tasks set lease_expires_at = now() + ($3::integer * interval '1 millisecond')
          where id = $1 and lease_owner = $2 and state = 'running' returning cancel_requested`,
        [taskId, workerId, leaseMs],
      );
      return row ? { held: true, cancelRequested: row.cancel_requested } : { held: false, cancelRequested: false };
    },

    async setBaseTreeHash(taskId, workerId, treeHash) {
      const [row] = await db.query<{ base_tree_hash: string }>(
        `update bastion_tasks set base_tree_hash = coalesce(base_tree_hash, $3) where id = $1 and lease_owner = $2 returning base_tree_hash`,
        [taskId, workerId, treeHash],
      );
      return row?.base_tree_hash ?? treeHash;
    },

    async appendEvents(taskId, events) {
      await db.transaction((tx) => append(tx, taskId, events));
    },

    async eventsSince(taskId, afterSeq, limit = 500) {
      const rows = await db.query<{ seq: number; event: LedgerEventName; data: unknown }>(
        'select seq, event, data from bastion_task_events where task_id = $1 and seq > $2 order by seq limit $3',
        [taskId, afterSeq, limit],
      );
      return rows as LedgerEvent[];
    },

    async complete(taskId, workerId, result, apply?: ApplyRecord) {
      return db.transaction(async (tx) => {
        const [row] = await tx.query<{ id: string }>(
          `update bastion_tasks set state = $3, result = $4::jsonb, provider = $5, lease_owner = null, lease_expires_at = null, finished_at = now()
            where id = $1 and lease_owner = $2 and state = 'running' returning id`,
          [taskId, workerId, result.status, JSON.stringify(result), result.provider],
        );
        if (!row) return false;
        // The apply's record commits with the completion or not at all (primary key: one per task).
        if (apply)
          await tx.query(
            'insert into bastion_task_applies (task_id, base_tree_hash, applied_changes) values ($1, $2, $3::jsonb)',
            [taskId, apply.baseTreeHash, JSON.stringify(apply.appliedChanges)],
          );
        await append(tx, taskId, [{ event: 'result', data: result }]);
        return true;
      });
    },

    async applyOf(taskId) {
      const [row] = await db.query<{ base_tree_hash: string; applied_changes: unknown[] }>(
        'select base_tree_hash, applied_changes from bastion_task_applies where task_id = $1',
        [taskId],
      );
      return row ? { baseTreeHash: row.base_tree_hash, appliedChanges: row.applied_changes } : undefined;
    },

    async cancel(taskId, result) {
      return db.transaction(async (tx) => {
        const [row] = await tx.query<TaskRow>('select * from bastion_tasks where id = $1 for update', [taskId]);
        if (!row) return undefined;
        if (row.state === 'queued') {
          const [done] = await tx.query<TaskRow>(
            `update bastion_tasks set state = $2, result = $3::jsonb, cancel_requested = true, finished_at = now() where id = $1 returning *`,
            [taskId, result.status, JSON.stringify(result)],
          );
          await append(tx, taskId, [{ event: 'result', data: result }]);
          return toTask(done);
        }
        if (row.state === 'running') {
          const [flagged] = await tx.query<TaskRow>(
            'update bastion_tasks set cancel_requested = true where id = $1 returning *',
            [taskId],
          );
          return toTask(flagged);
        }
        return toTask(row);
      });
    },

    async recoverAbandoned(workerId) {
      const rows = await db.query<{ id: string }>(
        `update bastion_tasks set lease_expires_at = now() where state = 'running' and lease_owner is distinct from $1 returning id`,
        [workerId],
      );
      return rows.length;
    },

    async stats(): Promise<QueueStats> {
      const rows = await db.query<{ state: string; n: string | number }>(
        `select state, count(*) as n from bastion_tasks where state in ('queued', 'running') group by state`,
      );
      const of = (s: string) => Number(rows.find((r) => r.state === s)?.n ?? 0);
      return { queued: of('queued'), running: of('running') };
    },

    async ping() {
      await db.query('select 1');
    },

    close: () => db.close(),
  };
}

function exhaustedResult(row: TaskRow): AgentResult {
  return failedResult(
    row,
    'PROVIDER_FAILED',
    `the task was started ${row.attempts} time(s) and its worker stopped each time (max attempts ${row.max_attempts}); check the workers' logs and submit it again`,
  );
}

function cancelledResult(row: TaskRow): AgentResult {
  return failedResult(row, 'TIMEOUT', 'the caller cancelled the task');
}

/** A result for a task that no run finished; its shape is the pipeline's own not-run result. */
export function failedResult(
  row: Pick<TaskRow, 'correlation_id' | 'request'>,
  code: 'PROVIDER_FAILED' | 'TIMEOUT' | 'CONFLICT' | 'INTERNAL',
  message: string,
): AgentResult {
  const provider = typeof row.request.provider === 'string' ? row.request.provider : 'none';
  return {
    status: 'failed',
    correlationId: row.correlation_id,
    provider,
    mode: 'read-only',
    response: '',
    proposedChanges: [],
    appliedChanges: [],
    redactions: [],
    policy: { decision: 'deny', reasons: [] },
    execution: null,
    error: { code, message, retryable: code === 'PROVIDER_FAILED' || code === 'TIMEOUT' },
  } as AgentResult;
}
