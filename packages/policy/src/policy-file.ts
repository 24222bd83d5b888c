import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { BastionError } from '@bastion/core';
import { DEFAULT_POLICY_INPUT } from './default-policy';
import { Policy } from './policy-schema';

export interface PolicyProblem {
  /** Where in the document, e.g. `resources.max.memory` or `network.allow[2]`; empty for the whole file. */
  path: string;
  message: string;
  /** 1-based line in the file, when it could be located. */
  line?: number;
}

export type PolicyCheck = { ok: true; policy: Policy; problems: [] } | { ok: false; problems: PolicyProblem[] };

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += (out === '' ? '' : '.') + String(seg);
  }
  return out;
}

function problemsOf(error: z.ZodError): { path: PropertyKey[]; message: string }[] {
  const out: { path: PropertyKey[]; message: string }[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ path: [...issue.path, key], message: 'unknown field (check its spelling or the policy version)' });
    } else if (issue.code === 'invalid_union' && issue.path.length > 0) {
      out.push({ path: issue.path, message: 'invalid value: expected a number or a size such as 512m' });
    } else {
      out.push({ path: issue.path, message: issue.message });
    }
  }
  return out;
}

/**
 * Checks policy text (YAML or JSON; JSON is YAML) and reports every problem with its place in the
 * document. Pure: no file access.
 */
export function checkPolicyText(text: string): PolicyCheck {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: '',
        message: `not valid YAML/JSON: ${e.message.split('\n')[0]}`,
        line: lineCounter.linePos(e.pos[0]).line,
      })),
    };
  }
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return {
      ok: false,
      problems: [
        {
          path: '',
          message:
            'a policy is a mapping with at least "version: 1"; what it leaves out comes from the embedded default (`bastion policy show-default`)',
        },
      ],
    };
  }
  const parsed = Policy.safeParse(mergeOverDefault(data as Record<string, unknown>));
  if (parsed.success) return { ok: true, policy: parsed.data, problems: [] };
  const problems = problemsOf(parsed.error).map(({ path, message }) => {
    const problem: PolicyProblem = { path: formatPath(path), message };
    const line = lineOf(doc, path, lineCounter);
    if (line !== undefined) problem.line = line;
    return problem;
  });
  return { ok: false, problems };
}

/**
 * A policy file says only what it changes: its mappings are merged over the embedded default
 * (`DEFAULT_POLICY_INPUT`) key by key, and a list or value it gives replaces the default's, so
 * `network.allow: [a]` is exactly that list. `version` is never filled in: the file must say
 * which format it is written in.
 */
export function mergeOverDefault(file: Record<string, unknown>): Record<string, unknown> {
  const defaults: Record<string, unknown> = { ...DEFAULT_POLICY_INPUT };
  delete defaults.version;
  return mergeMappings(defaults, file);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function mergeMappings(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isMapping(current) && isMapping(value) ? mergeMappings(current, value) : value;
  }
  return out;
}

function lineOf(doc: ReturnType<typeof parseDocument>, path: PropertyKey[], counter: LineCounter): number | undefined {
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as
      { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

/**
 * `checkPolicy(pathOrText)`: a single-line string naming an existing file is read from disk;
 * anything else is taken as the policy text itself.
 */
export function checkPolicy(pathOrText: string): PolicyCheck {
  if (!pathOrText.includes('\n') && !pathOrText.trimStart().startsWith('{') && existsSync(pathOrText)) {
    let text: string;
    try {
      text = readFileSync(pathOrText, 'utf8');
    } catch (err) {
      return {
        ok: false,
        problems: [
          { path: '', message: `cannot read ${pathOrText}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` },
        ],
      };
    }
    return checkPolicyText(text);
  }
  return checkPolicyText(pathOrText);
}

/** Parses policy text or throws INVALID_INPUT with every problem in `details.problems`. */
export function parsePolicyText(text: string, source = 'policy'): Policy {
  const result = checkPolicyText(text);
  if (result.ok) return result.policy;
  const first = result.problems[0];
  const more =
    result.problems.length > 1
      ? ` (and ${result.problems.length - 1} more: \`bastion policy check ${source}\` lists them all)`
      : '';
  throw new BastionError(
    'INVALID_INPUT',
    `${source} is not a valid policy: ${first.path ? first.path + ': ' : ''}${first.message}${more}`,
    {
      details: { source, problems: result.problems },
    },
  );
}

/** Reads a policy file's text; an unreadable file is INVALID_INPUT. */
export async function readPolicyText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BastionError('INVALID_INPUT', `cannot read the policy file ${path} (${code ?? 'error'})`, {
      cause: err,
      retryable: false,
      details: { source: path },
    });
  }
}

/** Reads and validates a policy file; a bad file throws INVALID_INPUT and nothing of it is used. */
export async function loadPolicyFile(path: string): Promise<Policy> {
  return parsePolicyText(await readPolicyText(path), path);
}
