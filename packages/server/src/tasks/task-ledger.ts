import { z } from 'zod';
import type { AgentResult } from '@bastion/providers';

/**
 * The contract of a durable task ledger: what the API commits when it accepts a task, what workers
 * lease and finish, and the event stream followers replay. Implemented on SQL (sql-task-ledger.ts)
 * for a PostgreSQL server and for the embedded PGlite; a new store runs the same contract suite.
 */
export const TaskState = z
  .enum(['queued', 'running', 'succeeded', 'failed', 'denied'])
  .describe('queued until a worker leases it; running while leased; then the result status');
export type TaskState = z.infer<typeof TaskState>;

export const IdempotencyKey = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'an Idempotency-Key is 1-128 characters of A-Z a-z 0-9 . _ : -')
  .describe('The same key returns the same task instead of accepting a second one');

export const DurableTask = z.object({
  id: z.string().uuid(),
  correlationId: z.string(),
  idempotencyKey: z.string().nullable(),
  request: z
    .record(z.string(), z.unknown())
    .describe('The TaskRequest as accepted (already admitted: workspace resolved)'),
  state: TaskState,
  attempts: z.number().int().min(0),
  maxAttempts: z.number().int().min(1),
  leaseOwner: z.string().nullable(),
  leaseExpiresAt: z.string().nullable(),
  cancelRequested: z.boolean(),
  baseTreeHash: z.string().nullable(),
  provider: z.string().nullable(),
  result: z
    .custom<AgentResult>()
    .nullable()
    .describe('The sanitized AgentResult (an exec result also carries stdout and stderr)'),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type DurableTask = z.infer<typeof DurableTask>;

export const LedgerEventName = z.enum(['accepted', 'routed', 'output', 'retrying', 'result']);
export type LedgerEventName = z.infer<typeof LedgerEventName>;

/** One event of a task; `seq` rises by one per event of that task, so Last-Event-ID resumes from any API instance. */
export interface LedgerEvent {
  readonly seq: number;
  readonly event: LedgerEventName;
  readonly data: unknown;
}

export interface SubmitInput {
  readonly request: Record<string, unknown>;
  readonly correlationId: string;
  readonly idempotencyKey?: string;
  /** Runs allowed before the task fails for good (a worker that died mid-run counts). Default 3. */
  readonly maxAttempts?: number;
}

/** The effect of an apply, recorded with the completion so a re-run can tell it already happened. */
export interface ApplyRecord {
  readonly baseTreeHash: string;
  readonly appliedChanges: readonly unknown[];
}

export interface Claim {
  readonly task: DurableTask;
  /** The task was running under a lease that expired: this is a re-run. */
  readonly expiredLease: boolean;
  /** Its attempts were used up (or it was cancelled): it was finished failed instead of leased. */
  readonly finishedWithoutRun: boolean;
}

export interface LeaseStatus {
  /** false: the lease expired and another worker may hold the task; stop working on it. */
  readonly held: boolean;
  readonly cancelRequested: boolean;
}

export interface QueueStats {
  readonly queued: number;
  readonly running: number;
}

export interface TaskLedger {
  /** Commits the task (and its `accepted` event) before returning; an existing idempotency key returns that task, created false. */
  submit(input: SubmitInput): Promise<{ task: DurableTask; created: boolean }>;
  get(id: string): Promise<DurableTask | undefined>;
  /**
   * Leases the oldest runnable task (queued, or running with an expired lease: its worker died) for
   * `leaseMs`. A task whose attempts are used up is finished as failed instead of handed out.
   */
  claim(workerId: string, leaseMs: number): Promise<Claim | undefined>;
  /** Extends the lease while the worker still holds it; says whether cancellation was asked. */
  heartbeat(taskId: string, workerId: string, leaseMs: number): Promise<LeaseStatus>;
  /** Remembers the workspace tree a task's apply may go over (first attempt only). */
  setBaseTreeHash(taskId: string, workerId: string, treeHash: string): Promise<string>;
  appendEvents(taskId: string, events: readonly { event: LedgerEventName; data: unknown }[]): Promise<void>;
  eventsSince(taskId: string, afterSeq: number, limit?: number): Promise<LedgerEvent[]>;
  /**
   * Finishes the task with its result (and the `result` event, and the apply record if any) in one
   * transaction, only while `workerId` holds the lease: false when it lost it (another run owns the task).
   */
  complete(taskId: string, workerId: string, result: AgentResult, apply?: ApplyRecord): Promise<boolean>;
  /** The apply already recorded for a task, if any. */
  applyOf(taskId: string): Promise<ApplyRecord | undefined>;
  /** A queued task is finished cancelled at once; a running one is flagged for its worker's next heartbeat. */
  cancel(taskId: string, result: AgentResult): Promise<DurableTask | undefined>;
  /**
   * Lets other workers take at once every task leased by someone other than `workerId`. Only for a
   * store one process owns (the embedded one): at its start, any other holder is a dead process.
   */
  recoverAbandoned(workerId: string): Promise<number>;
  stats(): Promise<QueueStats>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
