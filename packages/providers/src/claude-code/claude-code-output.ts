import { BastionError, type ErrorInfo } from '@bastion/core';
import type { ParsedOutcome, ProviderOutput } from '../contract/agent-provider';
import {
  claudeToolPaths,
  readClaudeCodeEvents,
  type ClaudeCodeEvents,
  type ClaudeResultEvent,
} from './claude-code-events';

const MAX_MESSAGE = 200;
/** Claude Code refuses bypassPermissions as root before any request; the sandbox runs as uid 1001, so seeing this means it did not. */
const ROOT_REFUSAL = /cannot be used with root\/sudo privileges/;

function shorten(text: string): string {
  const line = text.split('\n')[0].trim();
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}…` : line;
}

/**
 * Maps the HTTP status the Anthropic API answered (the result's `api_error_status`, or the last
 * `api_retry`) to Bastion's codes: 429 RATE_LIMITED (the gateway adds the server's retry-after),
 * 401/403 AUTH_FAILED, 529 overloaded and other 5xx a retryable PROVIDER_FAILED (as Gemini's 503).
 */
export function claudeApiError(status: number, text: string): BastionError {
  const summary = shorten(text);
  const details = { upstreamStatus: status };
  if (status === 429)
    return new BastionError('RATE_LIMITED', `Anthropic API rate limit: ${summary}`, { retryable: true, details });
  if (status === 401 || status === 403) {
    return new BastionError(
      'AUTH_FAILED',
      `Anthropic API rejected the credentials (${status}): set ANTHROPIC_API_KEY (or ANTHROPIC_API_KEY_FILE) for Bastion's gateway; the sandbox never holds it`,
      {
        retryable: false,
        details,
      },
    );
  }
  if (status === 529)
    return new BastionError('PROVIDER_FAILED', `Anthropic API is overloaded (529); retry later: ${summary}`, {
      retryable: true,
      details,
    });
  if (status >= 500)
    return new BastionError('PROVIDER_FAILED', `Anthropic API error ${status}: ${summary}`, {
      retryable: true,
      details,
    });
  return new BastionError('PROVIDER_FAILED', `Anthropic API refused the request (${status}): ${summary}`, {
    retryable: false,
    details,
  });
}

/** Usage and bookkeeping from the result line and the init line, for AgentResult.stats. */
export function claudeCodeStats(events: ClaudeCodeEvents): Record<string, unknown> {
  const stats: Record<string, unknown> = { toolCalls: events.toolUses.length };
  const r = events.result;
  const model = events.init?.model ?? (r?.modelUsage ? Object.keys(r.modelUsage)[0] : undefined);
  if (model !== undefined) stats.model = model;
  if (r === undefined) return stats;
  if (r.session_id !== undefined) stats.sessionId = r.session_id;
  if (r.num_turns !== undefined) stats.turns = r.num_turns;
  if (r.duration_ms !== undefined) stats.durationMs = r.duration_ms;
  if (r.duration_api_ms !== undefined) stats.durationApiMs = r.duration_api_ms;
  if (r.total_cost_usd !== undefined) stats.costUsd = r.total_cost_usd;
  if (r.permission_denials !== undefined) stats.permissionDenials = r.permission_denials.length;
  const usage = r.usage ?? {};
  const input = typeof usage.input_tokens === 'number' ? usage.input_tokens : undefined;
  const output = typeof usage.output_tokens === 'number' ? usage.output_tokens : undefined;
  if (input !== undefined || output !== undefined)
    stats.tokens = { input: input ?? 0, output: output ?? 0, total: (input ?? 0) + (output ?? 0) };
  return stats;
}

function failureWithoutResult(output: ProviderOutput, events: ClaudeCodeEvents): ErrorInfo {
  const lastStatus = events.retryStatuses.at(-1);
  if (lastStatus !== undefined)
    return claudeApiError(lastStatus, `gave up after ${events.retryStatuses.length} retries`).toInfo();
  if (ROOT_REFUSAL.test(output.stderr)) {
    return new BastionError(
      'SANDBOX_UNAVAILABLE',
      'Claude Code refused to skip permission prompts as root: run the bastion/claude-code image as its non-root user (uid 1001)',
    ).toInfo();
  }
  const line = output.stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  if (output.exitCode === 0) {
    const why =
      output.stdout.trim().length > 0
        ? 'printed output that is not its stream-json result'
        : 'exited 0 without a result';
    return new BastionError('PROVIDER_FAILED', `Claude Code ${why}`).toInfo();
  }
  const how = output.exitCode === null ? 'was killed' : `exited with code ${output.exitCode}`;
  return new BastionError('PROVIDER_FAILED', `Claude Code ${how} without a result${line ? `: ${shorten(line)}` : ''}`, {
    details: { exitCode: output.exitCode },
  }).toInfo();
}

function failedResult(result: ClaudeResultEvent): ErrorInfo {
  const text = result.result ?? '';
  if (typeof result.api_error_status === 'number') return claudeApiError(result.api_error_status, text).toInfo();
  // error_max_turns, error_during_execution, …: the agent ran and stopped short; trying again may help.
  const what = result.subtype && result.subtype !== 'success' ? result.subtype : (result.terminal_reason ?? 'error');
  return new BastionError(
    'PROVIDER_FAILED',
    `Claude Code reported an error result (${what})${text ? `: ${shorten(text)}` : ''}`,
  ).toInfo();
}

/**
 * Maps the sanitized output of one `claude -p --output-format stream-json` run to an outcome. Pure.
 * `is_error` and `api_error_status` decide, not `subtype` (it stays "success" on API errors).
 */
export function parseClaudeCodeOutput(output: ProviderOutput): ParsedOutcome {
  const events = readClaudeCodeEvents(output.stdout);
  const stats = claudeCodeStats(events);
  const paths = claudeToolPaths(events);
  // Every path a file tool was aimed at goes back to the runtime, whatever the outcome: it refuses
  // to apply a change set when one of them lies outside the workspace.
  const toolPaths = paths.length > 0 ? { toolPaths: paths } : {};
  const result = events.result;
  if (result && result.is_error !== true && output.exitCode === 0 && typeof result.result === 'string') {
    return { ok: true, response: result.result, stats, ...toolPaths };
  }
  const response = result?.is_error === true ? '' : (result?.result ?? events.assistantText.join('\n'));
  const error = result && result.is_error === true ? failedResult(result) : failureWithoutResult(output, events);
  return { ok: false, response, error, stats, ...toolPaths };
}
