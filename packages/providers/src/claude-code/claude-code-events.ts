import { z } from 'zod';
import { jsonObjectLine } from '../contract/json-lines';

/**
 * The lines of `claude -p --output-format stream-json --verbose` that Bastion reads (observed with
 * 2.1.332, see packages/testing/src/fake-anthropic-api/OBSERVED.md). Every schema passes unknown
 * fields through: the CLI adds fields from release to release.
 */
const ContentBlock = z.union([
  z.object({ type: z.literal('text'), text: z.string() }).passthrough(),
  z
    .object({
      type: z.literal('tool_use'),
      id: z.string().optional(),
      name: z.string(),
      input: z.record(z.string(), z.unknown()).default({}),
    })
    .passthrough(),
  z.object({ type: z.string() }).passthrough(),
]);

export const ClaudeInitEvent = z
  .object({
    type: z.literal('system'),
    subtype: z.literal('init'),
    model: z.string().optional(),
    session_id: z.string().optional(),
    permissionMode: z.string().optional(),
    apiKeySource: z.string().optional(),
  })
  .passthrough();

export const ClaudeRetryEvent = z
  .object({
    type: z.literal('system'),
    subtype: z.literal('api_retry'),
    attempt: z.number().optional(),
    error_status: z.number().nullable().optional(),
    error: z.string().optional(),
  })
  .passthrough();

export const ClaudeAssistantEvent = z
  .object({
    type: z.literal('assistant'),
    message: z.object({ content: z.array(ContentBlock).default([]) }).passthrough(),
  })
  .passthrough();

export const ClaudeResultEvent = z
  .object({
    type: z.literal('result'),
    subtype: z.string().optional(),
    is_error: z.boolean().optional(),
    result: z.string().optional(),
    api_error_status: z.number().nullable().optional(),
    terminal_reason: z.string().optional(),
    session_id: z.string().optional(),
    num_turns: z.number().optional(),
    duration_ms: z.number().optional(),
    duration_api_ms: z.number().optional(),
    total_cost_usd: z.number().optional(),
    usage: z.record(z.string(), z.unknown()).optional(),
    modelUsage: z.record(z.string(), z.unknown()).optional(),
    permission_denials: z.array(z.unknown()).optional(),
  })
  .passthrough();
export type ClaudeResultEvent = z.infer<typeof ClaudeResultEvent>;

export interface ClaudeToolUse {
  readonly name: string;
  readonly input: Readonly<Record<string, unknown>>;
}

export interface ClaudeCodeEvents {
  init?: z.infer<typeof ClaudeInitEvent>;
  /** The last `result` line; absent when the CLI died, was killed or printed something else. */
  result?: ClaudeResultEvent;
  assistantText: string[];
  toolUses: ClaudeToolUse[];
  /** HTTP status of each `api_retry` the CLI reported (it retries on its own unless told not to). */
  retryStatuses: number[];
}

/** Tools that write a file, and the input field naming it. Read is left out: reading is not an edit. */
const FILE_WRITING_TOOLS: Readonly<Record<string, string>> = {
  Write: 'file_path',
  Edit: 'file_path',
  MultiEdit: 'file_path',
  NotebookEdit: 'notebook_path',
};

/** Reads stream-json (or the one-document json mode); lines that are not JSON objects are skipped. Pure. */
export function readClaudeCodeEvents(stdout: string): ClaudeCodeEvents {
  const events: ClaudeCodeEvents = { assistantText: [], toolUses: [], retryStatuses: [] };
  for (const line of stdout.split('\n')) {
    // A torn or redaction-damaged line is not an event; a missing result is judged by the caller.
    const doc = jsonObjectLine(line);
    if (doc === undefined) continue;
    const result = ClaudeResultEvent.safeParse(doc);
    if (result.success) {
      events.result = result.data;
      continue;
    }
    const assistant = ClaudeAssistantEvent.safeParse(doc);
    if (assistant.success) {
      for (const block of assistant.data.message.content) {
        if (block.type === 'text' && typeof block.text === 'string') events.assistantText.push(block.text);
        if (block.type === 'tool_use' && typeof block.name === 'string')
          events.toolUses.push({ name: block.name, input: (block.input ?? {}) as Record<string, unknown> });
      }
      continue;
    }
    const init = ClaudeInitEvent.safeParse(doc);
    if (init.success) {
      events.init = init.data;
      continue;
    }
    const retry = ClaudeRetryEvent.safeParse(doc);
    if (retry.success && typeof retry.data.error_status === 'number')
      events.retryStatuses.push(retry.data.error_status);
  }
  return events;
}

/** Paths the agent aimed its file-writing tools at, as it spelled them (the runtime checks them against the workspace). */
export function claudeToolPaths(events: Pick<ClaudeCodeEvents, 'toolUses'>): string[] {
  const out: string[] = [];
  for (const use of events.toolUses) {
    const field = FILE_WRITING_TOOLS[use.name];
    const path = field === undefined ? undefined : use.input[field];
    if (typeof path === 'string') out.push(path);
  }
  return out;
}
