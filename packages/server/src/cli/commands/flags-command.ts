import type { Command } from 'commander';
import { BastionError } from '@bastion/core';
import type { FlagEvaluation, Settings } from '@bastion/agent-runtime';
import { flagDefinition, parseFlagValue, readFlagsFile, writeFlagsFileAtomic } from '@bastion/agent-runtime';
import { printJson } from '../output';
import type { CliContext } from '../cli-context';
import { EXIT_CODES, withHelp } from '../help-text';

interface FlagsOptions {
  file?: string;
  json?: boolean;
}

const FILE_HELP =
  'flags file ops point at; it overrides FF_* variables (default: $BASTION_FLAGS_FILE; else only the environment and a system flags file, $XDG_CONFIG_HOME/bastion/flags.yaml or /etc/bastion/flags.yaml, which the environment overrides)';

export function registerFlags(program: Command, ctx: CliContext): void {
  const flags = program
    .command('flags')
    .description('show and change feature flags (the flags file overrides FF_* environment variables)');
  const common = (cmd: Command, example: string) =>
    withHelp(cmd.option('--file <file>', FILE_HELP).option('--json', 'print one JSON document on stdout'), {
      example,
      exitCodes: [
        EXIT_CODES.ok,
        EXIT_CODES.usage,
        '125  an unknown flag, a value that does not parse, or a flags file that does not (its file and line)',
      ],
      env: {
        BASTION_FLAGS_FILE: 'the flags file when --file is not given',
        'FF_*': 'each flag, overridden by the flags file',
        XDG_CONFIG_HOME: 'system flags file $XDG_CONFIG_HOME/bastion/flags.yaml (else /etc/bastion/flags.yaml)',
      },
    });

  common(
    flags.command('list').description('every flag with its value, the source that set it, and why'),
    'bastion flags list | grep AUTOFIX',
  ).action(async (opts: FlagsOptions) => {
    const settings = ctx.settings({ flagsFile: opts.file });
    const broken = await brokenFlagsFile(settings);
    if (broken) return ctx.fail(broken, opts.json);
    const service = await ctx.flagService();
    try {
      const all = await service.list();
      if (opts.json)
        await printJson(ctx.io, {
          file: settings.flagsFile?.value ?? null,
          systemFile: settings.systemFlagsFile ?? null,
          flags: all,
        });
      // The command's own output: `bastion flags list | grep AUTOFIX` works.
      else ctx.io.stdout(all.map(describe).join(''));
      ctx.setExitCode(0);
    } finally {
      await service.close();
    }
  });

  common(
    flags.command('get').description('one flag').argument('<name>', 'flag name, e.g. FF_CURSOR_AUTOFIX'),
    'bastion flags get FF_CURSOR_AUTOFIX --json',
  ).action(async (name: string, opts: FlagsOptions) => {
    const broken = await brokenFlagsFile(ctx.settings({ flagsFile: opts.file }));
    if (broken) return ctx.fail(broken, opts.json);
    const service = await ctx.flagService();
    try {
      const evaluation = await service.evaluate(name);
      if (opts.json) await printJson(ctx.io, evaluation);
      else ctx.io.stdout(describe(evaluation));
      ctx.setExitCode(0);
    } catch (err) {
      ctx.fail(BastionError.from(err, 'INVALID_INPUT'), opts.json);
    } finally {
      await service.close();
    }
  });

  common(
    flags
      .command('set')
      .description(
        'write a flag into the flags file (atomically: temp file + rename); a running service sees it on its next call',
      )
      .argument('<name>', 'flag name, e.g. FF_CURSOR_AUTOFIX')
      .argument('<value>', 'new value, e.g. true, off, bwrap, 2'),
    'bastion flags set FF_CURSOR_AUTOFIX true --file /etc/bastion/flags.yaml',
  ).action(async (name: string, value: string, opts: FlagsOptions) => {
    try {
      const settings = ctx.settings({ flagsFile: opts.file });
      // Written where it is read: the explicit file, else the system file in force. A flags file
      // is never created in the working directory, where the next checkout could bring its own.
      const file = settings.flagsFile?.value ?? settings.systemFlagsFile;
      if (!file) {
        throw new BastionError(
          'INVALID_INPUT',
          `${name}: no flags file to write; name one with --file or BASTION_FLAGS_FILE (and start serve/mcp with the same --flags-file), or create $XDG_CONFIG_HOME/bastion/flags.yaml or /etc/bastion/flags.yaml`,
        );
      }
      const def = flagDefinition(name);
      const parsed = parseFlagValue(def, value);
      // Refuse to write what would only be read back as "unparseable, default".
      if (!parsed.ok) throw new BastionError('INVALID_INPUT', `${name}: ${parsed.problem}; nothing was written`);
      const doc = await readFlagsFile(file);
      doc[name] = parsed.value;
      await writeFlagsFileAtomic(file, doc);
      if (opts.json) await printJson(ctx.io, { file, name, value: parsed.value });
      else ctx.io.stderr(`${name}=${String(parsed.value)} written to ${file}\n`);
      ctx.setExitCode(0);
    } catch (err) {
      ctx.fail(BastionError.from(err, 'INVALID_INPUT'), opts.json);
    }
  });
}

function describe(e: FlagEvaluation): string {
  return `${e.name}=${String(e.value)}  [${e.source}] ${e.reason}${e.unparseable ? '  (!)' : ''}\n`;
}

/**
 * A flags file in force that does not parse. A running service keeps its last good version and
 * only logs the problem, so asking `flags list`/`get` is where a person learns of it: the parse
 * error (file, line) and a non-zero exit, never values that silently ignore the file.
 */
async function brokenFlagsFile(
  settings: Pick<Settings, 'flagsFile' | 'systemFlagsFile'>,
): Promise<BastionError | undefined> {
  for (const file of [settings.flagsFile?.value, settings.systemFlagsFile]) {
    if (!file) continue;
    try {
      await readFlagsFile(file);
    } catch (err) {
      const error = BastionError.from(err, 'INVALID_INPUT');
      return new BastionError(
        'INVALID_INPUT',
        `${error.message}; fix the file (a running bastion serve/mcp ignores it and keeps the last version that parsed until then)`,
        { cause: err, ...(error.details ? { details: error.details } : {}) },
      );
    }
  }
  return undefined;
}
