import type { Command } from 'commander';
import { createSecretStore } from '@bastion/security';
import { runDoctor, type DoctorCheck } from '../../doctor/doctor';
import { printJson } from '../output';
import type { CliContext } from '../cli-context';

export function registerDoctor(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('check the Docker engine, images, cgroups, seccomp and backends; each problem comes with a fix')
    .option('--json', 'print one JSON document on stdout')
    .action(async (opts: { json?: boolean }) => {
      const checks = await runDoctor({ secrets: createSecretStore(), env: process.env });
      const ok = checks.every((c) => c.status !== 'fail');
      if (opts.json) printJson(ctx.io, { ok, checks });
      else ctx.io.stderr(checks.map(formatCheck).join('') + (ok ? 'all required checks passed\n' : 'some required checks failed\n'));
      ctx.setExitCode(ok ? 0 : 1);
    });
}

function formatCheck(c: DoctorCheck): string {
  const mark = c.status === 'ok' ? 'ok  ' : c.status === 'warn' ? 'warn' : 'FAIL';
  return `[${mark}] ${c.name}: ${c.detail}\n${c.fix && c.status !== 'ok' ? `       fix: ${c.fix}\n` : ''}`;
}
