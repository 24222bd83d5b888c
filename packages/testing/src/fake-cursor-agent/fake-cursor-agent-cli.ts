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

import * as childProcess from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
// Types only: the fake validates by hand (no zod in the bundle); fake-cursor-agent.test.ts keeps both in step.
import type { FakeCursorEdit, FakeCursorError } from './fake-cursor-script';

type Edit = FakeCursorEdit & { encoding?: 'utf8' | 'base64'; mode?: string | number; content?: string };
/** The script after validation: `edits` always there, `error` always an object. */
interface Script {
  result?: string;
  assistant?: string[];
  edits: Edit[];
  error?: FakeCursorError & { message?: string; exitCode?: number; stderr?: string; stdout?: string; text?: string; ms?: number; bytes?: number };
  echoEnv?: string[];
  echoApiKey?: boolean;
  delayMs?: number;
  durationApiMs?: number;
}
type Json = Record<string, unknown>;
/** A tool call as the CLI reports it: `{ <kind>ToolCall: { args, result? } }`. */
type ToolCall = Record<string, { args: Json; result?: Json }>;

const VERSION = '2026.09.18-fake';
const SCRIPT_FENCE = /```bastion-fake-script[ \t]*\r?\n([\s\S]*?)\r?\n?```/;
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

const HELP = `Usage: cursor-agent [options] [command] [prompt...]

Start the Cursor Agent

Arguments:
  prompt                       Initial prompt for the agent

Options:
  -v, --version                Output the version number
  --api-key <key>              API key for authentication (can also use CURSOR_API_KEY env var)
  -H, --header <header>        Add custom header to agent requests (format: 'Name: Value', can be used multiple times)
  -p, --print                  Print responses to console (for scripts or non-interactive use). Has access to all tools, including write and shell.
  --output-format <format>     Output format (only works with --print): text | json | stream-json (default: "text")
  --stream-partial-output      Stream partial output as individual text deltas (only works with --print and stream-json format) (default: false)
  -c, --cloud                  Start in cloud mode (open composer picker on launch)
  --resume [chatId]            Resume a chat session.
  --continue                   Continue previous session
  --model <model>              Model to use (e.g., gpt-5, sonnet-4, sonnet-4-thinking)
  --mode <mode>                Start in the given execution mode. plan: read-only/planning. ask: Q&A style for explanations and questions (read-only).
  --list-models                List available models and exit (default: false)
  -f, --force                  Force allow commands unless explicitly denied (default: false)
  --yolo                       Alias for --force (Run Everything) (default: false)
  --sandbox <mode>             Explicitly enable or disable sandbox mode (overrides config)
  --approve-mcps               Automatically approve all MCP servers (default: false)
  --trust                      Trust the current workspace without prompting (default: false)
  --workspace <path>           Workspace directory to use (defaults to current working directory)
  -h, --help                   Display help for command

Commands:
  login                        Authenticate with Cursor
  logout                       Sign out and clear stored authentication
  status|whoami                View authentication status

(Bastion's fake: script it with a \`\`\`bastion-fake-script block in the prompt,
FAKE_CURSOR_SCRIPT or FAKE_CURSOR_SCRIPT_FILE.)
`;

class UsageError extends Error {}
class FakeMisuse extends Error {}

interface Options {
  print: boolean;
  outputFormat: string;
  streamPartialOutput: boolean;
  model?: string;
  mode?: string;
  force: boolean;
  trust: boolean;
  workspace?: string;
  apiKey?: string;
  headers: string[];
  resume?: string | true;
  continue: boolean;
  sandbox?: string;
  approveMcps: boolean;
  version: boolean;
  help: boolean;
  listModels: boolean;
  command?: string;
  prompt: string[];
}

