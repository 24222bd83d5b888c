import { BastionError } from '@bastion/core';
import type { AgentProvider, ResultMode } from '@bastion/providers';
import { runAgent, type AgentCallOptions, type ChangeHandler } from '../pipeline/agent-call';
import type { Pipeline } from '../pipeline/pipeline';
import type { FlagService } from '../flags/flag-service';
import type { ProviderCall } from './router';

export interface PipelineCallOptions {
  /** Read at call time, so a runtime can swap its pipeline (e.g. the backend flag) between calls. */
  pipeline: Pipeline | (() => Pipeline | Promise<Pipeline>);
  providers: readonly AgentProvider[];
  planContext: AgentCallOptions['planContext'];
  /** FF_CURSOR_AUTOFIX decides whether Cursor's edits are applied; absent: never applied. */
  flags?: Pick<FlagService, 'cursorAutofix'>;
  changes?: ChangeHandler;
}

/**
 * The router's `call` over the real pipeline: each attempt is one `runAgent` (provider plans,
 * policy → executor → sanitizer, provider parses). The result mode is decided here, per call:
 * analyze → read-only; edit → dry-run, or apply when the provider is cursor and FF_CURSOR_AUTOFIX
 * is on at this moment (the flag service audits that evaluation).
 */
export function createPipelineCall(options: PipelineCallOptions): ProviderCall {
  const byId = new Map(options.providers.map((p) => [p.id, p]));
  return async (providerId, task, call) => {
    const provider = byId.get(providerId);
    if (!provider) throw new BastionError('INVALID_INPUT', `no provider "${providerId}" is registered`);
    let mode: ResultMode = 'read-only';
    if (task.intent === 'edit') {
      const autofix = providerId === 'cursor' && options.flags ? (await options.flags.cursorAutofix({ correlationId: call.correlationId })).enabled : false;
      mode = autofix ? 'apply' : 'dry-run';
    }
    const pipeline = typeof options.pipeline === 'function' ? await options.pipeline() : options.pipeline;
    return runAgent(pipeline, provider, task, {
      planContext: options.planContext,
      mode,
      correlationId: call.correlationId,
      signal: call.signal,
      ...(call.onOutput ? { onOutput: call.onOutput } : {}),
      ...(options.changes ? { changes: options.changes } : {}),
    });
  };
}
