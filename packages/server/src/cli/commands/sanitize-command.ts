import type { Command } from 'commander';
import { createOutputSanitizer } from '@bastion/security';
import { hostPathOptions } from '@bastion/agent-runtime';
import { printJson } from '../output';
import type { CliContext } from '../cli-context';
import { EXIT_CODES, withHelp } from '../help-text';

export function registerSanitize(
  program: Command,
  ctx: CliContext,
  stdin: AsyncIterable<Uint8Array> = process.stdin,
): void {
  const sanitize = program
    .command('sanitize')
    .description('copy standard input to standard output through the OutputSanitizer')
    .option('--json', 'print one document {"text", "redactions"} instead of streaming')
    .action(async (opts: { json?: boolean }) => {
      const stream = createOutputSanitizer({ hostPaths: hostPathOptions() }).createStream();
      const parts: string[] = [];
      const emit = (text: string) => {
        if (text.length === 0) return;
        if (opts.json) parts.push(text);
        else ctx.io.stdout(text);
      };
      for await (const chunk of stdin) emit(stream.write(chunk));
      emit(stream.end());
      const redactions = stream.redactions();
      if (opts.json) await printJson(ctx.io, { text: parts.join(''), redactions });
      else if (redactions.length > 0)
        ctx.io.stderr(`bastion: redacted ${redactions.map((r) => `${r.ruleId}×${r.count}`).join(', ')}\n`);
    });
  withHelp(sanitize, {
    example: 'bastion sanitize < build.log > clean.log',
    exitCodes: [
      EXIT_CODES.ok.replace('the call succeeded', 'the input was copied (redactions are not an error)'),
      EXIT_CODES.usage,
    ],
    env: { BASTION_AUDIT_LOG: 'where audit events go (JSON lines; default stderr)' },
  });
}
