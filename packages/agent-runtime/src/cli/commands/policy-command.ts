import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { BastionError } from '@bastion/core';
import { checkPolicyText } from '@bastion/policy';
import { printJson } from '../output';
import type { CliContext } from '../cli-context';

export function registerPolicy(program: Command, ctx: CliContext): void {
  const policy = program.command('policy').description('work with policy files');
  policy
    .command('check')
    .description('validate a policy file; reports every problem with its path in the document')
    .argument('<file>', 'policy file (YAML or JSON)')
    .option('--json', 'print one JSON document on stdout')
    .action((file: string, opts: { json?: boolean }) => {
      if (!existsSync(file)) return ctx.fail(new BastionError('INVALID_INPUT', `policy file ${file} does not exist`), opts.json);
      const result = checkPolicyText(readFileSync(file, 'utf8'));
      if (opts.json) {
        printJson(ctx.io, {
          file,
          ok: result.ok,
          problems: result.problems,
          ...(result.ok ? {} : { error: new BastionError('INVALID_INPUT', `${result.problems.length} problem(s) in ${file}`).toInfo() }),
        });
      } else if (result.ok) {
        ctx.io.stderr(`${file}: ok\n`);
      } else {
        for (const p of result.problems) ctx.io.stderr(`${file}:${p.line ?? ''}${p.line ? ':' : ''} ${p.path || '(document)'}: ${p.message}\n`);
      }
      ctx.setExitCode(result.ok ? 0 : 125);
    });
}
