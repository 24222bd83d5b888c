import type { Command } from 'commander';
import { createSecretStore } from '@bastion/security';
import { providerRegistry } from '@bastion/providers';
import { describeSettings } from '@bastion/agent-runtime';
import { runDoctor, type DoctorCheck } from '../../doctor/doctor';
import { providerKeyEnvHelp } from '../../doctor/doctor-env-help';
import { printJson } from '../output';
import type { CliContext } from '../cli-context';
import { COMMON_ENV, EXIT_CODES, withHelp } from '../help-text';

/** A required check failed: calls cannot run here until its fix is applied (the CLI's "could not do it"). */
export const DOCTOR_FAILED_EXIT = 125;

export function registerDoctor(program: Command, ctx: CliContext): void {
  const doctor = program
    .command('doctor')
    .description('check the Docker engine, images, cgroups, seccomp and backends; each problem comes with a fix')
    .option('--json', 'print one JSON document on stdout')
    .option('--config <file>', 'config file to report on (default: $BASTION_CONFIG, else the system config file)')
    .option('--flags-file <file>', 'flags file to report on (default: $BASTION_FLAGS_FILE)')
    .option('--image <image>', 'also check this image, the one you give `bastion exec --image`')
    .action(async (opts: { json?: boolean; config?: string; flagsFile?: string; image?: string }) => {
      // Which file and variable set what, so "why is autofix on?" has an answer on the host.
      const settings = describeSettings(ctx.settings({ config: opts.config, flagsFile: opts.flagsFile }));
      const checks = await runDoctor({
        secrets: createSecretStore(),
        env: ctx.env,
        ...(opts.image !== undefined ? { execImage: opts.image } : {}),
      });
      const ok = checks.every((c) => c.status !== 'fail');
      if (opts.json) await printJson(ctx.io, { ok, checks, settings });
      // The report is the command's output (stdout); only the verdict line is a diagnostic.
      else {
        ctx.io.stdout(checks.map(formatCheck).join('') + formatSettings(settings));
        ctx.io.stderr(
          ok
            ? 'bastion doctor: all required checks passed\n'
            : `bastion doctor: some required checks failed; apply each fix above (exit ${DOCTOR_FAILED_EXIT})\n`,
        );
      }
      ctx.setExitCode(ok ? 0 : DOCTOR_FAILED_EXIT);
    });
  withHelp(doctor, {
    example: 'bastion doctor --json | jq \'.checks[] | select(.status != "ok")\'',
    exitCodes: [
      EXIT_CODES.ok.replace('the call succeeded', 'every required check passed (warnings allowed)'),
      EXIT_CODES.usage,
      '125  a required check failed; each comes with its fix',
    ],
    env: {
      DOCKER_HOST: 'the Docker engine to check (default unix:///var/run/docker.sock)',
      ...providerKeyEnvHelp(providerRegistry.manifests),
      ...COMMON_ENV,
      BASTION_FLAGS_FILE: 'flags file to report on',
    },
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
