import { posix } from 'node:path';
import { BastionError, type ErrorInfo } from '@bastion/core';
import type { ParsedOutcome, ProviderOutput } from '../contract/agent-provider';
import { isRecord, jsonObjectLine } from '../contract/json-lines';

/** The final document of `cursor-agent -p --output-format json|stream-json`. */
interface CursorResultEvent {
  type: 'result';
  subtype?: string;
  is_error?: boolean;
  result?: unknown;
  duration_ms?: unknown;
  duration_api_ms?: unknown;
  session_id?: unknown;
  request_id?: unknown;
}

interface CursorEvents {
  result?: CursorResultEvent;
  init?: Record<string, unknown>;
  assistantText: string[];
  toolCalls: number;
  /** Paths the agent's file tools were pointed at (absolute, as the agent saw them). */
  toolPaths: string[];
}

const AUTH = /Authentication required|not logged in|invalid api key|unauthori[sz]ed/i;
const USAGE_LIMIT = /usage limit|\[resource_exhausted\]|rate limit/i;
const TRUST = /Workspace Trust Required/;
const FILE_TOOLS = ['writeToolCall', 'editToolCall', 'deleteToolCall', 'readToolCall'];
const MAX_MESSAGE = 300;

/** Reads json or stream-json output; lines that are not JSON objects are ignored. */
export function readCursorEvents(stdout: string): CursorEvents {
  const events: CursorEvents = { assistantText: [], toolCalls: 0, toolPaths: [] };
  for (const line of stdout.split('\n')) {
    // A torn or redaction-damaged line is not an event; a missing result is judged below.
    const doc = jsonObjectLine(line);
    if (doc === undefined) continue;
    switch (doc.type) {
      case 'result':
        events.result = doc as unknown as CursorResultEvent;
        break;
      case 'system':
        if (doc.subtype === 'init') events.init = doc;
        break;
      case 'assistant': {
        const content = isRecord(doc.message) && Array.isArray(doc.message.content) ? doc.message.content : [];
        for (const part of content)
          if (isRecord(part) && typeof part.text === 'string') events.assistantText.push(part.text);
        break;
      }
      case 'tool_call': {
        if (doc.subtype !== 'started' || !isRecord(doc.tool_call)) break;
        events.toolCalls++;
        for (const name of FILE_TOOLS) {
          const call = doc.tool_call[name];
          if (isRecord(call) && isRecord(call.args) && typeof call.args.path === 'string' && name !== 'readToolCall')
            events.toolPaths.push(call.args.path);
        }
        break;
      }
      default:
        break;
    }
  }
  return events;
}

/**
 * Paths the agent's file tools targeted outside the workspace, relative to it (`../x`, `../../etc/passwd`).
 * The sandbox stops such writes (read-only root); the runtime still treats the attempt as a violation.
 */
export function cursorToolPathEscapes(stdout: string, workspaceMountPath: string): string[] {
  const root = posix.resolve('/', workspaceMountPath);
  const out = new Set<string>();
  for (const raw of readCursorEvents(stdout).toolPaths) {
    const abs = posix.resolve(root, raw);
    if (abs !== root && !abs.startsWith(root + '/')) out.add(posix.relative(root, abs));
  }
  return [...out];
}

/** The first `Error: …` line of the CLI's stderr (already sanitized), shortened for a message. */
function errorLine(stderr: string): string | undefined {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const line = lines.find((l) => l.startsWith('Error:')) ?? lines[0];
  if (line === undefined) return undefined;
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}…` : line;
}

export function classifyCursorFailure(
  output: Pick<ProviderOutput, 'stderr' | 'exitCode'>,
  resultText?: string,
): ErrorInfo {
  const text = `${output.stderr}\n${resultText ?? ''}`;
  if (AUTH.test(text)) {
    return new BastionError(
      'AUTH_FAILED',
      'cursor-agent is not authenticated: set CURSOR_API_KEY (or CURSOR_API_KEY_FILE) for Bastion; the key is passed into the sandbox, never logged',
      { retryable: false },
    ).toInfo();
  }
  if (USAGE_LIMIT.test(text)) {
    return new BastionError(
      'RATE_LIMITED',
      'Cursor refused the call: usage limit reached or resource exhausted; retry after the limit resets',
      {
        retryable: true,
      },
    ).toInfo();
  }
  if (TRUST.test(text)) {
    return new BastionError(
      'PROVIDER_FAILED',
      'cursor-agent refused to run headless in an untrusted workspace (Bastion passes --trust; is the CLI too old?)',
      {
        retryable: false,
      },
    ).toInfo();
  }
  const line = errorLine(output.stderr);
  const how = output.exitCode === null ? 'was killed' : `exited with code ${output.exitCode}`;
  return new BastionError('PROVIDER_FAILED', `cursor-agent ${how} without a result${line ? `: ${line}` : ''}`, {
    details: { exitCode: output.exitCode },
  }).toInfo();
}

/** Maps the (sanitized) output of one `cursor-agent -p` run to an outcome. Pure. */
export function parseCursorOutput(output: ProviderOutput): ParsedOutcome {
  const events = readCursorEvents(output.stdout);
  const result = events.result;
  const stats: Record<string, unknown> = { toolCalls: events.toolCalls };
  if (result) {
    if (typeof result.duration_ms === 'number') stats.durationMs = result.duration_ms;
    if (typeof result.duration_api_ms === 'number') stats.durationApiMs = result.duration_api_ms;
    if (typeof result.session_id === 'string') stats.sessionId = result.session_id;
    if (typeof result.request_id === 'string') stats.requestId = result.request_id;
  }
  if (events.init && typeof events.init.model === 'string') stats.model = events.init.model;
  // Every path a file tool was aimed at goes back to the runtime, whatever the outcome: it refuses
  // to apply a change set when one of them lies outside the workspace.
  const paths = events.toolPaths.length > 0 ? { toolPaths: [...events.toolPaths] } : {};

  const text = typeof result?.result === 'string' ? result.result : undefined;
  if (result && text !== undefined && result.is_error !== true && result.subtype !== 'error' && output.exitCode === 0) {
    return { ok: true, response: text, stats, ...paths };
  }
  const response = text ?? events.assistantText.join('');
  if (result && (result.is_error === true || result.subtype === 'error')) {
    const classified = classifyCursorFailure(output, text);
    const error =
      classified.code === 'PROVIDER_FAILED'
        ? new BastionError(
            'PROVIDER_FAILED',
            `cursor-agent reported an error result (${String(result.subtype ?? 'error')})`,
          ).toInfo()
        : classified;
    return { ok: false, response, error, stats, ...paths };
  }
  if (result && output.exitCode !== 0)
    return { ok: false, response, error: classifyCursorFailure(output, text), stats, ...paths };
  if (!result && output.exitCode === 0) {
    const garbage = output.stdout.trim().length > 0;
    return {
      ok: false,
      response: '',
      error: new BastionError(
        'PROVIDER_FAILED',
        garbage
          ? 'cursor-agent printed output that is not its JSON result document'
          : 'cursor-agent exited 0 without a result',
      ).toInfo(),
      stats,
      ...paths,
    };
  }
  return { ok: false, response, error: classifyCursorFailure(output), stats, ...paths };
}
