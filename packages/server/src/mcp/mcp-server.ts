import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { BastionError } from '@bastion/core';
import { AgentResult, notRunResult } from '@bastion/providers';
import type { AuditLog, Router } from '@bastion/agent-runtime';
import { admitTaskRequest, taskRequestFor, type TaskRequest, type TaskWorkspaceAccess } from '../service/task-request';
import { createProgressReporter, type ProgressSink } from './progress-reporter';

/** A sanitizer as the `sanitize` tool needs it (the OutputSanitizer of @bastion/security fits). */
export interface TextSanitizer {
  sanitize(input: string): { text: string; redactions: { ruleId: string; count: number; severity?: string }[] };
}

export interface McpServerOptions {
  router: Pick<Router, 'route' | 'providerIds'>;
  /** When given, a `sanitize` tool is offered too. */
  sanitizer?: TextSanitizer;
  version?: string;
  /** Which workspaces callers may name; absent: none, so a task naming one is refused. */
  workspaceAccess?: TaskWorkspaceAccess;
  /** While run_task runs, a progress notification at least this often (when the client asked for progress). Default 5 s. */
  progressIntervalMs?: number;
  /** Where a refused workspace is recorded (mcp.workspace_refused), as the HTTP service records its own. */
  audit?: Pick<AuditLog, 'record'>;
}

export const SanitizeRequest = z
  .object({ text: z.string().max(10_000_000).describe('Text to scrub of secrets and PII') })
  .strict();
export const SanitizeResult = z
  .object({
    text: z.string().describe('The text with every secret and PII value replaced'),
    redactions: AgentResult.shape.redactions.describe('Which rules fired and how often; never the values'),
  })
  .strict();

export const RUN_TASK_DESCRIPTION =
  'Runs a coding agent on a task inside a hardened sandbox, under policy, with its output sanitized; answers with the AgentResult. ' +
  'intent "analyze" (default) is read-only: the workspace is mounted read-only. ' +
  'intent "edit" (cursor only; gemini-cli cannot edit) works on a throwaway copy and returns proposedChanges as unified diffs (mode "dry-run"); ' +
  "the changes are applied to the workspace only when the operator has turned FF_CURSOR_AUTOFIX on and the policy's path rules accept every changed path, " +
  'and then mode is "apply" and appliedChanges lists them. A workspace must lie below a root the operator configured (--workspace-root). ' +
  'Sends progress notifications while the agent runs when the request carries a progressToken.';

/**
 * Bastion as MCP tools, so agents can call it: `run_task` routes an AgentTask exactly like
 * POST /v1/tasks (same zod schema, same router, same policy and sandbox) and answers with the
 * AgentResult as JSON; `sanitize` runs text through the output sanitizer.
 */
export function createBastionMcpServer(options: McpServerOptions): McpServer {
  const server = new McpServer({ name: 'bastion', version: options.version ?? '0.1.0' });
  // Refused before the router: nothing was copied, mounted or run, and no pipeline audited a thing,
  // so this is the only trace of a client naming /etc or another user's tree.
  const refusedResult = (provider: string, error: BastionError): AgentResult => {
    const result = notRunResult({ provider, correlationId: randomUUID(), error: error.toInfo() });
    options.audit?.record({
      event: 'mcp.workspace_refused',
      correlationId: result.correlationId,
      stage: 'mcp',
      tool: 'run_task',
      error: error.toInfo(),
    });
    return result;
  };

  server.registerTool(
    'run_task',
    {
      title: 'Run an agent task in the Bastion sandbox',
      description: RUN_TASK_DESCRIPTION,
      inputSchema: taskRequestFor(options.router.providerIds),
      outputSchema: AgentResult,
      // An edit may be applied to the caller's files (FF_CURSOR_AUTOFIX), and the agent calls a model API.
      annotations: {
        title: 'Run an agent task',
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    async (args, extra) => {
      const admitted = await admitTaskRequest(args as TaskRequest, options.workspaceAccess);
      const { provider, ...task } = admitted.ok ? admitted.request : (args as TaskRequest);
      const token = extra._meta?.progressToken;
      const sink: ProgressSink | undefined =
        token === undefined
          ? undefined
          : (progress, message) =>
              extra.sendNotification({
                method: 'notifications/progress',
                params: { progressToken: token, progress, message },
              });
      const progress = createProgressReporter(sink, { intervalMs: options.progressIntervalMs ?? 5_000 });
      // A refused workspace never reaches the router: nothing is copied, mounted or run.
      let result: AgentResult;
      try {
        result = admitted.ok
          ? await options.router.route(task, {
              signal: extra.signal,
              ...(provider ? { provider } : {}),
              onRouted: (info) => progress.routed(info.provider),
              onOutput: (_stream, text) => progress.output(text.length),
            })
          : refusedResult(provider ?? 'none', admitted.error);
      } finally {
        progress.stop();
      }
      return {
        content: [{ type: 'text', text: JSON.stringify(result) }],
        structuredContent: result as unknown as Record<string, unknown>,
        isError: result.status !== 'succeeded',
      };
    },
  );

  const sanitizer = options.sanitizer;
  if (sanitizer) {
    server.registerTool(
      'sanitize',
      {
        title: 'Scrub secrets and PII from text',
        description:
          'Runs text through the Bastion output sanitizer; returns the clean text and which rules fired (never the values).',
        inputSchema: SanitizeRequest,
        outputSchema: SanitizeResult,
        annotations: {
          title: 'Scrub secrets and PII',
          readOnlyHint: true,
          destructiveHint: false,
          idempotentHint: true,
          openWorldHint: false,
        },
      },
      async (args) => {
        const { text, redactions } = sanitizer.sanitize((args as z.infer<typeof SanitizeRequest>).text);
        // Exactly the declared fields: a sanitizer's report may carry more than the output schema allows.
        const report = redactions.map((r) => ({
          ruleId: r.ruleId,
          count: r.count,
          ...(r.severity ? { severity: r.severity } : {}),
        }));
        return { content: [{ type: 'text', text }], structuredContent: { text, redactions: report } };
      },
    );
  }
  return server;
}
