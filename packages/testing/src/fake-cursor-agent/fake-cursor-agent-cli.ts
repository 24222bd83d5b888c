// A faithful fake of Cursor's agent CLI (`cursor-agent`) for Bastion's tests.
//
// Node built-ins only: scripts/standalone-bundles.mjs bundles it into packages/testing/bin/cursor-agent,
// one file that runs in a minimal container that only has `node`.
// It implements the headless contract documented in /work/shared/PROVIDERS.md and issue 9:
// print mode, --output-format text|json|stream-json, --trust, --force, --mode ask|plan,
// --workspace, --api-key / CURSOR_API_KEY, and the CLI's error texts on stderr with exit 1.
//
// What it does is scripted, through the only channels that reach it inside a sandbox:
//   1. a fenced block in the prompt:  ```bastion-fake-script\n{json}\n```
//   2. env FAKE_CURSOR_SCRIPT (JSON), 3. env FAKE_CURSOR_SCRIPT_FILE (path to JSON).
// The script can order edits that escape the workspace (`..`, absolute paths, symlinks to
// /etc/passwd, .git/hooks): the fake performs them as told, like a misbehaving agent would.
// Run it only on throwaway directories or inside the sandbox.
//
// Like some users report of the real CLI, it performs edits also without --force; it never
// writes in --mode ask|plan. Shell commands (`shell` edits) run only with --force, as the real
// CLI rejects them otherwise.
//
// Misuse of the fake itself (a script that does not parse) exits 2 with a
// `fake-cursor-agent:` message, so a test bug is never mistaken for an agent error.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HELP, parseArgs, UsageError, type Options } from './fake-cursor-args';
import { performEdit, performEditStarted, type ToolCall } from './fake-cursor-edits';
import { FakeMisuse, loadScript, type Json, type Script } from './fake-cursor-script-loader';

const VERSION = '2026.09.18-fake';
const AUTH_ERROR =
  "Error: Authentication required. Please run 'cursor-agent login' first, or set CURSOR_API_KEY environment variable.";
const TRUST_ERROR = [
  '⚠ Workspace Trust Required',
  '  Cursor Agent can execute code and access files in this directory.',
  '  To proceed, you can either:',
  "    • Run 'agent' interactively to decide",
  '    • Pass --trust, --yolo, or -f if you trust this directory',
].join('\n');
const USAGE_LIMIT_ERROR =
  "Error: You've hit your usage limit. Upgrade your plan or wait for your limit to reset to keep using Agent.";
const RESOURCE_EXHAUSTED_ERROR = 'Error: ConnectError: [resource_exhausted] Error';
const DEFAULT_MODEL = 'Auto';

/** Piped stdin replaces the prompt argument. With a prompt argument and a silent pipe, the argument wins. */
function readStdin(hasPromptArg: boolean): Promise<string | undefined> {
  return new Promise((resolve) => {
    if (process.stdin.isTTY) return resolve(undefined);
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (hasPromptArg) {
      const wait = Number(process.env.FAKE_CURSOR_STDIN_WAIT_MS || 1000);
      timer = setTimeout(() => {
        if (chunks.length === 0) {
          process.stdin.pause();
          process.stdin.destroy();
          resolve(undefined);
        }
      }, wait);
    }
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk));
    process.stdin.on('end', () => {
      clearTimeout(timer);
      resolve(chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : undefined);
    });
    process.stdin.on('error', () => {
      clearTimeout(timer);
      resolve(chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') : undefined);
    });
  });
}

// ---- output ----------------------------------------------------------------------------

function writeOut(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (text === '') return resolve();
    process.stdout.write(text, () => resolve());
  });
}

