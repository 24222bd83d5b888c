import type { AgentResult } from '@bastion/providers';
import type { TaskEventLog } from './task-event-log';

export type TaskState = 'running' | AgentResult['status'];

export interface TaskRecord {
  readonly id: string;
  readonly correlationId: string;
  state: TaskState;
  readonly createdAt: string;
  finishedAt?: string;
  provider?: string;
  result?: AgentResult;
  /** What followers of /v1/tasks/:id/events (and the submitting stream) see. */
  readonly events: TaskEventLog;
}

/** Recent tasks by id, bounded: the oldest finished ones are forgotten first. */
export class TaskStore {
  private readonly tasks = new Map<string, TaskRecord>();
  constructor(private readonly capacity = 1000) {}

  add(record: TaskRecord): void {
    this.tasks.set(record.id, record);
    if (this.tasks.size <= this.capacity) return;
    for (const [id, t] of this.tasks) {
      if (t.state !== 'running') {
        this.tasks.delete(id);
        if (this.tasks.size <= this.capacity) return;
      }
    }
  }

  get(id: string): TaskRecord | undefined {
    return this.tasks.get(id);
  }

  finish(id: string, result: AgentResult): void {
    const t = this.tasks.get(id);
    if (!t) return;
    t.state = result.status;
    t.result = result;
    t.provider = result.provider;
    t.finishedAt = new Date().toISOString();
  }
}
