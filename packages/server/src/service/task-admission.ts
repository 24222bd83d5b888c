import type { FastifyReply, FastifyRequest } from 'fastify';
import type { BastionError } from '@bastion/core';
import type { AuditLog, Router } from '@bastion/agent-runtime';
import { capacityMessage, capacityWaitMs } from './provider-capacity';
import { busy, invalid, unavailable } from './service-replies';
import {
  admitTaskRequest,
  problemsOf,
  taskRequestFor,
  type TaskRequest,
  type TaskWorkspaceAccess,
} from './task-request';

export interface TaskAdmissionOptions {
  router: Pick<Router, 'health' | 'providerIds'>;
  /** The service's state, read at each request. */
  state: { readonly draining: boolean; readonly inFlight: number };
  /** Tasks accepted and not finished at once; the next is answered 429. Ignored when `durable`. */
  maxInFlight: number;
  /** Durable tasks queue in the ledger: no in-process limit or bulkhead check here. */
  durable: boolean;
  workspaceAccess?: TaskWorkspaceAccess;
  audit?: Pick<AuditLog, 'record'>;
}

/** Decides whether a submitted task is taken: body, draining, capacity and workspace, in that order. */
export class TaskAdmission {
  private readonly body: ReturnType<typeof taskRequestFor>;

  constructor(private readonly options: TaskAdmissionOptions) {
    this.body = taskRequestFor(options.router.providerIds);
  }

  /** On refusal the reply is sent and null returned. */
  readonly admit = async (req: FastifyRequest, reply: FastifyReply): Promise<TaskRequest | null> => {
    const { state, router, audit, maxInFlight, durable } = this.options;
    const body = this.body.safeParse(req.body);
    if (!body.success) {
      invalid(reply, problemsOf(body.error));
      return null;
    }
    if (state.draining) {
      unavailable(reply);
      return null;
    }
    if (!durable && state.inFlight >= maxInFlight) {
      audit?.record({
        event: 'service.busy',
        correlationId: '-',
        stage: 'service',
        inFlight: state.inFlight,
        maxInFlight,
      });
      busy(reply, 1_000, `${state.inFlight} tasks are running, the most this service takes at once`);
      return null;
    }
    const full = durable ? undefined : capacityWaitMs(router.health(), body.data.provider);
    if (full !== undefined) {
      audit?.record({ event: 'service.busy', correlationId: '-', stage: 'service', reason: 'bulkhead_full' });
      busy(reply, full, capacityMessage(router.health(), body.data.provider));
      return null;
    }
    const admitted = await admitTaskRequest(body.data as TaskRequest, this.options.workspaceAccess);
    if (!admitted.ok) {
      this.refused(req, reply, admitted.error);
      return null;
    }
    return admitted.request;
  };

  // Refused before a task record exists: nothing was copied, mounted or run.
  private refused(req: FastifyRequest, reply: FastifyReply, error: BastionError) {
    this.options.audit?.record({
      event: 'service.workspace_refused',
      correlationId: '-',
      stage: 'service',
      remote: req.ip,
      error: error.toInfo(),
    });
    return reply.code(400).send({ error: error.toInfo() });
  }
}