function fail(message: string, code = 1): void {
  process.stderr.write(`${message}\n`, () => process.exit(code));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function defaultResult(userPrompt: string): string {
  const asked = userPrompt.replace(/\s+/g, ' ').trim();
  const shown = asked.length > 300 ? `${asked.slice(0, 300)}…` : asked;
  return `Bastion fake cursor-agent: done. You asked: ${shown || '(empty prompt)'}`;
}

function apiKeyInUse(opts: Options): { key: string; source: 'flag' | 'env' } | undefined {
  if (opts.apiKey) return { key: opts.apiKey, source: 'flag' };
  if (process.env.CURSOR_API_KEY) return { key: process.env.CURSOR_API_KEY, source: 'env' };
  return undefined;
}

function splitDeltas(text: string): string[] {
  const parts = text.match(/\S+\s*|\s+/g) || [text];
  const out: string[] = [];
  for (let i = 0; i < parts.length; i += 3) out.push(parts.slice(i, i + 3).join(''));
  return out.length > 0 ? out : [''];
}

/** The fake's entry point (argv without node and the script). */
export async function runFakeCursorAgent(argv: string[]): Promise<void> {
  let opts: Options;
  try {
    opts = parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) return fail(error.message);
    throw error;
  }
  if (opts.version) return writeOut(`${VERSION}\n`);
  if (opts.help) return writeOut(HELP);
  if (opts.command === 'login') return fail('Error: fake cursor-agent cannot log in; set CURSOR_API_KEY.');
  if (opts.command === 'logout') return writeOut('Logged out\n');
  if (opts.command === 'status' || opts.command === 'whoami') {
    return writeOut(apiKeyInUse(opts) ? '✓ Logged in with API key\n' : 'Not logged in\n');
  }
  if (opts.listModels) return writeOut('Available models\n\nauto - Auto (default)\nfake-model - Bastion fake model\n');

  const stdinPiped = !process.stdin.isTTY;
  const headless = opts.print || !process.stdout.isTTY || stdinPiped;
  if (!headless) {
    return fail('fake-cursor-agent: the interactive UI is not faked; use -p (print mode).', 2);
  }

  const promptArg = opts.prompt.join(' ');
  const piped = stdinPiped ? await readStdin(promptArg !== '') : undefined;
  const prompt = piped !== undefined && piped !== '' ? piped : promptArg;

  const workspace = path.resolve(opts.workspace || process.cwd());
  if (!fs.existsSync(workspace) || !fs.statSync(workspace).isDirectory()) {
    return fail(`Error: Workspace directory does not exist: ${workspace}`);
  }

  let loaded: { script: Script; userPrompt: string };
  try {
    loaded = loadScript(prompt);
  } catch (error) {
    if (error instanceof FakeMisuse) return fail(`fake-cursor-agent: invalid script: ${error.message}`, 2);
    throw error;
  }
  const { script, userPrompt } = loaded;

  const auth = apiKeyInUse(opts);
  if (!auth || (script.error && script.error.kind === 'auth')) return fail(AUTH_ERROR);
  if (!opts.trust && !opts.force) return fail(TRUST_ERROR);

  const started = Date.now();
  const sessionId = crypto.randomUUID();
  const requestId = crypto.randomUUID();
  const model = opts.model || DEFAULT_MODEL;
  const readOnly = opts.mode === 'ask' || opts.mode === 'plan';
  const format = opts.outputFormat;
  const emit = (event: Json) =>
    format === 'stream-json' ? writeOut(`${JSON.stringify({ ...event, session_id: sessionId })}\n`) : Promise.resolve();

  await emit({
    type: 'system',
    subtype: 'init',
    apiKeySource: auth.source,
    cwd: workspace,
    model,
    permissionMode: opts.force ? 'force' : 'default',
  });
  await emit({ type: 'user', message: { role: 'user', content: [{ type: 'text', text: prompt }] } });

  const error = script.error;
  if (error && error.kind === 'usage-limit') return fail(error.message ? `Error: ${error.message}` : USAGE_LIMIT_ERROR);
  if (error && error.kind === 'resource-exhausted')
    return fail(error.message ? `Error: [resource_exhausted] ${error.message}` : RESOURCE_EXHAUSTED_ERROR);

  if (script.delayMs) await sleep(script.delayMs);

  if (!readOnly) {
    let n = 0;
    for (const edit of script.edits) {
      const callId = `toolu_fake_${String(++n).padStart(3, '0')}`;
      const startedCall = performEditStarted(edit, workspace, callId);
      await emit({ type: 'tool_call', subtype: 'started', call_id: callId, tool_call: startedCall });
      let toolCall: ToolCall;
      try {
        toolCall = performEdit(edit, { workspace, force: opts.force, callId });
      } catch (err) {
        // The agent's own tool failed (a path it may not write): reported as the CLI reports it.
        const name = Object.keys(startedCall)[0];
        toolCall = {
          [name]: { args: startedCall[name].args, result: { error: { errorMessage: String((err as Error).message) } } },
        };
      }
      await emit({ type: 'tool_call', subtype: 'completed', call_id: callId, tool_call: toolCall });
    }
  }

  if (error && error.kind === 'crash') {
    if (error.stdout) await writeOut(error.stdout);
    return fail(error.stderr !== undefined ? error.stderr : 'Error: fake cursor-agent crashed', error.exitCode ?? 1);
  }
  if (error && error.kind === 'garbage') {
    await writeOut(error.text !== undefined ? error.text : '\u0000\u001b[31m{"type":"resu\ufffdlt", garbage <<<>>>\n');
    process.exit(error.exitCode ?? 0);
  }
  if (error && error.kind === 'hang') {
    await sleep(error.ms ?? 24 * 3600 * 1000);
    process.exit(error.exitCode ?? 0);
  }

  let result = script.result !== undefined ? script.result : defaultResult(userPrompt);
  if (error && error.kind === 'huge-output') {
    const bytes = error.bytes ?? 10 * 1024 * 1024;
    const line = 'Bastion fake cursor-agent huge output line.\n';
    result = line.repeat(Math.ceil(bytes / line.length)).slice(0, bytes);
  }
  const echoes: string[] = [];
  for (const name of script.echoEnv || []) echoes.push(`${name}=${process.env[name] ?? ''}`);
  if (script.echoApiKey) echoes.push(`api key in use: ${auth.key}`);
  if (echoes.length > 0) result = `${result}\n${echoes.join('\n')}`;

  const assistantTexts = script.assistant && script.assistant.length > 0 ? script.assistant : [result];
  for (const text of assistantTexts) {
    const pieces = opts.streamPartialOutput ? splitDeltas(text) : [text];
    for (const piece of pieces) {
      await emit({ type: 'assistant', message: { role: 'assistant', content: [{ type: 'text', text: piece }] } });
    }
  }

  const durationMs = Date.now() - started;
  const resultEvent = {
    type: 'result',
    subtype: 'success',
    is_error: false,
    duration_ms: durationMs,
    duration_api_ms: script.durationApiMs ?? durationMs,
    result,
    session_id: sessionId,
    request_id: requestId,
  };
  if (format === 'stream-json') await emit(resultEvent);
  else if (format === 'json') await writeOut(`${JSON.stringify(resultEvent)}\n`);
  else await writeOut(result.endsWith('\n') ? result : `${result}\n`);
  process.exitCode = 0;
}

/** Runs the fake as a process: an internal error (a bug of the fake) exits 70 with its stack. */
export function fakeCursorAgentMain(argv: string[]): void {
  runFakeCursorAgent(argv).catch((error: unknown) => {
    process.stderr.write(`fake-cursor-agent: internal error: ${(error as Error)?.stack ?? String(error)}\n`, () =>
      process.exit(70),
    );
  });
}
