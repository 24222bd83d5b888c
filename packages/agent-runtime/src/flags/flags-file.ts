import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { z } from 'zod';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { BastionError } from '@bastion/core';

/** The flags file: one flat map of flag name to scalar, YAML or JSON (chosen by extension). */
export const FlagsFileDocument = z
  .record(
    z.string().regex(/^FF_[A-Z0-9_]+$/, 'flag names are FF_ followed by A-Z, 0-9 or _'),
    z.union([z.boolean(), z.number(), z.string(), z.null()]),
  )
  .describe('Flag name (as the environment variable) to value; null or absent means "not set here"');
export type FlagsFileDocument = z.infer<typeof FlagsFileDocument>;

/** Parses the file's text; an empty file is an empty map. Throws INVALID_INPUT listing every problem. */
export function parseFlagsFile(text: string, file: string): FlagsFileDocument {
  let doc: unknown;
  try {
    doc = isJson(file) ? JSON.parse(text || '{}') : parseYaml(text);
  } catch (err) {
    const at = parseErrorLine(err, text);
    const reason = (err as Error).message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new BastionError(
      'INVALID_INPUT',
      `flags file ${file}${at ? `:${at.line}:${at.col}` : ''} is not valid ${isJson(file) ? 'JSON' : 'YAML'}: ${reason}`,
      {
        cause: err,
        ...(at ? { details: { file, ...at } } : {}),
      },
    );
  }
  const parsed = FlagsFileDocument.safeParse(doc ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new BastionError(
      'INVALID_INPUT',
      `flags file ${file} is invalid: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`,
      { details: { problems } },
    );
  }
  return parsed.data;
}

/** Reads the file; a missing file is an empty map. */
export async function readFlagsFile(file: string): Promise<FlagsFileDocument> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new BastionError('INVALID_INPUT', `cannot read flags file ${file}`, { cause: err });
  }
  return parseFlagsFile(text, file);
}

/**
 * Writes the whole document atomically: a temporary file in the same directory, then rename(2),
 * so a watcher or a concurrent reader sees the old file or the new one, never half of either.
 */
export async function writeFlagsFileAtomic(file: string, doc: FlagsFileDocument): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true });
  const sorted = Object.fromEntries(Object.entries(doc).sort(([a], [b]) => a.localeCompare(b)));
  const text = isJson(file) ? JSON.stringify(sorted, null, 2) + '\n' : stringifyYaml(sorted);
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, text, { mode: 0o644, flag: 'wx' });
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw new BastionError('INVALID_INPUT', `cannot write flags file ${file}`, { cause: err });
  }
}

function isJson(file: string): boolean {
  return extname(file).toLowerCase() === '.json';
}

/** Where a YAML (linePos) or JSON (position N) parse error is, 1-based, so an editor can jump there. */
function parseErrorLine(err: unknown, text: string): { line: number; col: number } | undefined {
  const linePos = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
  if (linePos) return { line: linePos.line, col: linePos.col };
  const position = /position (\d+)/.exec((err as Error).message);
  if (!position) return undefined;
  const before = text.slice(0, Number(position[1])).split('\n');
  return { line: before.length, col: before.at(-1)!.length + 1 };
}
