import { z } from 'zod';
import { BastionError } from '@bastion/core';
import { AgentTask } from '@bastion/providers';
import { NO_WORKSPACE_ROOTS, admitTaskWorkspace, type WorkspaceAccess } from '@bastion/agent-runtime';

/** Body of POST /v1/tasks and /v1/tasks/stream: an AgentTask, optionally pinned to one provider. */
export const TaskRequest = AgentTask.extend({
  provider: z.string().min(1).max(64).optional().describe('Run on this provider only; default: the router picks'),
}).strict();
export type TaskRequest = z.infer<typeof TaskRequest>;

/**
 * TaskRequest with `provider` as the enum of the providers this service runs, so an unknown name is
 * a 400 INVALID_INPUT that lists the known ones (and OpenAPI and MCP clients see the choices).
 */
export function taskRequestFor(providerIds: readonly string[]) {
  if (providerIds.length === 0) return TaskRequest;
  return AgentTask.extend({
    provider: z
      .enum(providerIds as [string, ...string[]])
      .optional()
      .describe(`Run on this provider only (${providerIds.join(', ')}); default: the router picks`),
  }).strict();
}

export const TaskQuery = z
  .object({
    wait: z
      .enum(['true', 'false', '1', '0'])
      .optional()
      .describe('true: answer with the AgentResult when the task finishes'),
  })
  .strict();

export interface Problem {
  readonly path: string;
  readonly message: string;
}

export function problemsOf(error: z.ZodError): Problem[] {
  return error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/** What the service and the MCP server need of workspace access (see workspace-access/). */
export type TaskWorkspaceAccess = Pick<WorkspaceAccess, 'admit'>;

/**
 * Decides a request's workspace before anything is accepted, copied or mounted: the request with
 * its workspace replaced by the real path, or the INVALID_INPUT that says why and how to fix it.
 * Without a configured access, any request that names a workspace is refused.
 */
export async function admitTaskRequest<T extends { workspace?: string | undefined } & Record<string, unknown>>(
  request: T,
  access: TaskWorkspaceAccess = NO_WORKSPACE_ROOTS,
): Promise<{ ok: true; request: T } | { ok: false; error: BastionError }> {
  try {
    return { ok: true, request: await admitTaskWorkspace(request, access) };
  } catch (err) {
    return { ok: false, error: BastionError.from(err, 'INVALID_INPUT') };
  }
}
