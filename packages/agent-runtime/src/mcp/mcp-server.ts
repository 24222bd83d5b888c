import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { notRunResult, type AgentResult } from '@bastion/providers';
import type { Router } from '../router/router';
import { TaskRequest, admitTaskRequest, type TaskWorkspaceAccess } from '../service/task-request';

/** A sanitizer as the `sanitize` tool needs it (the OutputSanitizer of @bastion/security fits). */
export interface TextSanitizer {
  sanitize(input: string): { text: string; redactions: { ruleId: string; count: number }[] };
}

export interface McpServerOptions {
  router: Pick<Router, 'route'>;
  /** When given, a `sanitize` tool is offered too. */
  sanitizer?: TextSanitizer;
  version?: string;
  /** Which workspaces callers may name; absent: none, so a task naming one is refused. */
  workspaceAccess?: TaskWorkspaceAccess;
}

export const SanitizeRequest = z.object({ text: z.string().max(10_000_000).describe('Text to scrub of secrets and PII') }).strict();

/**
 * Bastion as MCP tools, so agents can call it: `run_task` routes an AgentTask exactly like
 * POST /v1/tasks (same zod schema, same router, same policy and sandbox) and answers with the
 * AgentResult as JSON; `sanitize` runs text through the output sanitizer.
 */
export function createBastionMcpServer(options: McpServerOptions): McpServer {
  const server = new McpServer({ name: 'bastion', version: options.version ?? '0.1.0' });

  server.registerTool(
    'run_task',
    {
      title: 'Run an agent task in the Bastion sandbox',
      description:
        'Runs a coding agent (gemini-cli or cursor) on a task inside a hardened sandbox, under policy, with output sanitized. ' +
        'intent "analyze" is read-only; "edit" returns proposed changes as diffs. Returns the AgentResult as JSON.',
      inputSchema: TaskRequest,
    },
    async (args, extra) => {
      const admitted = await admitTaskRequest(args as TaskRequest, options.workspaceAccess);
      const { provider, ...task } = admitted.ok ? admitted.request : (args as TaskRequest);
      // A refused workspace never reaches the router: nothing is copied, mounted or run.
      const result: AgentResult = admitted.ok
        ? await options.router.route(task, { signal: extra.signal, ...(provider ? { provider } : {}) })
        : notRunResult({ provider: provider ?? 'none', correlationId: randomUUID(), error: admitted.error.toInfo() });
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
        description: 'Runs text through the Bastion output sanitizer; returns the clean text and which rules fired (never the values).',
        inputSchema: SanitizeRequest,
      },
      async (args) => {
        const { text, redactions } = sanitizer.sanitize((args as z.infer<typeof SanitizeRequest>).text);
        return { content: [{ type: 'text', text }], structuredContent: { text, redactions } };
      },
    );
  }
  return server;
}