function parseArgs(argv: string[]): Options {
  const opts: Options = {
    print: false,
    outputFormat: 'text',
    streamPartialOutput: false,
    model: undefined,
    mode: undefined,
    force: false,
    trust: false,
    workspace: undefined,
    apiKey: undefined,
    headers: [],
    resume: undefined,
    continue: false,
    sandbox: undefined,
    approveMcps: false,
    version: false,
    help: false,
    listModels: false,
    command: undefined,
    prompt: [],
  };
  const takesValue = new Map<string, 'outputFormat' | 'model' | 'mode' | 'workspace' | 'apiKey' | 'sandbox'>([
    ['--output-format', 'outputFormat'],
    ['--model', 'model'],
    ['-m', 'model'],
    ['--mode', 'mode'],
    ['--workspace', 'workspace'],
    ['--api-key', 'apiKey'],
    ['--sandbox', 'sandbox'],
  ]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      opts.prompt.push(...argv.slice(i + 1));
      break;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (takesValue.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`error: option '${name} <value>' argument missing`);
      opts[takesValue.get(name)!] = value;
      continue;
    }
    switch (name) {
      case '-p':
      case '--print':
        opts.print = true;
        break;
      case '--stream-partial-output':
        opts.streamPartialOutput = true;
        break;
      case '-f':
      case '--force':
      case '--yolo':
        opts.force = true;
        break;
      case '--trust':
        opts.trust = true;
        break;
      case '--approve-mcps':
        opts.approveMcps = true;
        break;
      case '--continue':
        opts.continue = true;
        break;
      case '-H':
      case '--header': {
        const value = argv[++i];
        if (value === undefined) throw new UsageError(`error: option '${name} <header>' argument missing`);
        opts.headers.push(value);
        break;
      }
      case '--resume':
        if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('-')) opts.resume = argv[++i];
        else opts.resume = true;
        break;
      case '-v':
      case '--version':
        opts.version = true;
        break;
      case '-h':
      case '--help':
        opts.help = true;
        break;
      case '--list-models':
        opts.listModels = true;
        break;
      default:
        if (arg.startsWith('-') && arg.length > 1) throw new UsageError(`error: unknown option '${arg}'`);
        if (opts.prompt.length === 0 && opts.command === undefined && ['login', 'logout', 'status', 'whoami'].includes(arg)) {
          opts.command = arg;
        } else {
          opts.prompt.push(arg);
        }
    }
  }
  if (!['text', 'json', 'stream-json'].includes(opts.outputFormat)) {
    throw new UsageError(`error: option '--output-format <format>' argument '${opts.outputFormat}' is invalid. Allowed choices are text, json, stream-json.`);
  }
  if (opts.mode !== undefined && !['plan', 'ask'].includes(opts.mode)) {
    throw new UsageError(`error: option '--mode <mode>' argument '${opts.mode}' is invalid. Allowed choices are plan, ask.`);
  }
  return opts;
}

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

// ---- the script ------------------------------------------------------------------------

const EDIT_OPS = new Set(['write', 'create', 'append', 'delete', 'rename', 'chmod', 'symlink', 'mkdir', 'shell']);
const ERROR_KINDS = new Set(['auth', 'usage-limit', 'resource-exhausted', 'crash', 'garbage', 'hang', 'huge-output']);

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseMode(mode: unknown, where: string): number | undefined {
  if (mode === undefined) return undefined;
  if (typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 && mode <= 0o7777) return mode;
  if (typeof mode === 'string' && /^[0-7]{3,4}$/.test(mode)) return parseInt(mode, 8);
  throw new FakeMisuse(`${where}: mode must be an octal string like "755" or a number`);
}

function validateScript(raw: unknown): Script {
  if (!isObject(raw)) throw new FakeMisuse('the script must be a JSON object');
  // Checked field by field below, then used as the Script it has been shown to be.
  const script: Json = { ...raw };
  if (script.result !== undefined && typeof script.result !== 'string') throw new FakeMisuse('result must be a string');
  if (script.assistant !== undefined && !(Array.isArray(script.assistant) && script.assistant.every((s: unknown) => typeof s === 'string'))) {
    throw new FakeMisuse('assistant must be an array of strings');
  }
  if (script.echoEnv !== undefined) {
    if (typeof script.echoEnv === 'string') script.echoEnv = [script.echoEnv];
    if (!Array.isArray(script.echoEnv) || !script.echoEnv.every((s: unknown) => typeof s === 'string')) throw new FakeMisuse('echoEnv must be a string or string[]');
  }
  for (const key of ['delayMs', 'durationApiMs']) {
    if (script[key] !== undefined && !(Number.isInteger(script[key]) && (script[key] as number) >= 0)) throw new FakeMisuse(`${key} must be a non-negative integer`);
  }
  script.edits = script.edits === undefined ? [] : script.edits;
  if (!Array.isArray(script.edits)) throw new FakeMisuse('edits must be an array');
  script.edits.forEach((edit: unknown, i: number) => {
    const where = `edits[${i}]`;
    if (!isObject(edit) || typeof edit.op !== 'string' || !EDIT_OPS.has(edit.op)) throw new FakeMisuse(`${where}: op must be one of ${[...EDIT_OPS].join(', ')}`);
    if (edit.op === 'shell') {
      if (typeof edit.command !== 'string') throw new FakeMisuse(`${where}: shell needs a command`);
      return;
    }
    if (typeof edit.path !== 'string' || edit.path === '') throw new FakeMisuse(`${where}: path must be a non-empty string`);
    if ((edit.op === 'write' || edit.op === 'create' || edit.op === 'append') && typeof edit.content !== 'string') {
      throw new FakeMisuse(`${where}: ${edit.op} needs content (string)`);
    }
    if (edit.op === 'rename' && (typeof edit.to !== 'string' || edit.to === '')) throw new FakeMisuse(`${where}: rename needs to`);
    if (edit.op === 'symlink' && typeof edit.target !== 'string') throw new FakeMisuse(`${where}: symlink needs target`);
    if (edit.op === 'chmod' && edit.mode === undefined) throw new FakeMisuse(`${where}: chmod needs mode`);
    if (edit.encoding !== undefined && edit.encoding !== 'utf8' && edit.encoding !== 'base64') throw new FakeMisuse(`${where}: encoding is utf8 or base64`);
    parseMode(edit.mode, where);
  });
  if (script.error !== undefined) {
    if (typeof script.error === 'string') script.error = { kind: script.error };
    if (!isObject(script.error) || typeof script.error.kind !== 'string' || !ERROR_KINDS.has(script.error.kind)) {
      throw new FakeMisuse(`error.kind must be one of ${[...ERROR_KINDS].join(', ')}`);
    }
  }
  return script as unknown as Script;
}

