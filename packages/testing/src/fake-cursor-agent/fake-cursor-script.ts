import { z } from 'zod';

// The script the fake `cursor-agent` (fake-cursor-agent-cli.ts, bundled into bin/cursor-agent) follows. The fake
// validates the same shape by hand (no zod in its bundle); fake-cursor-agent.test.ts keeps both in step.

const FileMode = z
  .union([z.string().regex(/^[0-7]{3,4}$/), z.number().int().min(0).max(0o7777)])
  .describe('Octal string like "755", or a number such as 0o755.');

const Encoding = z.enum(['utf8', 'base64']).describe('How `content` is encoded; base64 writes binary files.');

/** Paths are taken relative to the workspace; `..` and absolute paths are performed as given. */
export const FakeCursorEdit = z.discriminatedUnion('op', [
  z
    .object({
      op: z.enum(['write', 'create']),
      path: z.string().min(1),
      content: z.string(),
      mode: FileMode.optional(),
      encoding: Encoding.optional(),
    })
    .describe('Create or overwrite a file (parents are created). Reported as writeToolCall.'),
  z
    .object({
      op: z.literal('append'),
      path: z.string().min(1),
      content: z.string(),
      mode: FileMode.optional(),
      encoding: Encoding.optional(),
    })
    .describe('Append to a file (created if missing). Reported as editToolCall.'),
  z
    .object({ op: z.literal('delete'), path: z.string().min(1) })
    .describe('Remove a file or directory. Reported as deleteToolCall.'),
  z
    .object({ op: z.literal('rename'), path: z.string().min(1), to: z.string().min(1) })
    .describe('Reported as shellToolCall `mv`.'),
  z
    .object({ op: z.literal('chmod'), path: z.string().min(1), mode: FileMode })
    .describe('Reported as shellToolCall `chmod`.'),
  z
    .object({ op: z.literal('symlink'), path: z.string().min(1), target: z.string() })
    .describe(
      'Create a symlink at path pointing to target (which may be /etc/passwd or ../..). Reported as shellToolCall `ln -s`.',
    ),
  z.object({ op: z.literal('mkdir'), path: z.string().min(1) }).describe('Reported as shellToolCall `mkdir -p`.'),
  z
    .object({ op: z.literal('shell'), command: z.string() })
    .describe(
      'Run a command with /bin/sh in the workspace; only with --force (otherwise reported as rejected, like the real CLI).',
    ),
]);
export type FakeCursorEdit = z.infer<typeof FakeCursorEdit>;

export const FakeCursorError = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('auth') }).describe('The exact authentication error, exit 1.'),
  z
    .object({ kind: z.literal('usage-limit'), message: z.string().optional() })
    .describe("`Error: You've hit your usage limit…`, exit 1."),
  z
    .object({ kind: z.literal('resource-exhausted'), message: z.string().optional() })
    .describe('`Error: …[resource_exhausted]…`, exit 1.'),
  z
    .object({
      kind: z.literal('crash'),
      exitCode: z.number().int().min(0).max(255).optional(),
      stderr: z.string().optional(),
      stdout: z.string().optional(),
    })
    .describe('Exit with exitCode (default 1) after the edits, without a result.'),
  z
    .object({
      kind: z.literal('garbage'),
      text: z.string().optional(),
      exitCode: z.number().int().min(0).max(255).optional(),
    })
    .describe('Print non-JSON junk instead of a result (default exit 0).'),
  z
    .object({
      kind: z.literal('hang'),
      ms: z.number().int().min(0).optional(),
      exitCode: z.number().int().min(0).max(255).optional(),
    })
    .describe('Sleep ms (default a day) after the edits, then exit without a result.'),
  z
    .object({ kind: z.literal('huge-output'), bytes: z.number().int().min(0).optional() })
    .describe('The result text is `bytes` long (default 10 MiB), in every output format.'),
]);
export type FakeCursorError = z.infer<typeof FakeCursorError>;

export const FakeCursorScript = z
  .object({
    result: z
      .string()
      .optional()
      .describe('Final text. Default: "Bastion fake cursor-agent: done. You asked: <prompt>".'),
    assistant: z.array(z.string()).optional().describe('Assistant messages for stream-json (default: the result).'),
    edits: z
      .array(FakeCursorEdit)
      .optional()
      .describe('Performed in order, also without --force; never in --mode ask|plan.'),
    error: z
      .union([
        FakeCursorError,
        z.enum(['auth', 'usage-limit', 'resource-exhausted', 'crash', 'garbage', 'hang', 'huge-output']),
      ])
      .optional()
      .describe('The failure to simulate; a bare kind is shorthand for { kind }.'),
    echoEnv: z
      .union([z.string(), z.array(z.string())])
      .optional()
      .describe('Env var names whose NAME=value lines are appended to the result (redaction tests).'),
    echoApiKey: z
      .boolean()
      .optional()
      .describe('Append the API key in use (from --api-key or CURSOR_API_KEY) to the result.'),
    delayMs: z.number().int().min(0).optional().describe('Think this long before the edits.'),
    durationApiMs: z.number().int().min(0).optional().describe('duration_api_ms to report.'),
  })
  .strict();
export type FakeCursorScript = z.infer<typeof FakeCursorScript>;

/** The info string of the fenced block the fake looks for in its prompt. */
export const FAKE_CURSOR_SCRIPT_FENCE = 'bastion-fake-script';

/**
 * A prompt block that makes the fake follow `script`. Append it to (or use it as) the prompt:
 * it reaches the fake inside a sandbox because the prompt does.
 */
export function fakeCursorScript(script: FakeCursorScript): string {
  const parsed = FakeCursorScript.parse(script);
  return `\`\`\`${FAKE_CURSOR_SCRIPT_FENCE}\n${JSON.stringify(parsed)}\n\`\`\`\n`;
}

/** The environment alternative to the prompt block: `{ FAKE_CURSOR_SCRIPT: '<json>' }`. */
export function fakeCursorScriptEnv(script: FakeCursorScript): { FAKE_CURSOR_SCRIPT: string } {
  return { FAKE_CURSOR_SCRIPT: JSON.stringify(FakeCursorScript.parse(script)) };
}
