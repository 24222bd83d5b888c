// The script the fake cursor-agent follows, from its prompt or environment, validated by hand
// (no zod in the bundle; fake-cursor-agent.test.ts keeps it in step with fake-cursor-script.ts).
import * as fs from 'node:fs';
// Types only: the fake validates by hand (no zod in the bundle).
import type { FakeCursorEdit, FakeCursorError } from './fake-cursor-script';

/** A script that does not parse: a bug of the test, reported as such (exit 2), never as an agent error. */
export class FakeMisuse extends Error {}

export type Edit = FakeCursorEdit & { encoding?: 'utf8' | 'base64'; mode?: string | number; content?: string };
/** The script after validation: `edits` always there, `error` always an object. */
export interface Script {
  result?: string;
  assistant?: string[];
  edits: Edit[];
  error?: FakeCursorError & {
    message?: string;
    exitCode?: number;
    stderr?: string;
    stdout?: string;
    text?: string;
    ms?: number;
    bytes?: number;
  };
  echoEnv?: string[];
  echoApiKey?: boolean;
  delayMs?: number;
  durationApiMs?: number;
}
export type Json = Record<string, unknown>;

const SCRIPT_FENCE = /```bastion-fake-script[ \t]*\r?\n([\s\S]*?)\r?\n?```/;

const EDIT_OPS = new Set(['write', 'create', 'append', 'delete', 'rename', 'chmod', 'symlink', 'mkdir', 'shell']);
const ERROR_KINDS = new Set(['auth', 'usage-limit', 'resource-exhausted', 'crash', 'garbage', 'hang', 'huge-output']);

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseMode(mode: unknown, where: string): number | undefined {
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
  if (
    script.assistant !== undefined &&
    !(Array.isArray(script.assistant) && script.assistant.every((s: unknown) => typeof s === 'string'))
  ) {
    throw new FakeMisuse('assistant must be an array of strings');
  }
  if (script.echoEnv !== undefined) {
    if (typeof script.echoEnv === 'string') script.echoEnv = [script.echoEnv];
    if (!Array.isArray(script.echoEnv) || !script.echoEnv.every((s: unknown) => typeof s === 'string'))
      throw new FakeMisuse('echoEnv must be a string or string[]');
  }
  for (const key of ['delayMs', 'durationApiMs']) {
    if (script[key] !== undefined && !(Number.isInteger(script[key]) && (script[key] as number) >= 0))
      throw new FakeMisuse(`${key} must be a non-negative integer`);
  }
  script.edits = script.edits === undefined ? [] : script.edits;
  if (!Array.isArray(script.edits)) throw new FakeMisuse('edits must be an array');
  script.edits.forEach((edit: unknown, i: number) => {
    const where = `edits[${i}]`;
    if (!isObject(edit) || typeof edit.op !== 'string' || !EDIT_OPS.has(edit.op))
      throw new FakeMisuse(`${where}: op must be one of ${[...EDIT_OPS].join(', ')}`);
    if (edit.op === 'shell') {
      if (typeof edit.command !== 'string') throw new FakeMisuse(`${where}: shell needs a command`);
      return;
    }
    if (typeof edit.path !== 'string' || edit.path === '')
      throw new FakeMisuse(`${where}: path must be a non-empty string`);
    if ((edit.op === 'write' || edit.op === 'create' || edit.op === 'append') && typeof edit.content !== 'string') {
      throw new FakeMisuse(`${where}: ${edit.op} needs content (string)`);
    }
    if (edit.op === 'rename' && (typeof edit.to !== 'string' || edit.to === ''))
      throw new FakeMisuse(`${where}: rename needs to`);
    if (edit.op === 'symlink' && typeof edit.target !== 'string')
      throw new FakeMisuse(`${where}: symlink needs target`);
    if (edit.op === 'chmod' && edit.mode === undefined) throw new FakeMisuse(`${where}: chmod needs mode`);
    if (edit.encoding !== undefined && edit.encoding !== 'utf8' && edit.encoding !== 'base64')
      throw new FakeMisuse(`${where}: encoding is utf8 or base64`);
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

export function loadScript(prompt: string): { script: Script; userPrompt: string } {
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
