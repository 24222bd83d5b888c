import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BastionError } from '@bastion/core';

/** The optional host configuration file (YAML or JSON): what is not policy and not a flag. */
export const BastionConfig = z
  .object({
    providers: z
      .object({
        cursor: z
          .object({ agentPath: z.string().min(1).optional().describe('cursor-agent executable on this host (after --agent-path, before BASTION_CURSOR_AGENT and PATH)') })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type BastionConfig = z.infer<typeof BastionConfig>;

export const DEFAULT_CONFIG_FILE = 'bastion.config.yaml';

/** Reads BASTION_CONFIG, else ./bastion.config.yaml when present; a bad file is INVALID_INPUT with every problem. */
export function loadBastionConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): BastionConfig {
  const explicit = env.BASTION_CONFIG;
  const path = resolve(cwd, explicit ?? DEFAULT_CONFIG_FILE);
  if (!existsSync(path)) {
    if (explicit) throw new BastionError('INVALID_INPUT', `config file ${path} (BASTION_CONFIG) does not exist`);
    return {};
  }
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8')) ?? {};
  } catch (err) {
    throw new BastionError('INVALID_INPUT', `config file ${path} is not valid YAML/JSON: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const parsed = BastionConfig.safeParse(doc);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new BastionError('INVALID_INPUT', `config file ${path}: ${problems.map((p) => `${p.path || '(document)'}: ${p.message}`).join('; ')}`, { details: { problems } });
  }
  return parsed.data;
}