function loadScript(prompt: string): { script: Script; userPrompt: string } {
  const match = SCRIPT_FENCE.exec(prompt);
  let source: string;
  let text: string;
  if (match) {
    source = 'prompt';
    text = match[1];
  } else if (process.env.FAKE_CURSOR_SCRIPT) {
    source = 'FAKE_CURSOR_SCRIPT';
    text = process.env.FAKE_CURSOR_SCRIPT;
  } else if (process.env.FAKE_CURSOR_SCRIPT_FILE) {
    source = 'FAKE_CURSOR_SCRIPT_FILE';
    try {
      text = fs.readFileSync(process.env.FAKE_CURSOR_SCRIPT_FILE, 'utf8');
    } catch (error) {
      throw new FakeMisuse(`cannot read FAKE_CURSOR_SCRIPT_FILE: ${(error as Error).message}`);
    }
  } else {
    return { script: validateScript({}), userPrompt: prompt.trim() };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new FakeMisuse(`the script from ${source} is not JSON: ${(error as Error).message}`);
  }
  const userPrompt = (match ? prompt.replace(SCRIPT_FENCE, '') : prompt).trim();
  return { script: validateScript(raw), userPrompt };
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

function countLines(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

function simpleDiff(before: string, after: string): string {
  const removed = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const added = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  return [
    '--- a',
    '+++ b',
    `@@ -1,${removed.length} +1,${added.length} @@`,
    ...removed.map((l) => `-${l}`),
    ...added.map((l) => `+${l}`),
  ].join('\n');
}

function readIfFile(abs: string): string {
  try {
    return fs.readFileSync(abs, 'utf8');
  } catch (err) {
    // No file yet (an append that creates it): the diff starts from nothing.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** Performs one edit and returns the tool call the real CLI would report for it. */
function performEdit(edit: Edit, ctx: { workspace: string; force: boolean; callId: string }): ToolCall {
  const resolve = (p: string) => path.resolve(ctx.workspace, p);
  const shellResult = (command: string, run: () => void): ToolCall => {
    const args = { command, workingDirectory: ctx.workspace };
    try {
      run();
      return { shellToolCall: { args, result: { success: { command, workingDirectory: ctx.workspace, exitCode: 0, stdout: '', stderr: '' } } } };
    } catch (error) {
      return {
        shellToolCall: { args, result: { failure: { command, workingDirectory: ctx.workspace, exitCode: 1, stdout: '', stderr: String((error as Error).message) } } },
      };
    }
  };
  switch (edit.op) {
    case 'write':
    case 'create': {
      const abs = resolve(edit.path);
      const data = edit.encoding === 'base64' ? Buffer.from(edit.content, 'base64') : edit.content;
      if (data === undefined) throw new FakeMisuse('write needs content');
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, data);
      const mode = parseMode(edit.mode, 'edit');
      if (mode !== undefined) fs.chmodSync(abs, mode);
      return {
        writeToolCall: {
          args: { path: abs, fileText: edit.content, toolCallId: ctx.callId },
          result: { success: { path: abs, linesCreated: countLines(String(edit.content)), fileSize: Buffer.byteLength(data) } },
        },
      };
    }
    case 'append': {
      const abs = resolve(edit.path);
      const before = readIfFile(abs);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.appendFileSync(abs, edit.encoding === 'base64' ? Buffer.from(edit.content, 'base64') : edit.content);
      const after = readIfFile(abs);
      const mode = parseMode(edit.mode, 'edit');
      if (mode !== undefined) fs.chmodSync(abs, mode);
      return {
        editToolCall: {
          args: { path: abs, streamContent: after },
          result: {
            success: {
              path: abs,
              linesAdded: countLines(after) - countLines(before),
              linesRemoved: 0,
              diffString: simpleDiff(before, after),
              beforeFullFileContent: before,
              afterFullFileContent: after,
            },
          },
        },
      };
    }
    case 'delete': {
      const abs = resolve(edit.path);
      fs.rmSync(abs, { recursive: true, force: true });
      return { deleteToolCall: { args: { path: abs, toolCallId: ctx.callId }, result: { success: { path: abs, deletedFile: abs } } } };
    }
    case 'rename':
      return shellResult(`mv ${shellQuote(edit.path)} ${shellQuote(edit.to)}`, () => {
        fs.mkdirSync(path.dirname(resolve(edit.to)), { recursive: true });
        fs.renameSync(resolve(edit.path), resolve(edit.to));
      });
    case 'chmod': {
      const mode = parseMode(edit.mode, 'edit')!;
      return shellResult(`chmod ${mode.toString(8)} ${shellQuote(edit.path)}`, () => fs.chmodSync(resolve(edit.path), mode));
    }
    case 'symlink':
      return shellResult(`ln -s ${shellQuote(edit.target)} ${shellQuote(edit.path)}`, () => {
        fs.mkdirSync(path.dirname(resolve(edit.path)), { recursive: true });
        fs.symlinkSync(edit.target, resolve(edit.path));
      });
    case 'mkdir':
      return shellResult(`mkdir -p ${shellQuote(edit.path)}`, () => void fs.mkdirSync(resolve(edit.path), { recursive: true }));
    case 'shell': {
      const args = { command: edit.command, workingDirectory: ctx.workspace };
      if (!ctx.force) {
        return { shellToolCall: { args, result: { rejected: { command: edit.command, workingDirectory: ctx.workspace, reason: '', isReadonly: false } } } };
      }
      const run = childProcess.spawnSync('/bin/sh', ['-c', edit.command], { cwd: ctx.workspace, encoding: 'utf8', env: process.env });
      const outcome = {
        command: edit.command,
        workingDirectory: ctx.workspace,
        exitCode: run.status === null ? 1 : run.status,
        stdout: run.stdout || '',
        stderr: run.stderr || (run.error ? String(run.error.message) : ''),
      };
      return { shellToolCall: { args, result: outcome.exitCode === 0 ? { success: outcome } : { failure: outcome } } };
    }
    default:
      throw new FakeMisuse(`unknown op ${(edit as { op: string }).op}`);
  }
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
  const emit = (event: Json) => (format === 'stream-json' ? writeOut(`${JSON.stringify({ ...event, session_id: sessionId })}\n`) : Promise.resolve());

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
  if (error && error.kind === 'resource-exhausted') return fail(error.message ? `Error: [resource_exhausted] ${error.message}` : RESOURCE_EXHAUSTED_ERROR);

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
        toolCall = { [name]: { args: startedCall[name].args, result: { error: { errorMessage: String((err as Error).message) } } } };
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

function performEditStarted(edit: Edit, workspace: string, callId: string): ToolCall {
  const abs = (p: string) => path.resolve(workspace, p);
  switch (edit.op) {
    case 'write':
    case 'create':
      return { writeToolCall: { args: { path: abs(edit.path), fileText: edit.content, toolCallId: callId } } };
    case 'append':
      return { editToolCall: { args: { path: abs(edit.path), streamContent: edit.content } } };
    case 'delete':
      return { deleteToolCall: { args: { path: abs(edit.path), toolCallId: callId } } };
    case 'shell':
      return { shellToolCall: { args: { command: edit.command, workingDirectory: workspace } } };
    case 'rename':
      return { shellToolCall: { args: { command: `mv ${shellQuote(edit.path)} ${shellQuote(edit.to)}`, workingDirectory: workspace } } };
    case 'chmod':
      return { shellToolCall: { args: { command: `chmod ${parseMode(edit.mode, 'edit')!.toString(8)} ${shellQuote(edit.path)}`, workingDirectory: workspace } } };
    case 'symlink':
      return { shellToolCall: { args: { command: `ln -s ${shellQuote(edit.target)} ${shellQuote(edit.path)}`, workingDirectory: workspace } } };
    case 'mkdir':
      return { shellToolCall: { args: { command: `mkdir -p ${shellQuote(edit.path)}`, workingDirectory: workspace } } };
    default:
      return { unknownToolCall: { args: {} } };
  }
}

/** Runs the fake as a process: an internal error (a bug of the fake) exits 70 with its stack. */
export function fakeCursorAgentMain(argv: string[]): void {
  runFakeCursorAgent(argv).catch((error: unknown) => {
    process.stderr.write(`fake-cursor-agent: internal error: ${(error as Error)?.stack ?? String(error)}\n`, () => process.exit(70));
  });
}
