import { z } from 'zod';
import type { ExecutionSpecInput } from '@bastion/policy';
import {
  SPECIFICATION_VERSION,
  type AgentProvider,
  type PlanContext,
  type ProviderOutput,
  type ProviderRegistration,
} from '../contract/agent-provider';
import type { AgentTask } from '../contract/agent-task';
import { ANTHROPIC_API } from './anthropic-api';
import { CLAUDE_CODE_MANIFEST } from './claude-code-manifest';
import { parseClaudeCodeOutput } from './claude-code-output';
import { claudeCodeStreamText } from './claude-code-stream-text';

/** Tools that change files or run commands: withheld from a read-only call, so the model is never offered them. */
export const CLAUDE_WRITING_TOOLS: readonly string[] = ['Bash', 'Edit', 'MultiEdit', 'NotebookEdit', 'Write'];

export const ClaudeCodeProviderOptions = z
  .object({
    defaultModel: z
      .string()
      .min(1)
      .optional()
      .describe("Model when the task names none; absent lets the CLI (or the gateway's pinned model) decide"),
    executable: z
      .string()
      .min(1)
      .default('claude')
      .describe('The CLI inside the image (a wrapper that turns off self-update and telemetry)'),
    maxTurns: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("Upper bound on the agent's model turns (--max-turns); absent: the CLI's own"),
  })
  .strict();
export type ClaudeCodeProviderOptions = z.input<typeof ClaudeCodeProviderOptions>;

/**
 * Claude Code (`@anthropic-ai/claude-code`) in the bastion/claude-code image, headless
 * (`-p`, stream-json). The prompt goes on stdin, never argv; the sandbox holds only the gateway's
 * placeholder key. Analysis runs with the writing tools withheld on a read-only mount; edits run
 * unattended (bypassPermissions) on a throwaway copy whose changes the runtime returns as a diff.
 */
export function createClaudeCodeProvider(input: ClaudeCodeProviderOptions = {}): AgentProvider {
  const options = ClaudeCodeProviderOptions.parse(input);

  function plan(task: AgentTask, context: PlanContext): ExecutionSpecInput {
    const model = task.model ?? options.defaultModel;
    const readOnly = context.mode === 'read-only' || task.intent === 'analyze';
    const workdir = task.workspace ? context.workspaceMountPath : '/tmp';
    return {
      provider: CLAUDE_CODE_MANIFEST.id,
      ...(model ? { model } : {}),
      image: context.image,
      command: [
        options.executable,
        '-p',
        // stream-json (which needs --verbose in -p mode) reports each tool call, so the runtime
        // sees the paths the agent aimed at, and output events follow the answer as it grows.
        '--output-format',
        'stream-json',
        '--verbose',
        // In -p mode nothing can answer a permission prompt: a read-only call withholds the
        // writing tools; an edit may do anything, because it only ever sees a throwaway copy.
        ...(readOnly
          ? ['--permission-mode', 'default', '--disallowedTools', CLAUDE_WRITING_TOOLS.join(',')]
          : ['--permission-mode', 'bypassPermissions']),
        ...(model ? ['--model', model] : []),
        ...(options.maxTurns !== undefined ? ['--max-turns', String(options.maxTurns)] : []),
      ],
      // With -p and no prompt argument the CLI reads the prompt from stdin: never on argv.
      stdin: task.prompt,
      env: {
        HOME: '/tmp',
        NO_COLOR: '1',
        // Bastion decides about retries: a 429 ends the call with the gateway's retry-after instead
        // of minutes of the CLI's own backoff (it retries even a 401 ten times).
        CLAUDE_CODE_MAX_RETRIES: '0',
        DISABLE_AUTOUPDATER: '1',
        DISABLE_TELEMETRY: '1',
        DISABLE_ERROR_REPORTING: '1',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      },
      workdir,
      ...(task.workspace
        ? { workspace: { hostPath: task.workspace, access: readOnly ? ('read-only' as const) : ('copy' as const) } }
        : {}),
      network: { mode: 'gateway', api: ANTHROPIC_API.name, domains: [] },
      // A static 400 MB binary: start-up is CPU-bound like the Gemini CLI's; the policy clamps both.
      resources: { cpus: 2, memoryBytes: 2 * 1024 ** 3, ...(task.timeoutMs ? { timeoutMs: task.timeoutMs } : {}) },
    };
  }

  return {
    ...CLAUDE_CODE_MANIFEST,
    specificationVersion: SPECIFICATION_VERSION,
    plan,
    streamText: claudeCodeStreamText,
    parse: (output: ProviderOutput) => parseClaudeCodeOutput(output),
  };
}

/** claude-code's line in the registration list. */
export const claudeCodeRegistration: ProviderRegistration = {
  manifest: CLAUDE_CODE_MANIFEST,
  create: (settings = {}) =>
    createClaudeCodeProvider(settings.defaultModel ? { defaultModel: settings.defaultModel } : {}),
};
