import type { AgentResult } from '@bastion/providers';
import type { Router } from '@bastion/agent-runtime';
import { TaskEventLog } from '../service/task-event-log';
import { TaskRequest } from '../service/task-request';
import { failedResult } from './sql-task-ledger';
import type { TaskRunner } from './task-worker';

/**
 * Runs a ledger task through the runtime's router, as the in-memory service does: the same
 * policy, sandbox and sanitizer, and output shaped for followers by the same event log (terminal
 * control dropped, agents' known noise lines left out). The request is parsed again here: it
 * crossed a database.
 */
export function routerTaskRunner(router: Pick<Router, 'route'>): TaskRunner {
  return async (request, o): Promise<AgentResult> => {
    const parsed = TaskRequest.safeParse(request);
    if (!parsed.success)
      return failedResult(
        { correlation_id: o.correlationId, request },
        'INTERNAL',
        `the task in the ledger is not a valid request (${parsed.error.issues[0]?.message}); submit it again`,
      );
    const { provider, ...task } = parsed.data;
    const log = new TaskEventLog();
    const unsubscribe = log.subscribe((e) => {
      if (e?.event === 'output') {
        const { stream, text } = e.data as { stream: 'stdout' | 'stderr'; text: string };
        o.onOutput(stream, text);
      }
    });
    try {
      const result = await router.route(task, {
        correlationId: o.correlationId,
        signal: o.signal,
        ...(provider ? { provider } : {}),
        onRouted: o.onRouted,
        onOutput: (s, t) => log.output(s, t),
      });
      log.finish(result);
      return result;
    } finally {
      unsubscribe();
    }
  };
}
