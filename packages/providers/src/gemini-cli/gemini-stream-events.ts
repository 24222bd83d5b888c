import { z } from 'zod';
import { jsonObjectLine } from '../contract/json-lines';
import type { GeminiErrorDocument } from './gemini-output';

/**
 * `gemini --output-format stream-json` (0.61.0): one JSON object per line on stdout, printed as the
 * agent works, so a follower of the task sees the answer grow instead of one block at the end.
 * Observed lines (packages/testing/src/fake-gemini-api/OBSERVED.md):
 *   {"type":"init","session_id":…,"model":…}
 *   {"type":"message","role":"user"|"assistant","content":"…","delta":true}
 *   {"type":"tool_use",…} {"type":"tool_result",…} {"type":"error","severity":…,"message":…}
 *   {"type":"result","status":"success"|"error","error"?:{"type","message"},"stats":{…}}
 */
const MessageEvent = z.object({ type: z.literal('message'), role: z.string(), content: z.string() }).passthrough();

const TokenCounts = z
  .object({ total_tokens: z.number(), input_tokens: z.number(), output_tokens: z.number(), cached: z.number() })
  .partial()
  .passthrough();

export const GeminiStreamResult = z
  .object({
    type: z.literal('result'),
    status: z.string(),
    session_id: z.string().optional(),
    error: z
      .object({ type: z.string().optional(), message: z.string(), code: z.number().optional() })
      .passthrough()
      .optional(),
    stats: TokenCounts.extend({
      duration_ms: z.number().optional(),
      tool_calls: z.number().optional(),
      models: z.record(z.string(), TokenCounts).optional(),
    })
      .passthrough()
      .optional(),
  })
  .passthrough();
export type GeminiStreamResult = z.infer<typeof GeminiStreamResult>;

const InitEvent = z.object({ type: z.literal('init'), session_id: z.string() }).passthrough();

/** What a stream-json run said: the assistant's text joined, and its last `result` line. */
export interface GeminiStream {
  readonly response: string;
  readonly result: GeminiStreamResult;
  readonly sessionId?: string;
}

/** Parses stream-json lines; undefined when no `result` line is present (cut short, or not stream-json). */
export function parseGeminiStream(stdout: string): GeminiStream | undefined {
  let response = '';
  let result: GeminiStreamResult | undefined;
  let sessionId: string | undefined;
  for (const line of stdout.split('\n')) {
    // A line cut by the output limit or interleaved with noise is not an event; the result line decides.
    const event = jsonObjectLine(line);
    if (event === undefined) continue;
    const message = MessageEvent.safeParse(event);
    if (message.success) {
      if (message.data.role === 'assistant') response += message.data.content;
      continue;
    }
    const init = InitEvent.safeParse(event);
    if (init.success) sessionId = init.data.session_id;
    const end = GeminiStreamResult.safeParse(event);
    if (end.success) result = end.data;
  }
  if (!result) return undefined;
  return { response, result, ...(sessionId ? { sessionId } : {}) };
}

/**
 * The stream's error as the json-mode error document, so one mapping serves both. The stream's
 * error carries no `code`: take the HTTP status from the Google body quoted in its message, else
 * from the exit code (the CLI exits with the HTTP status truncated to 8 bits).
 */
export function streamErrorDocument(stream: GeminiStream, exitCode: number | null): GeminiErrorDocument {
  const message = stream.result.error?.message ?? `Gemini CLI reported status ${stream.result.status}`;
  const code = stream.result.error?.code ?? httpStatusIn(message) ?? httpStatusOfExit(exitCode);
  return {
    ...(stream.sessionId ? { session_id: stream.sessionId } : {}),
    error: {
      ...(stream.result.error?.type ? { type: stream.result.error.type } : {}),
      message,
      ...(code !== undefined ? { code } : {}),
    },
  };
}

/** Token counts of a stream-json result, in the same shape as the json mode's usage stats. */
export function streamUsageStats(stream: GeminiStream): Record<string, unknown> {
  const stats = stream.result.stats;
  const tokens: Record<string, number> = {};
  if (stats?.input_tokens !== undefined) tokens.input = stats.input_tokens;
  if (stats?.output_tokens !== undefined) tokens.output = stats.output_tokens;
  if (stats?.cached !== undefined) tokens.cached = stats.cached;
  if (stats?.total_tokens !== undefined) tokens.total = stats.total_tokens;
  return {
    models: Object.keys(stats?.models ?? {}),
    tokens,
    ...(stats?.tool_calls !== undefined ? { toolCalls: stats.tool_calls } : {}),
    ...(stats?.duration_ms !== undefined ? { durationMs: stats.duration_ms } : {}),
    ...(stream.sessionId ? { sessionId: stream.sessionId } : {}),
  };
}

/** Exit codes the CLI uses for HTTP statuses it gave up on (status & 0xff), per OBSERVED.md. */
const EXIT_TO_HTTP: Readonly<Record<number, number>> = { 144: 400, 145: 401, 147: 403, 173: 429, 244: 500, 247: 503 };

/** The HTTP status for a CLI exit code, or the exit code itself for the CLI's own fatal codes (41: auth). */
export function httpStatusOfExit(exitCode: number | null): number | undefined {
  if (exitCode === null || exitCode === 0) return undefined;
  return EXIT_TO_HTTP[exitCode] ?? exitCode;
}

function httpStatusIn(message: string): number | undefined {
  const code = /"code"\s*:\s*(\d{3})\b/.exec(message)?.[1];
  return code ? Number(code) : undefined;
}
