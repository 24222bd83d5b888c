import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { BastionError } from '@bastion/core';
import { checkPolicyText, defaultPolicyYaml } from '@bastion/policy';
import { printJson } from '../output';
import type { CliContext } from '../cli-context';
import { EXIT_CODES, withHelp } from '../help-text';

export function registerPolicy(program: Command, ctx: CliContext): void {
  const policy = program.command('policy').description('work with policy files');
  const check = policy
    .command('check')
    .description(
      'validate a policy file (merged over the embedded default); reports every problem with its path and line',
    )
    .argument('<file>', 'policy file (YAML or JSON)')
    .option('--json', 'print one JSON document on stdout')
    .action(async (file: string, opts: { json?: boolean }) => {
      if (!existsSync(file)) {
        return ctx.fail(
          new BastionError(
            'INVALID_INPUT',
            `policy file ${file} does not exist; start from the default: bastion policy show-default > ${file}`,
          ),
          opts.json,
        );
      }
      const result = checkPolicyText(readFileSync(file, 'utf8'));
      if (opts.json) {
        await printJson(ctx.io, {
          file,
          ok: result.ok,
          problems: result.problems,
          ...(result.ok
            ? {}
            : { error: new BastionError('INVALID_INPUT', `${result.problems.length} problem(s) in ${file}`).toInfo() }),
        });
      } else if (result.ok) {
        // The verdict and each problem are the command's output: `bastion policy check p.yaml | grep network` works.
        ctx.io.stdout(`${file}: ok\n`);
      } else {
        for (const p of result.problems)
          ctx.io.stdout(`${file}:${p.line ?? ''}${p.line ? ':' : ''} ${p.path || '(document)'}: ${p.message}\n`);
        ctx.io.stderr(
          `bastion: ${result.problems.length} problem(s) in ${file}; nothing of it is used until all are fixed\n`,
        );
      }
      ctx.setExitCode(result.ok ? 0 : 125);
    });
  withHelp(check, {
    example: 'bastion policy check my-policy.yaml',
    exitCodes: [
      EXIT_CODES.ok.replace('the call succeeded', 'the file is a valid policy'),
      EXIT_CODES.usage,
      '125  the file is missing or has problems (each listed with its line)',
    ],
    env: {},
  });

  const showDefault = policy
    .command('show-default')
    .description('print the embedded default policy as YAML: a file needs only version: 1 and what it changes')
    .action(() => {
      ctx.io.stdout(defaultPolicyYaml());
      ctx.setExitCode(0);
    });
  withHelp(showDefault, {
    example: 'bastion policy show-default > my-policy.yaml',
    exitCodes: [EXIT_CODES.ok, EXIT_CODES.usage],
    env: {},
  });
}
