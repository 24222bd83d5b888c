import { z } from 'zod';
import { BastionError } from '@bastion/core';
import type { ExecutionSpecInput } from '@bastion/policy';
import {
  SPECIFICATION_VERSION,
  type AgentProvider,
  type ParsedOutcome,
  type ProviderOutput,
  type ProviderRegistration,
} from '../contract/agent-provider';
import type { AgentTask } from '../contract/agent-task';
import { GeminiErrorDocument, GeminiResultDocument, lastJsonDocument, retryDelayMs, usageStats } from './gemini-output';
import { GEMINI_API } from './gemini-api';
import { GEMINI_CLI_MANIFEST } from './gemini-cli-manifest';
import { httpStatusOfExit, parseGeminiStream, streamErrorDocument, streamUsageStats } from './gemini-stream-events';
import { geminiStreamText } from './gemini-stream-text';

/** Exit codes that say what went wrong even when the CLI printed no document (stream-json prints its fatal errors as text). */
const TELLING_EXITS = new Set([41, 400, 401, 403, 429, 500, 503]);

export const GeminiCliProviderOptions = z
  .object({
    defaultModel: z.string().min(1).optional().describe('Model when the task names none; absent lets the CLI route'),
    executable: z
      .string()
      .min(1)
      .default('gemini')
      .describe('The CLI inside the image (a wrapper that lays down settings)'),
  })
  .strict();
export type GeminiCliProviderOptions = z.input<typeof GeminiCliProviderOptions>;

/**
 * The real Gemini CLI (`@google/gemini-cli`) in the bastion/gemini-cli image, non-interactive with
 * JSON-lines output (stream-json), the workspace read-only, the API reachable only through the gateway (which holds
 * the key; the sandbox has a placeholder).
 */
export function createGeminiCliProvider(input: GeminiCliProviderOptions = {}): AgentProvider {
  const options = GeminiCliProviderOptions.parse(input);
  return {
    ...GEMINI_CLI_MANIFEST,
    specificationVersion: SPECIFICATION_VERSION,

    plan(task, context): ExecutionSpecInput {
      const model = task.model ?? options.defaultModel;
      const promptOnStdin = Buffer.byteLength(task.prompt) > context.maxArgBytes;
      return {
        provider: GEMINI_CLI_MANIFEST.id,
        ...(model ? { model } : {}),
        image: context.image,
        command: [
          options.executable,
          // stream-json: events as JSON lines while the agent works, so `output` events follow the
          // answer as it grows; parse() also reads the one-document `json` mode.
          '--output-format',
          'stream-json',
          '--skip-trust',
          ...(model ? ['--model', model] : []),
          // A long prompt goes on stdin: with no -p the CLI reads it from there, non-interactively.
          ...(promptOnStdin ? [] : ['--prompt', task.prompt]),
        ],
        ...(promptOnStdin ? { stdin: task.prompt } : {}),
        env: { HOME: '/tmp', NO_COLOR: '1', TERM: 'dumb', GEMINI_CLI_TRUST_WORKSPACE: 'true' },
        workdir: context.workspaceMountPath,
        ...(task.workspace ? { workspace: { hostPath: task.workspace, access: 'read-only' as const } } : {}),
        network: { mode: 'gateway', api: GEMINI_API.name, domains: [] },
        // The CLI's start-up is CPU-bound (~1 s of CPU): under the 0.5-CPU default it takes twice
        // as long, and under a 512 MiB memory limit ~10% longer (measured A/B with docker run).
        // Ask for two cores and 2 GiB; the policy clamps both to its maximum.
        resources: { cpus: 2, memoryBytes: 2 * 1024 ** 3, ...(task.timeoutMs ? { timeoutMs: task.timeoutMs } : {}) },
      };
    },

    streamText: geminiStreamText,

    parse(output: ProviderOutput, _task: AgentTask): ParsedOutcome {
      const stream = parseGeminiStream(output.stdout);
      if (stream) {
        if (output.exitCode === 0 && stream.result.status === 'success')
          return { ok: true, response: stream.response, stats: streamUsageStats(stream) };
        return {
          ok: false,
          response: '',
          error: errorFromDocument(streamErrorDocument(stream, output.exitCode)).toInfo(),
        };
      }
      const doc = output.exitCode === 0 ? lastJsonDocument(output.stdout, GeminiResultDocument) : undefined;
      if (doc) return { ok: true, response: doc.response, stats: usageStats(doc) };
      const failure =
        lastJsonDocument(output.stderr, GeminiErrorDocument) ?? lastJsonDocument(output.stdout, GeminiErrorDocument);
      if (failure) return { ok: false, response: '', error: errorFromDocument(failure).toInfo() };
      const status = httpStatusOfExit(output.exitCode);
      const lastLine = output.stderr.trim().split('\n').at(-1)?.trim();
      if (status !== undefined && TELLING_EXITS.has(status) && lastLine)
        return {
          ok: false,
          response: '',
          error: errorFromDocument({ error: { message: lastLine, code: status } }).toInfo(),
        };
      const why =
        output.exitCode === 0
          ? 'exited 0 without a result document'
          : `exited ${output.exitCode} without an error document`;
      return {
        ok: false,
        response: '',
        error: new BastionError('PROVIDER_FAILED', `Gemini CLI ${why} (truncated or malformed output)`).toInfo(),
      };
    },
  };
}

/** gemini-cli's line in the registration list. */
export const geminiCliRegistration: ProviderRegistration = {
  manifest: GEMINI_CLI_MANIFEST,
  create: (settings = {}) =>
    createGeminiCliProvider(settings.defaultModel ? { defaultModel: settings.defaultModel } : {}),
};

/** Maps the CLI's error document (its `code` is the HTTP status or its own exit code) to Bastion's codes. */
export function errorFromDocument(doc: GeminiErrorDocument): BastionError {
  const { code, message } = doc.error;
  const summary = summarize(message);
  if (code === 429 || /RESOURCE_EXHAUSTED|exceeded your current quota/i.test(message)) {
    const retryAfterMs = retryDelayMs(message);
    return new BastionError('RATE_LIMITED', `Gemini API rate limit: ${summary}`, {
      retryable: true,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  if (
    code === 401 ||
    code === 403 ||
    code === 41 ||
    /API_KEY_INVALID|PERMISSION_DENIED|UNAUTHENTICATED|GEMINI_API_KEY/.test(message)
  ) {
    return new BastionError('AUTH_FAILED', `Gemini API rejected the credentials: ${summary}`, { retryable: false });
  }
  if (code === 400)
    return new BastionError('PROVIDER_FAILED', `Gemini API refused the request: ${summary}`, { retryable: false });
  if (code !== undefined && code >= 500)
    return new BastionError('PROVIDER_FAILED', `Gemini API error ${code}: ${summary}`, { retryable: true });
  return new BastionError('PROVIDER_FAILED', `Gemini CLI failed (truncated or malformed response): ${summary}`, {
    retryable: true,
  });
}

/** The status text of a Google error body, or the first line of the CLI's message. */
function summarize(message: string): string {
  const status = /"status"\s*:\s*"([A-Z_]+)"/.exec(message)?.[1];
  const reason = /"reason"\s*:\s*"([A-Z_]+)"/.exec(message)?.[1];
  if (status) return [status, reason].filter(Boolean).join(' / ');
  return message.split('\n')[0].slice(0, 200);
}
