import type { Command } from 'commander';
import { createSecretStore } from '@bastion/security';
import { describeSettings } from '../../config/settings';
import { runDoctor, type DoctorCheck } from '../../doctor/doctor';
import { printJson } from '../output';
import type { CliContext } from '../cli-context';

export function registerDoctor(program: Command, ctx: CliContext): void {
  program
    .command('doctor')
    .description('check the Docker engine, images, cgroups, seccomp and backends; each problem comes with a fix')
    .option('--json', 'print one JSON document on stdout')
    .option('--config <file>', 'config file to report on (default: $BASTION_CONFIG, else the system config file)')
    .option('--flags-file <file>', 'flags file to report on (default: $BASTION_FLAGS_FILE)')
    .action(async (opts: { json?: boolean; config?: string; flagsFile?: string }) => {
      // Which file and variable set what, so "why is autofix on?" has an answer on the host.
      const settings = describeSettings(ctx.settings({ config: opts.config, flagsFile: opts.flagsFile }));
      const checks = await runDoctor({ secrets: createSecretStore(), env: process.env });
      const ok = checks.every((c) => c.status !== 'fail');
      if (opts.json) printJson(ctx.io, { ok, checks, settings });
      else ctx.io.stderr(checks.map(formatCheck).join('') + formatSettings(settings) + (ok ? 'all required checks passed\n' : 'some required checks failed\n'));
      ctx.setExitCode(ok ? 0 : 1);
    });
}

function formatSettings(settings: ReturnType<typeof describeSettings>): string {
  return Object.entries(settings)
    .map(([name, s]) => `[set ] ${name}: ${JSON.stringify(s.value)} (${s.source}: ${s.from})\n`)
    .join('');
}

function formatCheck(c: DoctorCheck): string {
  const mark = c.status === 'ok' ? 'ok  ' : c.status === 'warn' ? 'warn' : 'FAIL';
  return `[${mark}] ${c.name}: ${c.detail}\n${c.fix && c.status !== 'ok' ? `       fix: ${c.fix}\n` : ''}`;
}
