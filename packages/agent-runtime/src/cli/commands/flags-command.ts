import type { Command } from 'commander';
import { BastionError } from '@bastion/core';
import type { FlagEvaluation } from '../../flags/flag-service';
import { flagDefinition, parseFlagValue } from '../../flags/flag-catalogue';
import { readFlagsFile, writeFlagsFileAtomic } from '../../flags/flags-file';
import { printJson } from '../output';
import type { CliContext } from '../cli-context';

interface FlagsOptions {
  file?: string;
  json?: boolean;
}

const FILE_HELP = 'flags file ops point at; it overrides FF_* variables (default: $BASTION_FLAGS_FILE; else only the environment and a system flags file, $XDG_CONFIG_HOME/bastion/flags.yaml or /etc/bastion/flags.yaml, which the environment overrides)';

export function registerFlags(program: Command, ctx: CliContext): void {
  const flags = program.command('flags').description('show and change feature flags (the flags file overrides FF_* environment variables)');
  const common = (cmd: Command) =>
    cmd.option('--file <file>', FILE_HELP).option('--json', 'print one JSON document on stdout');

  common(flags.command('list').description('every flag with its value, the source that set it, and why')).action(async (opts: FlagsOptions) => {
    const settings = ctx.settings({ flagsFile: opts.file });
    const service = await ctx.flagService();
    try {
      const all = await service.list();
      if (opts.json) printJson(ctx.io, { file: settings.flagsFile?.value ?? null, systemFile: settings.systemFlagsFile ?? null, flags: all });
      else ctx.io.stderr(all.map(describe).join(''));
      ctx.setExitCode(0);
    } finally {
      await service.close();
    }
  });

  common(flags.command('get').description('one flag').argument('<name>', 'flag name, e.g. FF_CURSOR_AUTOFIX')).action(async (name: string, opts: FlagsOptions) => {
    ctx.settings({ flagsFile: opts.file });
    const service = await ctx.flagService();
    try {
      const evaluation = await service.evaluate(name);
      if (opts.json) printJson(ctx.io, evaluation);
      else ctx.io.stderr(describe(evaluation));
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
      .description('write a flag into the flags file (atomically: temp file + rename); a running service sees it on its next call')
      .argument('<name>', 'flag name, e.g. FF_CURSOR_AUTOFIX')
      .argument('<value>', 'new value, e.g. true, off, bwrap, 2'),
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
      if (opts.json) printJson(ctx.io, { file, name, value: parsed.value });
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
