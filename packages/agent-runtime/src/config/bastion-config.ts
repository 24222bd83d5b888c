import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BastionError } from '@bastion/core';

/** The host configuration file (YAML or JSON): what is not policy and not a flag. Read only from an explicit or a system location. */
export const BastionConfig = z
  .object({
    workspaceRoots: z
      .array(z.string().min(1))
      .optional()
      .describe(
        "Directories serve and mcp accept workspaces under (relative entries are resolved against this file's directory); --workspace-root replaces the list",
      ),
    providers: z
      .object({
        cursor: z
          .object({
            agentPath: z
              .string()
              .min(1)
              .optional()
              .describe(
                'cursor-agent executable on this host (after --agent-path; an explicit config file beats BASTION_CURSOR_AGENT, a system one does not)',
              ),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type BastionConfig = z.infer<typeof BastionConfig>;

/** Reads one config file; paths in it are made absolute against the file's directory. A missing or bad file is INVALID_INPUT with every problem. */
export function readBastionConfigFile(file: string): BastionConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BastionError(
      'INVALID_INPUT',
      `config file ${path} cannot be read (${code ?? 'error'}); fix --config / BASTION_CONFIG or create the file`,
      { cause: err },
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (err) {
    throw new BastionError(
      'INVALID_INPUT',
      `config file ${path} is not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`,
      { cause: err },
    );
  }
  const parsed = BastionConfig.safeParse(doc);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new BastionError(
      'INVALID_INPUT',
      `config file ${path}: ${problems.map((p) => `${p.path || '(document)'}: ${p.message}`).join('; ')}`,
      { details: { problems } },
    );
  }
  const base = dirname(path);
  const absolute = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const config = parsed.data;
  return {
    ...(config.workspaceRoots ? { workspaceRoots: config.workspaceRoots.map(absolute) } : {}),
    ...(config.providers?.cursor?.agentPath
      ? { providers: { cursor: { agentPath: absolute(config.providers.cursor.agentPath) } } }
      : {}),
  };
}
